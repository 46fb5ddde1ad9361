"""An answer's scope (the parts of its query a front end shows as removable chips) and
`remove_scope=` of `ask`, `ask_async` and `ask_stream`: removing a part asks again, as a new turn
of the same conversation, and an id that names no part is an `InvalidInputError` with nothing
run. On the built-in demo database with the offline generator, blocking and as a coroutine."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import List

import pytest
from conftest import Twin

import conversational_bi as cbi

TOP5_GENRES = [("Rock", 1297), ("Latin", 579), ("Metal", 374), ("Alternative & Punk", 332), ("Jazz", 130)]

#: What a plain-word label never holds: SQL keywords, qualified or quoted names, operators.
NOT_PLAIN = re.compile(r"\b(SELECT|GROUP BY|ORDER BY|LIMIT|COUNT|DESC|ASC)\b|[A-Za-z]\.[A-Za-z]|[()*;=<>\"'`]")


def test_an_answer_lists_its_scope_in_plain_words(twin: Twin) -> None:
    top = twin.ask("Top 5 genres by number of tracks")
    assert top.rows == TOP5_GENRES
    assert all(isinstance(item, cbi.ScopeItem) for item in top.scope)
    assert [(i.id, i.kind, i.label) for i in top.scope] == [
        ("group:0", "group", "by genre"),
        ("order", "order", "sorted by the number of tracks, largest first"),
        ("limit", "limit", "top 5"),
    ]
    for item in top.scope:
        assert item.label.strip() == item.label and item.label, item
        assert not NOT_PLAIN.search(item.label), item
    # A NamedTuple: unpacks and compares as a tuple.
    ident, kind, label = top.scope[2]
    assert (ident, kind, label) == top.scope[2] == ("limit", "limit", "top 5")
    # The JSON document carries the same items.
    assert '"scope":[{"id":"group:0","kind":"group","label":"by genre"}' in top.to_json()
    # An answer without removable parts has an empty scope.
    assert twin.ask("How many genres are there?").scope == []


def test_removing_the_limit_asks_again_in_the_same_conversation(twin: Twin) -> None:
    top = twin.ask("Top 5 genres by number of tracks")
    every = twin.ask("", session_id=top.session_id, remove_scope="limit")
    assert (every.session_id, every.turn) == (top.session_id, 2)
    assert every.row_count == len(every.rows) == 25 > 5
    assert every.rows[:5] == top.rows  # still sorted, largest first
    assert "LIMIT 5" not in every.sql and not every.cache_hit
    assert [i.id for i in every.scope] == ["group:0", "order"]
    assert [t.question for t in twin.session(top.session_id).turns] == [
        "Top 5 genres by number of tracks",
        'without "top 5"',
    ]
    # A follow-up continues from the answer without the limit.
    top3 = twin.ask("top 3 instead", session_id=top.session_id)
    assert (top3.turn, top3.rows) == (3, TOP5_GENRES[:3])
    # Removing the sort takes its limit along.
    unsorted = twin.ask("", session_id=top.session_id, remove_scope="order")
    assert (unsorted.turn, unsorted.row_count, [i.id for i in unsorted.scope]) == (4, 25, ["group:0"])


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
def test_an_id_that_names_no_part_is_invalid_input_and_nothing_runs(twin: Twin, scope_id: str, says: str) -> None:
    top = twin.ask("Top 5 genres by number of tracks")
    with pytest.raises(cbi.InvalidInputError) as caught:
        twin.ask("", session_id=top.session_id, remove_scope=scope_id)
    e = caught.value
    assert isinstance(e, ValueError) and e.code == "INVALID_INPUT" and not e.retryable
    assert says in str(e), str(e)
    assert len(str(e)) < 1000  # a hostile id is not echoed back whole
    state = twin.session(top.session_id)
    assert state.turn_count == 1 and state.turns[-1].sql == top.sql


def test_a_removal_needs_a_conversation_with_an_answer_and_no_question(twin: Twin) -> None:
    top = twin.ask("Top 5 genres by number of tracks")
    for call, says in [
        (lambda: twin.ask("", remove_scope="limit"), "pass that conversation's session_id too"),
        (
            lambda: twin.ask("top 3", session_id=top.session_id, remove_scope="limit"),
            "send either a question or remove_scope, not both",
        ),
        (
            lambda: twin.ask("", session_id=f"none-{uuid.uuid4()}", remove_scope="limit"),
            "this conversation has none",
        ),
    ]:
        with pytest.raises(cbi.InvalidInputError) as caught:
            call()
        assert says in str(caught.value), str(caught.value)
    assert twin.session(top.session_id).turn_count == 1
    # Another user's conversation has no answer of theirs to remove a part from.
    with pytest.raises(cbi.InvalidInputError, match="this conversation has none"):
        twin.ask("", session_id=top.session_id, user={"id": "mallory"}, remove_scope="limit")


def answer_of(events: List[cbi.AskEvent]) -> cbi.Answer:
    last = events[-1]
    assert isinstance(last, cbi.AnswerEvent), events
    return last.answer


def test_ask_stream_removes_a_part_too(mode: str) -> None:
    if mode == "sync":
        engine = cbi.Engine()
        top = engine.ask("Top 5 genres by number of tracks")
        events = list(engine.ask_stream("", session_id=top.session_id, remove_scope="limit"))
        with pytest.raises(cbi.InvalidInputError, match="is not a scope item's id"):
            engine.ask_stream("", session_id=top.session_id, remove_scope="'; DROP TABLE x; --")
    else:
        aengine = cbi.AsyncEngine()

        async def run() -> List[cbi.AskEvent]:
            top = await aengine.ask("Top 5 genres by number of tracks")
            with pytest.raises(cbi.InvalidInputError, match="is not a scope item's id"):
                aengine.ask_stream("", session_id=top.session_id, remove_scope="'; DROP TABLE x; --")
            return [e async for e in aengine.ask_stream("", session_id=top.session_id, remove_scope="limit")]

        events = asyncio.run(run())
    every = answer_of(events)
    assert (every.turn, every.row_count) == (2, 25)
    rows = [e for e in events if isinstance(e, cbi.RowsEvent)]
    assert len(rows) == 1 and rows[0].rows == every.rows
