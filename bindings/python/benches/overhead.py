"""Per-question overhead of the Python binding over the Rust engine.

Every answer carries the engine's own measurement of its work (`timings["total"]`: from the
moment `Engine::ask` starts to the saved turn, taken inside Rust). The binding's overhead for one
question is the wall time Python sees for `engine.ask(...)` plus reading the result rows, minus
that figure: argument conversion, releasing and re-taking the GIL, entering the tokio runtime
(or, for `AsyncEngine`, the hand-off to the runtime and back to the event loop), building the
answer object and converting the rows to Python values. What the engine does after its clock
stops (the log line, metrics) is counted as overhead too, so the figure is an upper bound.

Both sides run in the same process on the same question, so the generator's speed (here the
offline rule generator, which needs no model) and the database drop out of the difference.
The first line ("Rust alone") is the same gap with no Python in the loop: the engine asked
from Rust exactly as the binding asks it (`block_on` on the shared runtime, GIL released); the
binding's own cost is the difference between that line and the next.

Run it on a release build (a debug build measures unoptimized Rust), e.g.
    cd bindings/python && maturin develop --release && python benches/overhead.py [--asks 2000]
or, sharing the workspace's target dir:
    PYO3_BUILD_EXTENSION_MODULE=1 cargo build --release -p conversational-bi-python
    python bindings/python/tools/assemble_wheel.py --lib $CARGO_TARGET_DIR/release/libconversational_bi_py.so --out /tmp/dist
    pip install /tmp/dist/*.whl && python bindings/python/benches/overhead.py
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import List

import conversational_bi as cbi

QUESTION = "Which 5 artists have the most tracks?"


def summarize(name: str, overhead_us: List[float], engine_ms: List[float]) -> None:
    overhead_us = sorted(overhead_us)
    q = statistics.quantiles(overhead_us, n=100)
    print(
        f"{name:<22} overhead p50 {q[49]:6.1f} µs  p90 {q[89]:6.1f} µs  p99 {q[98]:6.1f} µs  "
        f"mean {statistics.fmean(overhead_us):6.1f} µs   (engine p50 {statistics.median(engine_ms):.3f} ms, "
        f"{len(overhead_us)} asks)"
    )


def bench_sync(engine: cbi.Engine, asks: int) -> None:
    overhead, inside = [], []
    for i in range(asks):
        session = f"sync-{i // 10}"  # a new conversation every 10 asks, as in the Rust bench
        start = time.perf_counter_ns()
        answer = engine.ask(QUESTION, session_id=session)
        answer.rows
        wall_us = (time.perf_counter_ns() - start) / 1e3
        total_ms = answer.timings["total"]
        overhead.append(wall_us - total_ms * 1e3)
        inside.append(total_ms)
    summarize("Engine.ask", overhead, inside)


async def bench_async(engine: cbi.AsyncEngine, asks: int) -> None:
    overhead, inside = [], []
    for i in range(asks):
        session = f"async-{i // 10}"
        start = time.perf_counter_ns()
        answer = await engine.ask(QUESTION, session_id=session)
        answer.rows
        wall_us = (time.perf_counter_ns() - start) / 1e3
        total_ms = answer.timings["total"]
        overhead.append(wall_us - total_ms * 1e3)
        inside.append(total_ms)
    summarize("await AsyncEngine.ask", overhead, inside)


def components(engine: cbi.Engine) -> None:
    """The binding's own steps, each timed alone (best of 5 runs of 5000 calls)."""
    import timeit

    native = engine._native
    answer = engine.ask(QUESTION)

    def best(stmt: str) -> float:
        g = {"native": native, "raw": answer._native, "cbi": cbi}
        return min(timeit.repeat(stmt, globals=g, number=5000, repeat=5)) / 5000 * 1e6

    print("components (best of 5):")
    round_trip = best("native.reset_session('t', 's')")
    print(f"  GIL released + runtime round trip, no I/O (reset_session)  {round_trip:6.2f} µs")
    print(f"  5 rows x 2 columns to Python values                        {best('raw.rows'):6.2f} µs")
    print(f"  Answer wrapper                                             {best('cbi.Answer(raw)'):6.2f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asks", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()
    engine = cbi.Engine()
    print(f"conversational_bi {cbi.__version__} ({cbi._native.__file__})")
    print(f"question: {QUESTION!r} on the demo database, offline generator")
    for i in range(args.warmup):
        engine.ask(QUESTION, session_id=f"warm-{i // 10}").rows
    gaps = cbi._native.rust_ask_gaps(engine._native, QUESTION, args.asks)
    summarize("Rust alone", [g for g, _ in gaps], [t for _, t in gaps])
    bench_sync(engine, args.asks)
    asyncio.run(bench_async(cbi.AsyncEngine.from_engine(engine), args.asks))
    components(engine)


if __name__ == "__main__":
    main()
