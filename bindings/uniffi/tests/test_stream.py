"""`Engine.ask_stream`: the events of a question as it is answered (stages, the SQL, the rows,
then the answer), a failure as `next()`'s error with the fields `ask` gives, and `cancel()`.
On the built-in demo database with the offline generator."""

import pytest
from conftest import plain, run

from conversational_bi_ffi import AskEvent, Engine, error_code
from conversational_bi_ffi import ConversationalBiError as E


async def drain(stream):
    events = []
    while (event := await stream.next()) is not None:
        events.append(event)
    return events


def test_the_events_come_in_order_and_the_answer_is_last():
    async def body():
        engine = Engine()
        stream = engine.ask_stream("Top 5 genres by number of tracks")
        events = await drain(stream)
        kinds = [
            next(k for k in ("STAGE", "SQL", "ROWS", "ANSWER") if isinstance(e, getattr(AskEvent, k)))
            for e in events
        ]
        assert kinds[0] == "STAGE", kinds
        assert kinds.index("SQL") < kinds.index("ROWS") < kinds.index("ANSWER") == len(kinds) - 1, kinds
        assert {e.stage for e in events if isinstance(e, AskEvent.STAGE)} >= {"guard", "generate"}
        sql = next(e.sql for e in events if isinstance(e, AskEvent.SQL))
        rows = next(e for e in events if isinstance(e, AskEvent.ROWS))
        answer = events[-1].answer
        assert answer.sql == sql
        assert rows.columns == answer.columns
        assert [[plain(c) for c in r] for r in rows.rows] == [[plain(c) for c in r] for r in answer.rows]
        assert [plain(r[1]) for r in answer.rows] == [1297, 579, 374, 332, 130]
        assert await stream.next() is None, "nothing after the answer"

        # A follow-up in the same conversation streams too, and so does a removal.
        follow = await drain(engine.ask_stream("top 3 instead", session_id=answer.session_id))
        assert len(follow[-1].answer.rows) == 3 and follow[-1].answer.turn == 2
        removed = await drain(engine.ask_stream("", session_id=answer.session_id, remove_scope="limit"))
        assert len(removed[-1].answer.rows) == 25

    run(body())


def test_a_failure_is_the_error_ask_gives():
    async def body():
        stream = Engine().ask_stream("frobnicate the wibbles")
        with pytest.raises(E.CannotAnswer) as info:
            await drain(stream)
        assert error_code(info.value) == "CANNOT_ANSWER"
        assert info.value.unknown_words == ["frobnicate", "wibbles"]
        assert await stream.next() is None, "the stream is over"

        limited = Engine.from_toml(
            "[production.rate_limiting]\nenabled = true\nqueries_per_minute = 1\nburst_allowance = 1\n"
        )
        await drain(limited.ask_stream("How many artists are there?"))
        with pytest.raises(E.RateLimited) as info:
            await drain(limited.ask_stream("How many albums are there?"))
        assert info.value.retry_after_secs >= 1

    run(body())


def test_a_question_that_cannot_be_made_fails_at_once():
    with pytest.raises(E.InvalidInput) as info:
        Engine().ask_stream("", remove_scope="limit")
    assert "session_id" in str(info.value)
    with pytest.raises(E.InvalidInput):
        Engine().ask_stream("", session_id="s-1", remove_scope="'; DROP TABLE x; --")


def test_cancel_ends_the_stream():
    async def body():
        engine = Engine()
        unread = engine.ask_stream("How many artists are there?")
        unread.cancel()
        assert await unread.next() is None, "closed before the first read: nothing runs"

        stream = engine.ask_stream("How many artists are there?")
        first = await stream.next()
        assert isinstance(first, AskEvent.STAGE)
        stream.cancel()
        stream.cancel()
        assert await stream.next() is None
        # The engine answers the next question as usual.
        done = await drain(engine.ask_stream("How many artists are there?"))
        assert plain(done[-1].answer.rows[0][0]) == 275

    run(body())
