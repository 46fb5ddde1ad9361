"""`ask_stream`: the progress of an answer, blocking (`for`) and for asyncio (`async for`), on the
built-in demo database and on PostgreSQL and MariaDB, with the offline generator."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, List, Union

import pytest
from conftest import CHINOOK_SQLITE, MYSQL_URL, PG_URL
from fake_openai import FakeOpenAI, Request, sql_reply

import conversational_bi as cbi

Events = List[cbi.AskEvent]
AnyEngine = Union[cbi.Engine, cbi.AsyncEngine]


def collect(engine: AnyEngine, question: str, **kwargs: Any) -> Events:
    """Every event of `question`, read the engine's way (`for` or `async for`)."""
    if isinstance(engine, cbi.Engine):
        return list(engine.ask_stream(question, **kwargs))

    async def read() -> Events:
        return [event async for event in engine.ask_stream(question, **kwargs)]

    return asyncio.run(read())


def make(mode: str, **kwargs: Any) -> AnyEngine:
    return cbi.Engine(**kwargs) if mode == "sync" else cbi.AsyncEngine(**kwargs)


def kinds(events: Events) -> List[str]:
    return [e.kind for e in events]


def last_answer(events: Events) -> cbi.Answer:
    last = events[-1]
    assert isinstance(last, cbi.AnswerEvent), events
    return last.answer


@pytest.mark.parametrize("database", [None, PG_URL, MYSQL_URL], ids=["demo", "postgres", "mariadb"])
def test_stages_then_sql_then_rows_then_the_answer(mode: str, database: Any) -> None:
    engine = make(mode, database=database)
    question = "How many tracks are there per genre?"
    events = collect(engine, question)
    order = kinds(events)
    assert order[0] == "stage" and order[-1] == "answer", order
    assert order.count("sql") == order.count("rows") == order.count("answer") == 1, order
    stage = {e.stage: i for i, e in enumerate(events) if isinstance(e, cbi.StageEvent)}
    sql, rows = order.index("sql"), order.index("rows")
    assert stage["guard"] == 0 and stage["guard"] < stage["generate"] < sql < rows < stage["save"], order

    # The SQL and rows streamed are those of the answer; every stage streamed is timed.
    answer = last_answer(events)
    sql_event, rows_event = events[sql], events[rows]
    assert isinstance(sql_event, cbi.SqlEvent) and isinstance(rows_event, cbi.RowsEvent)
    assert sql_event.sql == answer.sql
    assert rows_event.rows == answer.rows and rows_event.columns == answer.columns
    assert rows_event.truncated == answer.truncated
    assert len(answer.rows) > 1
    assert all(c.name and c.type for c in rows_event.columns)
    for name in stage:
        assert name in answer.timings, name

    # The same answer as `ask` gives.
    asked = cbi.Engine(database=database).ask(question)
    assert (answer.sql, answer.rows, answer.columns) == (asked.sql, asked.rows, asked.columns)
    assert answer.explanation == asked.explanation and answer.turn == asked.turn == 1


def test_a_follow_up_continues_the_conversation(mode: str) -> None:
    engine = make(mode)
    first = last_answer(collect(engine, "Which 5 artists have the most tracks?"))
    assert first.rows[0] == ("Iron Maiden", 213) and first.turn == 1
    events = collect(engine, "top 3 instead", session_id=first.session_id)
    second = last_answer(events)
    assert (second.session_id, second.turn) == (first.session_id, 2)
    assert second.rows == first.rows[:3]
    # The conversation is the engine's, whichever way it was asked.
    if isinstance(engine, cbi.Engine):
        state = engine.session(first.session_id)
    else:
        state = asyncio.run(engine.session(first.session_id))
    assert [t.question for t in state.turns] == ["Which 5 artists have the most tracks?", "top 3 instead"]


def test_a_question_that_fails_raises_after_its_events(mode: str) -> None:
    engine = make(mode)
    seen: Events = []

    def read(question: str) -> None:
        if isinstance(engine, cbi.Engine):
            for event in engine.ask_stream(question):
                seen.append(event)
            return

        async def go() -> None:
            async for event in engine.ask_stream(question):
                seen.append(event)

        asyncio.run(go())

    with pytest.raises(cbi.CannotAnswerError) as caught:
        read("How many frobnicated wombats are there?")
    err = caught.value
    assert err.code == "CANNOT_ANSWER" and "frobnicated" in str(err) and not err.retryable
    assert err.retry_after is None
    # The same exception `ask` raises, with its per-kind fields.
    assert set(err.unknown_words) >= {"frobnicated"}, err.unknown_words
    # It began like any other; no SQL and no rows were streamed.
    assert seen and isinstance(seen[0], cbi.StageEvent) and seen[0].stage == "guard", seen
    assert set(kinds(seen)) == {"stage"}, seen

    seen.clear()
    with pytest.raises(cbi.InvalidInputError) as bad:
        read("   ")
    assert bad.value.code == "INVALID_INPUT" and isinstance(bad.value, ValueError)

    # A `user` that is not a User dict fails at once, before any event.
    with pytest.raises(cbi.InvalidInputError):
        engine.ask_stream("How many artists are there?", user={"roles": "sales_rep"})  # type: ignore[typeddict-item]


def test_a_failed_stream_ends_after_the_error() -> None:
    stream = cbi.Engine().ask_stream("How many frobnicated wombats are there?")
    with pytest.raises(cbi.CannotAnswerError):
        list(stream)
    assert list(stream) == []


def test_an_unreachable_database_raises_its_error_from_the_first_event(mode: str) -> None:
    engine = make(mode, database={"url": "postgres://nobody:secret@127.0.0.1:1/none", "connection_timeout_secs": 2})
    with pytest.raises(cbi.DatabaseUnavailableError) as caught:
        collect(engine, "How many artists are there?")
    assert "secret" not in str(caught.value) and caught.value.retryable


def test_breaking_early_then_asking_again_works(demo: cbi.Engine) -> None:
    for event in demo.ask_stream("Total sales by country"):
        assert isinstance(event, cbi.StageEvent)
        break
    assert demo.ask("How many artists are there?").rows == [(275,)]

    with demo.ask_stream("Total sales by country") as stream:
        first = next(stream)
        assert first.kind == "stage"
    # Closed: the iteration is over.
    assert list(stream) == []
    stream.close()  # closing again does nothing
    assert last_answer(list(demo.ask_stream("How many artists are there?"))).rows == [(275,)]


def test_breaking_early_from_async_for_then_asking_again_works(demo: cbi.Engine) -> None:
    engine = cbi.AsyncEngine.from_engine(demo)

    async def go() -> None:
        async for event in engine.ask_stream("Total sales by country"):
            assert event.kind == "stage"
            break
        assert (await engine.ask("How many artists are there?")).rows == [(275,)]

        async with engine.ask_stream("Total sales by country") as stream:
            first = await stream.__anext__()
            assert isinstance(first, cbi.StageEvent)
        assert [e async for e in stream] == []

        stream = engine.ask_stream("Total sales by country")
        await stream.__anext__()
        await stream.aclose()
        await stream.aclose()
        with pytest.raises(StopAsyncIteration):
            await stream.__anext__()

        # Cancelling the task that awaits an event cancels the question; the stream stays
        # usable for closing, and the engine keeps answering.
        stream = engine.ask_stream("Which 5 artists have the most tracks?")
        waiting = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0)
        waiting.cancel()
        try:
            await waiting
        except asyncio.CancelledError:
            pass
        await stream.aclose()
        events = [e async for e in engine.ask_stream("How many artists are there?")]
        assert last_answer(events).rows == [(275,)]

    asyncio.run(go())


def slow_sql(track: str, genre: str) -> str:
    """A statement that would run for days on Chinook (the quadruples of tracks of one genre)."""
    return (
        f"SELECT count(*) FROM {track} a JOIN {track} b ON b.{genre} = a.{genre} "
        f"JOIN {track} c ON c.{genre} = b.{genre} JOIN {track} d ON d.{genre} = c.{genre}"
    )


SLOW = {
    "sqlite": (str(CHINOOK_SQLITE), slow_sql("Track", "GenreId"), "SELECT count(*) FROM Genre"),
    "postgres": (PG_URL, slow_sql("track", "genre_id"), "SELECT count(*) FROM genre"),
}


@pytest.mark.parametrize("database", sorted(SLOW))
def test_leaving_the_loop_cancels_the_running_statement(mode: str, database: str) -> None:
    # One connection, a statement that would run for days and a timeout far away: the next
    # question gets the connection only if leaving the loop stopped the statement.
    url, slow, quick = SLOW[database]

    def script(request: Request) -> str:
        return sql_reply(slow if "slow" in request.last_user else quick)

    with FakeOpenAI(script) as fake:
        db = {
            "url": url,
            "statement_timeout_ms": 300000,
            "pool_size": 1,
            "max_idle_connections": 1,
            "connection_timeout_secs": 20,
        }
        engine = make(mode, database=db, llm=fake.llm(max_retries=0))
        started = time.monotonic()
        if isinstance(engine, cbi.Engine):
            for event in engine.ask_stream("the slow one"):
                if event.kind == "stage" and event.stage == "generate":
                    time.sleep(1)  # the model has answered; the statement runs
                    break
            answer = engine.ask("the quick one")
        else:
            aengine = engine

            async def go() -> cbi.Answer:
                async for event in aengine.ask_stream("the slow one"):
                    if event.kind == "stage" and event.stage == "generate":
                        await asyncio.sleep(1)
                        break
                return await aengine.ask("the quick one")

            answer = asyncio.run(go())
    assert answer.rows == [(25,)]
    assert time.monotonic() - started < 15, "the statement was not cancelled"


def test_many_streams_at_once_each_get_their_answer(demo: cbi.Engine) -> None:
    engine = cbi.AsyncEngine.from_engine(demo)
    questions = ["How many artists are there?", "How many albums are there?", "How many genres are there?"]

    async def one(question: str) -> cbi.Answer:
        return last_answer([e async for e in engine.ask_stream(question)])

    async def go() -> List[cbi.Answer]:
        return list(await asyncio.gather(*(one(q) for q in questions * 3)))

    answers = asyncio.run(go())
    assert [a.rows for a in answers] == [[(275,)], [(347,)], [(25,)]] * 3


STREAM_CODE = """
import asyncio
from typing import List, Tuple, Any
from conversational_bi import AsyncEngine, Answer, AskEvent, Column, Engine

def show(event: AskEvent) -> str:
    if event.kind == "stage":
        return event.stage
    if event.kind == "sql":
        return event.sql
    if event.kind == "rows":
        cols: List[Column] = event.columns
        rows: List[Tuple[Any, ...]] = event.rows
        return f"{len(cols)} {len(rows)} {event.truncated}"
    answer: Answer = event.answer
    return answer.sql

for e in Engine().ask_stream("How many artists are there?", session_id=None, tenant_id="acme"):
    print(show(e))

async def main() -> None:
    async with AsyncEngine().ask_stream("How many artists are there?", user={"id": "jane"}) as s:
        async for e in s:
            print(show(e))

asyncio.run(main())
"""


def test_user_code_sees_the_event_types(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    from test_typing import mypy

    good = tmp_path / "stream_good.py"
    good.write_text(STREAM_CODE)
    out = mypy(str(good))
    assert out.returncode == 0, out.stdout + out.stderr

    bad = tmp_path / "stream_bad.py"
    bad.write_text(STREAM_CODE + "\ndef wrong(e: AskEvent) -> str:\n    return e.sql\n")
    out = mypy(str(bad))
    assert out.returncode == 1
    assert 'Item "StageEvent" of ' in out.stdout and 'has no attribute "sql"' in out.stdout, out.stdout
