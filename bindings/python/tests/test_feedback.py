"""Feedback (`Engine.feedback`, `AsyncEngine.feedback`) and the answer fields that come with the
semantic model (`kind`, `verified`, `suggestions`), on the built-in demo database with a
`[feedback]` SQLite file in a temporary folder and the demo's semantic model."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest
from conftest import REPO, Twin

import conversational_bi as cbi

MODEL = REPO / "models" / "chinook.yaml"


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """Where the engine keeps feedback (created at the first feedback)."""
    return tmp_path / "feedback.db"


@pytest.fixture
def engine(mode: str, store: Path) -> Iterator[Twin]:
    t = Twin(
        mode,
        feedback={"path": str(store)},
        semantic={"model": str(MODEL)},
        production={"rate_limiting": {"enabled": False}},
    )
    yield t
    t.close()


def stored(store: Path) -> List[Tuple[str, int, str, str, str]]:
    """The records of the store file, read apart from the engine."""
    if not store.exists():
        return []
    with sqlite3.connect(store) as db:
        return db.execute(
            "SELECT session_id, turn, rating, question, sql_text FROM cbi_feedback ORDER BY created_at"
        ).fetchall()


def test_a_rating_is_stored_with_the_turns_question_and_sql(engine: Twin, store: Path) -> None:
    question = "Which 5 artists have the most tracks?"
    answer = engine.ask(question, user={"id": "ann"})
    record = engine.feedback(
        answer.session_id, answer.turn, "up", comment="exactly right", user={"id": "ann"}
    )
    assert isinstance(record, cbi.Feedback)
    assert (record.session_id, record.turn, record.rating, record.status) == (
        answer.session_id,
        answer.turn,
        "up",
        "new",
    )
    assert (record.question, record.sql) == (question, answer.sql)
    assert (record.user_id, record.tenant_id, record.comment, record.corrected_sql) == (
        "ann",
        cbi.DEFAULT_TENANT,
        "exactly right",
        None,
    )
    assert record.id and record.created_at
    with pytest.raises(Exception):
        record.rating = "down"  # type: ignore[misc]  # frozen
    assert stored(store) == [(answer.session_id, 1, "up", question, answer.sql)]


def test_a_correction_that_writes_is_refused_and_nothing_is_stored(engine: Twin, store: Path) -> None:
    answer = engine.ask("How many customers are there?")
    with pytest.raises(cbi.SqlRejectedError) as e:
        engine.feedback(answer.session_id, answer.turn, "down", corrected_sql="DELETE FROM Track")
    assert e.value.code == "SQL_REJECTED"
    assert e.value.reason and e.value.rule == "not_a_query", (e.value.rule, e.value.reason)
    assert stored(store) == []
    # A correction that reads is kept, as given.
    fixed = "SELECT COUNT(*) FROM Customer WHERE Country = 'USA'"
    record = engine.feedback(answer.session_id, answer.turn, "down", corrected_sql=fixed)
    assert (record.rating, record.corrected_sql, record.user_id) == ("down", fixed, "")
    assert len(stored(store)) == 1


def test_an_unknown_turn_or_rating_is_refused(engine: Twin, store: Path) -> None:
    answer = engine.ask("How many genres are there?")
    with pytest.raises(cbi.InvalidInputError, match=r"has no turn 7") as e:
        engine.feedback(answer.session_id, 7, "up")
    assert answer.session_id in str(e.value)
    with pytest.raises(cbi.InvalidInputError, match=r"rating must be"):
        engine.feedback(answer.session_id, answer.turn, "sideways")  # type: ignore[arg-type]
    with pytest.raises(cbi.InvalidInputError, match=r"no session 'nope'"):
        engine.feedback("nope", 1, "up")
    assert stored(store) == []


def test_another_user_cannot_rate_my_session(engine: Twin, store: Path) -> None:
    mine = engine.ask("How many albums are there?", user={"id": "ann"})
    with pytest.raises(cbi.InvalidInputError) as e:
        engine.feedback(mine.session_id, mine.turn, "down", user={"id": "bob"})
    assert mine.session_id in str(e.value)
    with pytest.raises(cbi.InvalidInputError):  # nor the engine's default user
        engine.feedback(mine.session_id, mine.turn, "down")
    assert stored(store) == []
    assert engine.feedback(mine.session_id, mine.turn, "up", user={"id": "ann"}).user_id == "ann"


def test_a_verified_answer_and_a_plain_one(engine: Twin) -> None:
    verified = engine.ask("revenue in Canada by year")
    assert (verified.kind, verified.verified, verified.generator) == ("answer", True, "verified")
    assert verified.row_count > 0
    plain = engine.ask("How many customers are there?")
    assert (plain.kind, plain.verified, plain.clarification) == ("answer", False, None)
    assert plain.rows == [(59,)]
    assert isinstance(plain.suggestions, list)
    assert all(isinstance(s, str) for s in plain.suggestions)
