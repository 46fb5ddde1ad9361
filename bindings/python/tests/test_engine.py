"""Every engine call, blocking and as a coroutine (the `twin` fixture runs each test twice), on the
built-in demo database with the offline generator, and on PostgreSQL and MariaDB."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
from conftest import CHINOOK_SQLITE, MYSQL_URL, PG_URL, Twin

import conversational_bi as cbi

TOP5 = [("Iron Maiden", 213), ("U2", 135), ("Led Zeppelin", 114), ("Metallica", 112), ("Deep Purple", 92)]


def test_ask_answers_with_sql_explanation_and_rows(twin: Twin) -> None:
    answer = twin.ask("Which 5 artists have the most tracks?")
    assert isinstance(answer, cbi.Answer)
    assert answer.sql.upper().startswith("SELECT")
    assert "LIMIT 5" in answer.sql
    assert "artist" in answer.explanation.lower()
    assert answer.rows == TOP5
    assert answer.row_count == 5
    assert [c.name for c in answer.columns] == ["Name", "count"]
    assert answer.generator == "rule"
    assert answer.turn == 1
    assert not answer.truncated and not answer.degraded and not answer.cache_hit
    assert answer.attempts[-1].error is None and answer.attempts[-1].sql
    assert {"guard", "generate", "validate", "execute", "total"} <= set(answer.timings)
    assert answer.timings["total"] > 0
    uuid.UUID(answer.session_id)


def test_a_conversation_refines_the_previous_question(twin: Twin) -> None:
    first = twin.ask("Which 5 artists have the most tracks?")
    second = twin.ask("top 3 instead", session_id=first.session_id)
    assert second.session_id == first.session_id
    assert second.turn == 2
    assert "LIMIT 3" in second.sql
    assert second.rows == TOP5[:3]
    third = twin.ask("sort ascending", session_id=first.session_id)
    assert third.turn == 3
    assert third.rows == sorted(third.rows, key=lambda r: r[1])
    assert len(third.rows) == 3

    state = twin.session(first.session_id)
    assert isinstance(state, cbi.Session)
    assert state.session_id == first.session_id and state.tenant_id == "default"
    assert state.turn_count == 3
    assert [t.question for t in state.turns] == [
        "Which 5 artists have the most tracks?",
        "top 3 instead",
        "sort ascending",
    ]
    assert [t.sql for t in state.turns] == [first.sql, second.sql, third.sql]
    assert state.turns[0].columns == ["Name", "count"] and state.turns[1].row_count == 3


def test_reset_session_forgets_the_conversation(twin: Twin) -> None:
    first = twin.ask("Which 5 artists have the most tracks?")
    assert twin.reset_session(first.session_id) is None
    assert twin.session(first.session_id).turns == []
    # A follow-up now has nothing to refine: the next question starts at turn 1 again.
    again = twin.ask("How many artists are there?", session_id=first.session_id)
    assert again.turn == 1


def test_an_unknown_session_is_empty(twin: Twin) -> None:
    state = twin.session("never-used")
    assert state.turns == [] and state.turn_count == 0


def test_sessions_are_scoped_by_tenant(twin: Twin) -> None:
    a = twin.ask("How many artists are there?", session_id="shared-id", tenant_id="acme")
    b = twin.ask("How many albums are there?", session_id="shared-id", tenant_id="globex")
    assert a.turn == 1 and b.turn == 1
    assert [t.question for t in twin.session("shared-id", tenant_id="acme").turns] == [
        "How many artists are there?"
    ]
    assert [t.question for t in twin.session("shared-id", tenant_id="globex").turns] == [
        "How many albums are there?"
    ]
    assert twin.session("shared-id").turns == []  # the default tenant has no such session


def test_schema_lists_tables_columns_and_keys(twin: Twin) -> None:
    schema = twin.schema()
    assert isinstance(schema, cbi.Schema)
    assert schema.dialect == "sqlite"
    names = {t.name for t in schema.tables}
    assert {"Artist", "Album", "Track", "Invoice", "Customer"} <= names
    track = schema.table("track")
    assert track.kind == "table"
    assert track.primary_key == ["TrackId"]
    assert {c.name for c in track.columns} >= {"TrackId", "Name", "AlbumId", "Milliseconds"}
    assert any(fk.referenced_table == "Album" and fk.columns == ["AlbumId"] for fk in track.foreign_keys)
    assert len(schema.fingerprint) >= 8
    with pytest.raises(KeyError, match="no table 'Nope'.*Artist"):
        schema.table("Nope")


def test_health_reports_the_database_and_generator(twin: Twin) -> None:
    health = twin.health()
    assert isinstance(health, cbi.Health)
    assert health.ok and health.status == "ok"
    assert health.database is True and health.database_error is None
    assert health.generator == "rule"
    assert health.version == cbi.__version__
    assert health.tenants == []  # no [tenants.<id>] configured


def test_repr_names_the_database(twin: Twin) -> None:
    twin.health()  # the engine connects at its first call
    assert repr(twin.engine).startswith(f"<{'Engine' if twin.mode == 'sync' else 'AsyncEngine'} sqlite:chinook")


@pytest.mark.parametrize("url", [PG_URL, MYSQL_URL], ids=["postgres", "mariadb"])
def test_server_databases_answer_a_conversation(mode: str, url: str) -> None:
    twin = Twin(mode, database=url)
    try:
        schema = twin.schema()
        assert schema.dialect == ("postgres" if url.startswith("postgres") else "mysql")
        first = twin.ask("How many customers are there per country?")
        assert first.row_count > 5
        assert sum(r[1] for r in first.rows) == 59  # Chinook has 59 customers
        second = twin.ask("top 3 instead", session_id=first.session_id)
        assert second.row_count == 3 and second.turn == 2
        assert twin.health().ok
    finally:
        twin.close()


def test_a_sqlite_path_and_the_demo_database_agree(mode: str) -> None:
    twin = Twin(mode, database=Path(CHINOOK_SQLITE))
    try:
        assert twin.ask("How many artists are there?").rows == [(275,)]
    finally:
        twin.close()


def test_from_config_reads_the_file(tmp_path: Path, mode: str) -> None:
    config = tmp_path / "conversational-bi.toml"
    config.write_text(
        f'[database]\nurl = "sqlite://{CHINOOK_SQLITE}"\nmax_rows = 7\n\n[session]\nmax_turns = 2\n'
    )
    if mode == "sync":
        engine = cbi.Engine.from_config(config)
        ask = engine.ask
    else:
        loop = asyncio.new_event_loop()
        aengine = loop.run_until_complete(cbi.AsyncEngine.from_config(str(config)))

        def ask(*a, **k):  # type: ignore[no-untyped-def]
            return loop.run_until_complete(aengine.ask(*a, **k))

    try:
        answer = ask("List the artists")
    finally:
        if mode == "async":
            loop.close()
    assert answer.row_count == 7 and answer.truncated
    assert answer.warnings and "max_rows" in answer.warnings[0]


def test_async_engine_shares_an_engine(demo: cbi.Engine) -> None:
    first = demo.ask("Which 5 artists have the most tracks?")
    aengine = cbi.AsyncEngine.from_engine(demo)
    second = asyncio.run(aengine.ask("top 3 instead", session_id=first.session_id))
    assert second.turn == 2 and second.rows == TOP5[:3]


def test_async_engine_constructor_returns_at_once_and_connects_at_the_first_call() -> None:
    aengine = cbi.AsyncEngine()
    assert repr(aengine) == "<AsyncEngine (not connected)>"
    assert asyncio.run(aengine.ask("How many artists are there?")).rows == [(275,)]
    assert repr(aengine).startswith("<AsyncEngine sqlite:chinook")


def test_async_methods_are_coroutines(demo: cbi.Engine) -> None:
    aengine = cbi.AsyncEngine.from_engine(demo)
    for name in ("ask", "session", "reset_session", "schema", "health", "connect", "from_config"):
        assert asyncio.iscoroutinefunction(getattr(cbi.AsyncEngine, name)), name
    coro = aengine.health()
    assert asyncio.iscoroutine(coro)
    assert asyncio.run(coro).ok


def test_an_engine_answers_200_questions_in_a_row() -> None:
    # An embedded engine has no rate limit unless configured: the runbook's per-tenant limit
    # (a burst of 20) is the server's.
    engine = cbi.Engine()
    for i in range(200):
        assert engine.ask("How many artists are there?").rows == [(275,)], i


def test_a_configured_rate_limit_still_applies() -> None:
    engine = cbi.Engine(production={"rate_limiting": {"burst_allowance": 3}})
    for _ in range(3):
        engine.ask("How many artists are there?")
    with pytest.raises(cbi.RateLimitedError):
        engine.ask("How many artists are there?")


def test_the_engine_connects_at_first_use_and_recovers(tmp_path: Path) -> None:
    path = tmp_path / "late.sqlite"
    engine = cbi.Engine(database=str(path))  # no file yet: nothing is opened here
    assert repr(engine) == "<Engine (not connected)>"
    with pytest.raises(cbi.ConfigError, match="does not exist"):
        engine.ask("How many artists are there?")
    path.write_bytes(CHINOOK_SQLITE.read_bytes())
    assert engine.connect() is engine
    assert engine.ask("How many artists are there?").rows == [(275,)]
    assert repr(engine).startswith("<Engine sqlite:")
