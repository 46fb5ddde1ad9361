"""An answer's scope (the parts of its query an app shows as removable chips, `ScopeItem` records
with a `ScopeKind`) and the `remove_scope` argument of `ask`: removing a part asks again, as a new
turn of the same conversation, and an id that names no part is `InvalidInput` with nothing run.
On the built-in demo database with the offline generator."""

import re
import uuid

import pytest
from conftest import failure, plain, rows, run

from conversational_bi_ffi import ConversationalBiError as E
from conversational_bi_ffi import Engine, Principal, ScopeItem, ScopeKind, error_code

QUESTION = "Top 5 genres by number of tracks"
TOP5_GENRES = [("Rock", 1297), ("Latin", 579), ("Metal", 374), ("Alternative & Punk", 332), ("Jazz", 130)]

#: What a plain-word label never holds: SQL keywords, qualified or quoted names, operators.
NOT_PLAIN = re.compile(r"\b(SELECT|GROUP BY|ORDER BY|LIMIT|COUNT|DESC|ASC)\b|[A-Za-z]\.[A-Za-z]|[()*;=<>\"'`]")


def test_an_answer_lists_its_scope_in_plain_words():
    async def body():
        engine = Engine()
        top = await engine.ask(QUESTION)
        assert rows(top) == TOP5_GENRES
        assert top.scope == [
            ScopeItem(id="group:0", kind=ScopeKind.GROUP, label="by genre"),
            ScopeItem(id="order", kind=ScopeKind.ORDER, label="sorted by the number of tracks, largest first"),
            ScopeItem(id="limit", kind=ScopeKind.LIMIT, label="top 5"),
        ]
        for item in top.scope:
            assert item.label and item.label.strip() == item.label
            assert not NOT_PLAIN.search(item.label), item
        assert (await engine.ask("How many genres are there?")).scope == []

    run(body())


def test_removing_the_limit_asks_again_in_the_same_conversation():
    async def body():
        engine = Engine()
        top = await engine.ask(QUESTION)
        every = await engine.ask("", session_id=top.session_id, remove_scope="limit")
        assert (every.session_id, every.turn) == (top.session_id, 2)
        assert every.row_count == len(every.rows) == 25 > 5
        assert rows(every)[:5] == TOP5_GENRES  # still sorted, largest first
        assert "LIMIT 5" not in every.sql and not every.cache_hit
        assert [(i.id, i.kind) for i in every.scope] == [("group:0", ScopeKind.GROUP), ("order", ScopeKind.ORDER)]
        state = await engine.session(top.session_id)
        assert [t.question for t in state.turns] == [QUESTION, 'without "top 5"']
        # A follow-up continues from the answer without the limit.
        top3 = await engine.ask("top 3 instead", session_id=top.session_id)
        assert (top3.turn, rows(top3)) == (3, TOP5_GENRES[:3])
        # Removing the sort takes its limit along.
        unsorted = await engine.ask("", session_id=top.session_id, remove_scope="order")
        assert (unsorted.turn, unsorted.row_count, [i.id for i in unsorted.scope]) == (4, 25, ["group:0"])

    run(body())


@pytest.mark.parametrize(
    "scope_id, says",
    [
        ("'; DROP TABLE x; --", "is not a scope item's id"),
        ("x" * 10 * 1024, "remove_scope is 10240 bytes long"),
        ("", "is not a scope item's id"),
        ("filter:0", "names no part of the last answer, whose parts are group:0, order, limit"),
        ("group:1", "names no part of the last answer"),
    ],
    ids=["sql", "10kB", "empty", "filter", "group-1"],
)
def test_an_id_that_names_no_part_is_invalid_input_and_nothing_runs(scope_id, says):
    async def body():
        engine = Engine()
        top = await engine.ask(QUESTION)
        e = await failure(engine.ask("", session_id=top.session_id, remove_scope=scope_id))
        assert isinstance(e, E.InvalidInput) and error_code(e) == "INVALID_INPUT"
        assert says in e.reason, e.reason
        assert len(e.reason) < 1000  # a hostile id is not echoed back whole
        state = await engine.session(top.session_id)
        assert (state.turn_count, state.turns[-1].sql) == (1, top.sql)

    run(body())


def test_a_removal_needs_a_conversation_with_an_answer_and_no_question():
    async def body():
        engine = Engine()
        top = await engine.ask(QUESTION)
        for call, says in [
            (engine.ask("", remove_scope="limit"), "pass that conversation's session_id too"),
            (engine.ask("top 3", session_id=top.session_id, remove_scope="limit"), "send either a question or remove_scope, not both"),
            (engine.ask("", session_id=f"none-{uuid.uuid4()}", remove_scope="limit"), "this conversation has none"),
            # Another user's conversation has no answer of theirs to remove a part from.
            (
                engine.ask("", session_id=top.session_id, user=Principal(user_id="mallory"), remove_scope="limit"),
                "this conversation has none",
            ),
        ]:
            e = await failure(call)
            assert isinstance(e, E.InvalidInput) and says in str(e), str(e)
        assert (await engine.session(top.session_id)).turn_count == 1

    run(body())
