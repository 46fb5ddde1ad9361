"""Shared fixtures: the demo engine, the test databases and sync/async twins of the engine.

The databases are those of `scripts/load-test-data.sh` (Chinook on PostgreSQL and MariaDB as the
SELECT-only user `cbi_ro`); `CBI_TEST_PG_URL` and `CBI_TEST_MYSQL_URL` override the URLs.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import conversational_bi as cbi  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
PG_URL = os.environ.get("CBI_TEST_PG_URL") or "postgres://cbi_ro:cbi_ro@127.0.0.1:5432/chinook"
MYSQL_URL = os.environ.get("CBI_TEST_MYSQL_URL") or "mysql://cbi_ro:cbi_ro@127.0.0.1:3306/chinook"
CHINOOK_SQLITE = REPO / "examples" / "chinook" / "chinook.sqlite"


class Twin:
    """An `Engine` or an `AsyncEngine` behind one blocking interface, so that one test body
    checks both: for the async engine every call runs as a coroutine on the twin's own loop."""

    def __init__(self, mode: str, **kwargs: Any) -> None:
        self.mode = mode
        self.loop = asyncio.new_event_loop() if mode == "async" else None
        if self.loop is None:
            self.engine: Any = cbi.Engine(**kwargs)
        else:
            self.engine = self.loop.run_until_complete(cbi.AsyncEngine.connect(**kwargs))

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.engine, name)
        if self.loop is None:
            return method
        loop = self.loop

        def call(*args: Any, **kwargs: Any) -> Any:
            coro = method(*args, **kwargs)
            assert asyncio.iscoroutine(coro), f"AsyncEngine.{name} must be a coroutine"
            return loop.run_until_complete(coro)

        return call

    def close(self) -> None:
        if self.loop is not None:
            self.loop.close()


@pytest.fixture(scope="module", params=["sync", "async"])
def twin(request: pytest.FixtureRequest) -> Iterator[Twin]:
    """The demo engine, once blocking and once for asyncio."""
    t = Twin(request.param)
    yield t
    t.close()


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """`"sync"` or `"async"`, for tests that build their own engines."""
    return request.param


@pytest.fixture(scope="session")
def demo() -> cbi.Engine:
    """A blocking engine on the built-in demo database, shared by many tests and threads: its
    per-tenant rate limit (by default a burst of 20) is off."""
    return cbi.Engine(production={"rate_limiting": {"enabled": False}})
