"""The installed package type-checks under mypy --strict, with the stubs of the compiled module,
and user code sees real types through py.typed (a wrong call is caught)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy")

USER_CODE = """
import asyncio
from decimal import Decimal
from typing import Optional
from conversational_bi import AsyncEngine, Answer, Engine, ScopeItem, SessionSummary, SqlRejectedError, User

engine = Engine(database={"max_rows": 10}, llm="rule")
answer: Answer = engine.ask("How many artists are there?", session_id=None, tenant_id="acme")
rows: list[tuple[object, ...]] = answer.rows
names: list[str] = [c.name for c in answer.columns]
total: float = answer.timings["total"]
turns = [t.question for t in engine.session(answer.session_id, tenant_id="acme").turns]
jane: User = {"id": "jane", "roles": ["sales_rep"], "attributes": {"employee_id": 3, "regions": ["EU"]}}
mine = engine.ask("How many customers are there?", session_id=answer.session_id, user=jane)
owner: Optional[str] = engine.session(mine.session_id, user={"id": "jane"}).user_id
engine.reset_session(mine.session_id, tenant_id="acme", user=jane)
visible: list[str] = [t.name for t in engine.schema(user=jane).tables]
tenants: list[Optional[bool]] = [t.database for t in engine.health().tenants]
chips: list[ScopeItem] = answer.scope
wider = engine.ask("", session_id=answer.session_id, remove_scope=chips[0].id)
titles: list[str] = [s.title for s in engine.list_sessions(limit=10, user=jane)]
renamed: Optional[SessionSummary] = engine.rename_session(answer.session_id, "Artists", user=jane)

async def main() -> int:
    aengine = await AsyncEngine.connect()
    return (await aengine.ask("How many albums are there?")).row_count

try:
    asyncio.run(main())
except SqlRejectedError as e:
    print(e.sql, e.rule, e.reason, e.retry_after)
"""


# The standard library's analysis is kept between runs; the package is analysed afresh each
# time (it is installed at a new path).
CACHE = Path(os.environ.get("CBI_MYPY_CACHE") or Path.home() / ".cache" / "heliosdb-cbi-python" / "mypy")


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--ignore-missing-imports", "--cache-dir", str(CACHE), *args],
        capture_output=True,
        text=True,
    )


def test_the_package_passes_mypy_strict() -> None:
    out = mypy("-p", "conversational_bi")
    assert out.returncode == 0, out.stdout + out.stderr


def test_user_code_sees_the_types(tmp_path: Path) -> None:
    good = tmp_path / "good.py"
    good.write_text(USER_CODE)
    out = mypy(str(good))
    assert out.returncode == 0, out.stdout + out.stderr

    bad = tmp_path / "bad.py"
    bad.write_text(
        USER_CODE
        + "\nengine.ask(42)\nanswer.rows.upper()\nrep: User = {'roles': 'sales_rep'}\n"
        + "engine.rename_session('s', 'Title').title\nengine.ask('', remove_scope=3)\n"
    )
    out = mypy(str(bad))
    assert out.returncode == 1
    assert 'Argument 1 to "ask" of "Engine" has incompatible type "int"' in out.stdout
    assert '"list[tuple[Any, ...]]" has no attribute "upper"' in out.stdout
    assert 'Incompatible types (expression has type "str", TypedDict item "roles" has type "list[str]")' in out.stdout
    assert 'Item "None" of "SessionSummary | None" has no attribute "title"' in out.stdout
    assert 'Argument "remove_scope" to "ask" of "Engine" has incompatible type "int"' in out.stdout
