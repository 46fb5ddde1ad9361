"""Every exception class, reached through the engine the way a user would reach it, and the one
mapping from the engine's error codes to the classes."""

from __future__ import annotations

import asyncio
import pickle
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from conftest import PG_URL, Twin
from fake_openai import FakeOpenAI, Request, sql_reply

import conversational_bi as cbi

ALL_CLASSES = [
    cbi.ConfigError,
    cbi.InvalidInputError,
    cbi.SqlRejectedError,
    cbi.DatabaseUnavailableError,
    cbi.ExecutionError,
    cbi.QueryTimeoutError,
    cbi.ProviderError,
    cbi.CannotAnswerError,
    cbi.RateLimitedError,
    cbi.CircuitOpenError,
    cbi.ServiceUnavailableError,
    cbi.InternalError,
]


def raises_in(mode: str, cls: type, make: Callable[[], Any], call: Callable[[Any], Any]) -> Any:
    """Runs `call(engine)` on the engine `make()` returns (as an AsyncEngine in async mode) and
    returns the exception of class `cls` that it raised."""
    engine = make()
    if mode == "async":
        engine = cbi.AsyncEngine.from_engine(engine)

        def run() -> Any:
            return asyncio.run(call(engine))
    else:

        def run() -> Any:
            return call(engine)

    with pytest.raises(cls) as caught:
        run()
    return caught.value


@pytest.fixture()
def fake() -> Iterator[Callable[[Callable[[Request], Any]], FakeOpenAI]]:
    servers = []

    def start(script: Callable[[Request], Any]) -> FakeOpenAI:
        server = FakeOpenAI(script)
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.close()


def test_every_class_subclasses_the_base_and_has_its_own_code() -> None:
    codes = set()
    for cls in ALL_CLASSES:
        assert issubclass(cls, cbi.ConversationalBIError) and issubclass(cls, Exception)
        codes.add(cls.code)
    assert len(codes) == len(ALL_CLASSES)
    assert cbi.ERROR_CODES == {cls.code: cls for cls in ALL_CLASSES}
    assert issubclass(cbi.ConfigError, ValueError)
    assert issubclass(cbi.InvalidInputError, ValueError)
    assert issubclass(cbi.QueryTimeoutError, TimeoutError)
    assert issubclass(cbi.DatabaseUnavailableError, ConnectionError)
    assert issubclass(cbi.ServiceUnavailableError, ConnectionError)


@pytest.mark.parametrize("code", sorted(cbi.ERROR_CODES))
def test_every_engine_error_code_maps_to_its_class(code: str) -> None:
    with pytest.raises(cbi.ConversationalBIError) as caught:
        cbi._native.sample_error(code)
    e = caught.value
    assert type(e) is cbi.ERROR_CODES[code]
    assert e.code == code
    assert str(e) == e.message and e.message
    assert e.retryable == (code in {"DATABASE_UNAVAILABLE", "RATE_LIMITED", "CIRCUIT_OPEN", "SERVICE_UNAVAILABLE", "PROVIDER"})
    if code == "RATE_LIMITED":
        assert e.retry_after == 1.5 and e.tenant_id == "acme"
    elif code == "CIRCUIT_OPEN":
        assert e.retry_after == 30.0 and e.service == "nl2sql"
    elif code == "PROVIDER":
        assert e.retry_after == 2.0  # the provider's Retry-After
    else:
        assert e.retry_after is None
    if code == "SQL_REJECTED":
        assert (e.sql, e.rule) == ("DELETE FROM Track", "not_a_query") and "read-only" in e.reason
    if code == "CONFIG":
        assert (e.key, e.file, e.line) == ("server.prot", "conversational-bi.toml", 3)
    if code == "PROVIDER":
        assert (e.provider, e.status, e.request_id) == ("openai", 503, "req_1")
    # Exceptions survive pickling (multiprocessing, joblib) with their attributes.
    copy = pickle.loads(pickle.dumps(e))
    assert type(copy) is type(e) and copy.message == e.message and copy.code == e.code


def test_an_unknown_code_is_refused() -> None:
    with pytest.raises(ValueError, match='unknown error code "NOPE"'):
        cbi._native.sample_error("NOPE")


def test_config_error_names_the_key(mode: str) -> None:
    with pytest.raises(cbi.ConfigError) as caught:
        Twin(mode, llm={"provider": "rule", "temprature": 0.2})
    e = caught.value
    assert isinstance(e, ValueError)
    assert e.key == "llm.temprature"
    assert "temprature" in str(e) and "temperature" in str(e)  # names the key and the right one


def test_config_error_from_a_file_names_the_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[server]\nport = 8080\nprot = 1\n')
    with pytest.raises(cbi.ConfigError) as caught:
        cbi.Engine.from_config(config)
    assert caught.value.line == 3 and caught.value.key == "server.prot"
    assert caught.value.file == str(config)
    assert f"{config}:3" in str(caught.value)


def test_invalid_input(mode: str, demo: cbi.Engine) -> None:
    e = raises_in(mode, cbi.InvalidInputError, lambda: demo, lambda en: en.ask("   "))
    assert isinstance(e, ValueError) and e.code == "INVALID_INPUT" and "empty" in str(e)


def test_cannot_answer(mode: str, demo: cbi.Engine) -> None:
    e = raises_in(mode, cbi.CannotAnswerError, lambda: demo, lambda en: en.ask("frobnicate the wibbles"))
    assert set(e.unknown_words) >= {"frobnicate"}
    assert "frobnicate" in str(e) and not e.retryable


def test_database_unavailable(mode: str) -> None:
    url = "postgres://cbi_ro:cbi_ro@127.0.0.1:1/chinook"
    kwargs = {"database": {"url": url, "connection_timeout_secs": 1}}
    if mode == "sync":
        engine = cbi.Engine(**kwargs)  # connects at the first use, not here
        with pytest.raises(cbi.DatabaseUnavailableError) as caught:
            engine.connect()
    else:
        with pytest.raises(cbi.DatabaseUnavailableError) as caught:
            asyncio.run(cbi.AsyncEngine.connect(**kwargs))
    e = caught.value
    assert isinstance(e, ConnectionError) and e.retryable and "cbi_ro:cbi_ro@" not in str(e)


def test_sql_rejected(mode: str, fake: Any) -> None:
    server = fake(lambda r: sql_reply("DELETE FROM track"))
    e = raises_in(
        mode,
        cbi.SqlRejectedError,
        lambda: cbi.Engine(database=PG_URL, llm=server.llm(max_retries=0)),
        lambda en: en.ask("Remove every track"),
    )
    assert e.sql == "DELETE FROM track" and e.rule == "not_a_query" and e.reason
    assert e.reason in str(e)


def test_execution(mode: str, fake: Any) -> None:
    server = fake(lambda r: sql_reply("SELECT 1 / (count(*) - count(*)) AS x FROM track"))
    e = raises_in(
        mode,
        cbi.ExecutionError,
        lambda: cbi.Engine(database=PG_URL, llm=server.llm(max_retries=0)),
        lambda en: en.ask("Divide by nothing"),
    )
    assert "division by zero" in str(e)


def test_query_timeout(mode: str, fake: Any) -> None:
    slow = "SELECT count(*) AS n FROM track a JOIN track b ON a.milliseconds <> b.milliseconds"
    server = fake(lambda r: sql_reply(slow))
    e = raises_in(
        mode,
        cbi.QueryTimeoutError,
        lambda: cbi.Engine(
            database={"url": PG_URL, "statement_timeout_ms": 20}, llm=server.llm(max_retries=0)
        ),
        lambda en: en.ask("Pairs of tracks of different lengths"),
    )
    assert isinstance(e, TimeoutError) and e.timeout_ms == 20


def test_provider(mode: str, fake: Any) -> None:
    server = fake(lambda r: (401, "Incorrect API key provided"))
    e = raises_in(
        mode,
        cbi.ProviderError,
        lambda: cbi.Engine(llm=server.llm(max_retries=0, fallback="none", api_key="sk-secret-123")),
        lambda en: en.ask("How many artists are there?"),
    )
    assert (e.provider, e.status) == ("openai", 401)
    assert e.request_id == "req_1"
    assert "Incorrect API key" in str(e) and not e.retryable
    assert "sk-secret-123" not in str(e) and "sk-secret-123" not in repr(e.__dict__)
    assert server.requests[0].authorization == "Bearer sk-secret-123"


def test_rate_limited(mode: str) -> None:
    quota = {"rate_limiting": {"queries_per_minute": 1, "burst_allowance": 1}}
    twin = Twin(mode, production=quota)
    try:
        with pytest.raises(cbi.RateLimitedError) as caught:
            for _ in range(5):
                twin.ask("How many artists are there?", tenant_id="acme")
    finally:
        twin.close()
    e = caught.value
    assert e.tenant_id == "acme" and e.retryable
    assert e.retry_after is not None and 0 < e.retry_after <= 60


def test_circuit_open(mode: str, fake: Any) -> None:
    server = fake(lambda r: (503, "The server is overloaded"))
    breaker = {"circuit_breaker": {"failure_threshold": 2, "reset_timeout_secs": 60}}
    twin = Twin(mode, llm=server.llm(max_retries=0, fallback="none"), production=breaker)
    try:
        with pytest.raises(cbi.CircuitOpenError) as caught:
            for _ in range(6):
                try:
                    twin.ask("How many artists are there?")
                except cbi.ProviderError:
                    pass  # failures until the breaker opens
    finally:
        twin.close()
    e = caught.value
    assert e.service == "nl2sql" and e.retryable
    assert e.retry_after is not None and 0 < e.retry_after <= 60
    assert len(server.requests) < 6  # the open breaker kept the last asks from the provider


def test_service_unavailable(mode: str) -> None:
    with pytest.raises(cbi.ServiceUnavailableError) as caught:
        twin = Twin(mode, session={"store": "redis"}, redis={"url": "redis://127.0.0.1:1/"})
        try:
            twin.ask("How many artists are there?")
        finally:
            twin.close()
    assert caught.value.service == "redis" and caught.value.retryable


def test_internal_error_is_reachable_only_through_the_mapping() -> None:
    with pytest.raises(cbi.InternalError) as caught:
        cbi._native.sample_error("INTERNAL")
    assert caught.value.code == "INTERNAL" and "unexpected state" in str(caught.value)


def test_python_side_argument_errors_are_config_errors() -> None:
    with pytest.raises(cbi.ConfigError, match="llm must be"):
        cbi.Engine(llm=42)  # type: ignore[arg-type]
    with pytest.raises(cbi.ConfigError, match="config must be the path of a TOML file or a dict"):
        cbi.Engine(config=3.5)  # type: ignore[arg-type]
    with pytest.raises(cbi.ConfigError, match="not a string, number, bool, list or dict"):
        cbi.Engine(cache={"enabled": object()})
    with pytest.raises(cbi.ConfigError) as caught:
        cbi.Engine(nosuchsection={"a": 1})
    assert caught.value.key == "nosuchsection" and "expected one of" in str(caught.value)
