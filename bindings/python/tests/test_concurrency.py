"""Asks from several threads and several asyncio tasks at once, on one engine.

The model here is a loopback server running in this same Python process. It can only answer
while the GIL is free, so a blocking `ask` that answers at all has released the GIL; and it holds
every request at a barrier until all of them have arrived, so the asks answer only if they are
really in flight at the same time (a serialized binding would break the barrier: HTTP 500).
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, List

import pytest
from fake_openai import FakeOpenAI, Request, Reply, sql_reply

import conversational_bi as cbi

N = 6
SQL = "SELECT count(*) AS n FROM Artist"


class Gate:
    """Holds each request until `n` requests are waiting, then lets them all through."""

    def __init__(self, n: int) -> None:
        self.barrier = threading.Barrier(n, timeout=10)

    def __call__(self, request: Request) -> Reply:
        try:
            self.barrier.wait()
        except threading.BrokenBarrierError:
            return (500, "the asks did not arrive together")
        return sql_reply(SQL)


@pytest.fixture()
def gate() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(Gate(N)) as server:
        yield server


def test_blocking_asks_from_threads_run_at_once(gate: FakeOpenAI) -> None:
    engine = cbi.Engine(llm=gate.llm(max_retries=0, timeout_secs=20))
    with ThreadPoolExecutor(N) as pool:
        answers = list(pool.map(lambda i: engine.ask(f"question {i}"), range(N)))
    assert [a.rows for a in answers] == [[(275,)]] * N
    assert len({a.session_id for a in answers}) == N
    assert len(gate.requests) == N


def test_async_asks_from_tasks_run_at_once(gate: FakeOpenAI) -> None:
    async def main() -> List[cbi.Answer]:
        engine = await cbi.AsyncEngine.connect(llm=gate.llm(max_retries=0, timeout_secs=20))
        return await asyncio.gather(*(engine.ask(f"question {i}") for i in range(N)))

    answers = asyncio.run(main())
    assert [a.rows for a in answers] == [[(275,)]] * N
    assert len(gate.requests) == N


def test_the_event_loop_runs_while_an_ask_waits(gate: FakeOpenAI) -> None:
    # N-1 asks wait at the barrier; a plain asyncio task keeps running meanwhile and sends the
    # last ask itself, which releases them all.
    async def main() -> List[cbi.Answer]:
        engine = await cbi.AsyncEngine.connect(llm=gate.llm(max_retries=0, timeout_secs=20))
        waiting = [asyncio.ensure_future(engine.ask(f"q{i}")) for i in range(N - 1)]
        while len(gate.requests) < N - 1:
            await asyncio.sleep(0.01)
        assert not any(t.done() for t in waiting)
        last = await engine.ask("the last one")
        return [*(await asyncio.gather(*waiting)), last]

    assert len(asyncio.run(main())) == N


def test_many_threads_and_conversations_keep_their_turns(demo: cbi.Engine) -> None:
    def conversation(i: int) -> List[cbi.Answer]:
        first = demo.ask("Which 5 artists have the most tracks?", tenant_id=f"t{i % 3}")
        second = demo.ask("top 3 instead", session_id=first.session_id, tenant_id=f"t{i % 3}")
        third = demo.ask("sort ascending", session_id=first.session_id, tenant_id=f"t{i % 3}")
        return [first, second, third]

    expected = [a.rows for a in conversation(0)]  # asked alone, one after the other
    with ThreadPoolExecutor(8) as pool:
        conversations = list(pool.map(conversation, range(24)))
    for answers in conversations:
        assert [a.turn for a in answers] == [1, 2, 3]
        assert len({a.session_id for a in answers}) == 1
        assert [a.rows for a in answers] == expected


def test_threads_and_tasks_share_one_engine(demo: cbi.Engine) -> None:
    aengine = cbi.AsyncEngine.from_engine(demo)

    async def tasks() -> List[int]:
        answers = await asyncio.gather(*(aengine.ask("How many albums are there?") for _ in range(10)))
        return [a.rows[0][0] for a in answers]

    with ThreadPoolExecutor(4) as pool:
        blocking = [pool.submit(demo.ask, "How many artists are there?") for _ in range(10)]
        from_tasks = asyncio.run(tasks())
        assert [f.result().rows for f in blocking] == [[(275,)]] * 10
    assert from_tasks == [347] * 10
