"""Configuration from Python: a TOML file, sections as keyword options laid over it, the
environment, and the key of the model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CHINOOK_SQLITE, PG_URL
from fake_openai import FakeOpenAI, sql_reply

import conversational_bi as cbi


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "conversational-bi.toml"
    path.write_text(text)
    return path


def test_options_are_laid_over_the_file(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        f'[database]\nurl = "sqlite://{CHINOOK_SQLITE}"\nmax_rows = 4\nstatement_timeout_ms = 3000\n',
    )
    engine = cbi.Engine(config=config, database={"max_rows": 2})
    answer = engine.ask("List the artists")
    assert answer.row_count == 2 and answer.truncated  # the option won over the file's 4
    assert engine.schema().database.startswith("chinook")  # the file's URL is kept


def test_config_as_a_dict() -> None:
    engine = cbi.Engine(config={"database": {"max_rows": 3}, "llm": {"provider": "rule"}})
    assert engine.ask("List the genres").row_count == 3


def test_the_llm_shorthand_selects_provider_and_model() -> None:
    with FakeOpenAI(lambda r: sql_reply("SELECT count(*) AS n FROM Genre")) as server:
        engine = cbi.Engine(llm=server.llm(model="gpt-4o-mini"))
        answer = engine.ask("How many genres?")
        assert answer.generator == "openai:gpt-4o-mini" and answer.rows == [(25,)]
        assert server.requests[0].body["model"] == "gpt-4o-mini"
    with pytest.raises(cbi.ConfigError, match="needs an API key"):
        cbi.Engine(llm="openai:gpt-4o-mini")  # the hosted API without a key


def test_an_explicit_database_wins_over_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", PG_URL)
    assert cbi.Engine().schema().dialect == "postgres"  # the environment applies...
    assert cbi.Engine(database=CHINOOK_SQLITE).schema().dialect == "sqlite"  # ...unless told otherwise


def test_the_key_comes_from_the_environment_or_code_and_never_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAI(lambda r: sql_reply("SELECT count(*) AS n FROM Genre")) as server:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
        engine = cbi.Engine(llm=server.llm())
        engine.ask("How many genres?")
        assert server.requests[-1].authorization == "Bearer sk-from-env"
        engine = cbi.Engine(llm=server.llm(api_key="sk-from-code"))
        engine.ask("How many genres?")
        assert server.requests[-1].authorization == "Bearer sk-from-code"
        assert "sk-from-code" not in repr(engine)
        engine = cbi.Engine(config={"llm": {**server.llm(), "api_key": "sk-in-config"}})
        engine.ask("How many genres?")
        assert server.requests[-1].authorization == "Bearer sk-in-config"


def test_a_bad_url_is_a_config_error() -> None:
    with pytest.raises(cbi.ConfigError, match="unsupported database URL"):
        cbi.Engine(config={"database": {"url": "oracle://scott:tiger@db/x"}})
    # A SQLite file is looked for when the engine connects (it may be created after the engine).
    engine = cbi.Engine(database="/no/such/file.sqlite")
    with pytest.raises(cbi.ConfigError) as caught:
        engine.connect()
    assert "/no/such/file.sqlite" in str(caught.value)


def test_wrong_types_name_the_key() -> None:
    with pytest.raises(cbi.ConfigError) as caught:
        cbi.Engine(database={"max_rows": "many"})
    assert caught.value.key == "database.max_rows"
    with pytest.raises(cbi.ConfigError) as caught:
        cbi.Engine(session={"max_turns": 0})
    assert caught.value.key == "session.max_turns" and "greater than 0" in str(caught.value)


def test_the_runbook_example_file_loads(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[3] / "examples" / "conversational-bi.toml"
    # The runbook's file names OpenAI; the offline generator stands in for it here.
    engine = cbi.Engine(config=example, llm="rule")
    health = engine.health()
    assert health.ok and health.generator == "rule"


def test_keyboard_interrupt_stops_a_blocking_ask(tmp_path: Path) -> None:
    # A model that never answers; SIGINT after the ask started must end it promptly with
    # KeyboardInterrupt (checked in a child process, which the signal cannot escape).
    script = tmp_path / "interrupt.py"
    script.write_text(
        "import os, signal, threading, time, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from fake_openai import FakeOpenAI\n"
        "import conversational_bi as cbi\n"
        "hold = threading.Event()\n"
        "server = FakeOpenAI(lambda r: (hold.wait(30), (503, 'late'))[1])\n"
        "engine = cbi.Engine(llm=server.llm(max_retries=0, timeout_secs=30))\n"
        "threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()\n"
        "t = time.monotonic()\n"
        "try:\n"
        "    engine.ask('How many genres?')\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted after', round(time.monotonic() - t, 1))\n"
        "hold.set()\n"
    )
    out = subprocess.run(
        [sys.executable, str(script), str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("interrupted after"), out.stdout + out.stderr
    assert float(out.stdout.split()[-1]) < 5
