"""Feedback (`Engine.feedback(FeedbackSubmission, user)`) and the answer fields that come with
the semantic model (`kind`, `verified`, `suggestions`), on the built-in demo database with a
`[feedback]` SQLite file in a temporary folder and the demo's semantic model."""

import os
import sqlite3

import pytest
from conftest import failure, run

from conversational_bi_ffi import AnswerKind, Engine, Feedback, FeedbackStatus, FeedbackSubmission, Principal, Rating, error_code
from conversational_bi_ffi import ConversationalBiError as E

MODEL = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "models", "chinook.yaml"))


@pytest.fixture
def store(tmp_path):
    """Where the engine keeps feedback (created at the first feedback)."""
    return str(tmp_path / "feedback.db")


@pytest.fixture
def engine(store):
    return Engine.from_toml(
        f"[feedback]\npath = {store!r}\n[semantic]\nmodel = {MODEL!r}\n"
        "[production.rate_limiting]\nenabled = false\n"
    )


def stored(store):
    """The records of the store file, read apart from the engine."""
    if not os.path.exists(store):
        return []
    with sqlite3.connect(store) as db:
        return db.execute(
            "SELECT session_id, turn, rating, question, sql_text FROM cbi_feedback ORDER BY created_at"
        ).fetchall()


ANN = Principal(user_id="ann")


def test_a_rating_is_stored_with_the_turns_question_and_sql(engine, store):
    async def body():
        question = "Which 5 artists have the most tracks?"
        answer = await engine.ask(question, user=ANN)
        record = await engine.feedback(
            FeedbackSubmission(session_id=answer.session_id, turn=answer.turn, rating=Rating.UP, comment="exactly right"),
            user=ANN,
        )
        assert isinstance(record, Feedback)
        assert (record.session_id, record.turn, record.rating, record.status) == (answer.session_id, 1, Rating.UP, FeedbackStatus.NEW)
        assert (record.question, record.sql) == (question, answer.sql)
        assert (record.user_id, record.tenant_id, record.comment, record.corrected_sql) == ("ann", "default", "exactly right", None)
        assert len(record.id) == 36 and record.created_at
        assert stored(store) == [(answer.session_id, 1, "up", question, answer.sql)]

    run(body())


def test_a_correction_that_writes_is_refused_and_nothing_is_stored(engine, store):
    async def body():
        answer = await engine.ask("How many customers are there?")
        e = await failure(
            engine.feedback(FeedbackSubmission(session_id=answer.session_id, turn=1, rating=Rating.DOWN, corrected_sql="DELETE FROM Track"))
        )
        assert isinstance(e, E.SqlRejected) and error_code(e) == "SQL_REJECTED"
        assert e.rule == "not_a_query" and "corrected_sql is refused" in e.reason, (e.rule, e.reason)
        assert stored(store) == []
        fixed = "SELECT COUNT(*) FROM Customer WHERE Country = 'USA'"
        record = await engine.feedback(FeedbackSubmission(session_id=answer.session_id, turn=1, rating=Rating.DOWN, corrected_sql=fixed))
        assert (record.rating, record.corrected_sql, record.user_id) == (Rating.DOWN, fixed, "")
        assert len(stored(store)) == 1

    run(body())


def test_an_unknown_turn_is_refused_naming_it(engine, store):
    async def body():
        answer = await engine.ask("How many genres are there?")
        e = await failure(engine.feedback(FeedbackSubmission(session_id=answer.session_id, turn=7, rating=Rating.UP)))
        assert isinstance(e, E.InvalidInput) and "has no turn 7" in str(e) and answer.session_id in str(e)
        e = await failure(engine.feedback(FeedbackSubmission(session_id=answer.session_id, turn=0, rating=Rating.UP)))
        assert isinstance(e, E.InvalidInput) and "turn must be 1 or more" in str(e)
        assert stored(store) == []

    run(body())


def test_another_user_cannot_rate_my_session(engine, store):
    async def body():
        mine = await engine.ask("How many albums are there?", user=ANN)
        submission = FeedbackSubmission(session_id=mine.session_id, turn=mine.turn, rating=Rating.DOWN)
        for user in (Principal(user_id="bob"), None):
            e = await failure(engine.feedback(submission, user=user))
            assert isinstance(e, E.InvalidInput) and mine.session_id in str(e), str(e)
        assert stored(store) == []
        assert (await engine.feedback(submission, user=ANN)).user_id == "ann"

    run(body())


def test_a_verified_answer_and_a_plain_one(engine):
    async def body():
        verified = await engine.ask("revenue in Canada by year")
        assert (verified.kind, verified.verified, verified.generator) == (AnswerKind.ANSWER, True, "verified")
        assert verified.row_count > 0
        plain = await engine.ask("How many customers are there?")
        assert (plain.kind, plain.verified, plain.clarification) == (AnswerKind.ANSWER, False, None)
        assert plain.rows[0][0].value == 59
        assert isinstance(plain.suggestions, list) and all(isinstance(s, str) for s in plain.suggestions)

    run(body())
