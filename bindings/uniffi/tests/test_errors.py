"""Every error code of the engine arrives in Python as a variant of ConversationalBiError with
its fields, rate limiting, the circuit breaker and an unreachable session store included."""

import os
import shutil
import tempfile

import pytest
from conftest import CHINOOK_SQLITE, failure, model_toml, run, writes

from conversational_bi_ffi import ConversationalBiError as E
from conversational_bi_ffi import Engine, error_code


def test_invalid_input():
    async def body():
        engine = Engine()
        e = await failure(engine.ask(""))
        assert isinstance(e, E.InvalidInput) and error_code(e) == "INVALID_INPUT"
        assert "empty" in str(e)
        short = Engine.from_toml("[production.security]\nmax_query_length = 20\n")
        e = await failure(short.ask("How many tracks are there in every genre of the store?"))
        assert isinstance(e, E.InvalidInput) and "max_query_length" in str(e)

    run(body())


def test_cannot_answer_names_the_unknown_words():
    async def body():
        e = await failure(Engine().ask("frobnicate the wibbles"))
        assert isinstance(e, E.CannotAnswer) and error_code(e) == "CANNOT_ANSWER"
        assert e.unknown_words == ["frobnicate", "wibbles"]

    run(body())


def test_config_errors_from_the_constructors():
    with pytest.raises(E.Config) as info:
        Engine.from_toml("[llm]\nprovidr = \"rule\"\n")
    assert info.value.key == "llm.providr" and error_code(info.value) == "CONFIG"
    assert "unknown field `providr`" in str(info.value)
    with pytest.raises(E.Config) as info:
        Engine.from_config("/nonexistent/conversational-bi.toml")
    assert "cannot read configuration file" in str(info.value)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bad.toml")
        with open(path, "w") as f:
            f.write("[server]\nport = 8080\nprot = 1\n")
        with pytest.raises(E.Config) as info:
            Engine.from_config(path)
        assert info.value.key == "server.prot" and "bad.toml:3" in str(info.value)


def test_a_provider_without_its_key_is_refused_by_the_constructor():
    # Checked without connecting, so at construction (it needs no I/O).
    with pytest.raises(E.Config) as info:
        Engine.from_toml('[llm]\nprovider = "openai"\nbase_url = "https://api.openai.com/v1"\n')
    assert "OPENAI_API_KEY" in str(info.value)


def test_config_error_from_an_async_method_then_recovery():
    async def body():
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "late.sqlite")
            engine = Engine(f"sqlite://{path}")  # no file yet: the constructor opens nothing
            e = await failure(engine.ask("How many genres are there?"))
            assert isinstance(e, E.Config) and "does not exist" in str(e)
            shutil.copy(CHINOOK_SQLITE, path)
            a = await engine.ask("How many genres are there?")
            assert a.row_count == 1

    run(body())


def test_database_unavailable_is_retried_by_the_next_call():
    async def body():
        engine = Engine.from_toml(
            "[database]\nconnection_timeout_secs = 1\n", database_url="postgres://cbi_ro:s3cret-pw@127.0.0.1:1/chinook"
        )
        e = await failure(engine.ask("How many genres are there?"))
        assert isinstance(e, E.DatabaseUnavailable) and error_code(e) == "DATABASE_UNAVAILABLE"
        assert "s3cret-pw" not in str(e)
        assert isinstance(await failure(engine.connect()), E.DatabaseUnavailable)

    run(body())


def test_sql_rejected_carries_the_statement_and_the_rule(fake_openai):
    model = fake_openai(writes("DELETE FROM Track"))

    async def body():
        e = await failure(Engine.from_toml(model_toml(model.base_url)).ask("remove every track"))
        assert isinstance(e, E.SqlRejected) and error_code(e) == "SQL_REJECTED"
        assert e.sql == "DELETE FROM Track"
        assert e.rule
        assert len(model.requests) == 1

    run(body())


def test_execution(fake_openai):
    model = fake_openai(writes("SELECT abs(-9223372036854775807 - 1) AS v"))

    async def body():
        e = await failure(Engine.from_toml(model_toml(model.base_url)).ask("the smallest integer, positive"))
        assert isinstance(e, E.Execution) and "integer overflow" in str(e)

    run(body())


def test_timeout(fake_openai):
    model = fake_openai(
        writes("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c")
    )

    async def body():
        engine = Engine.from_toml(model_toml(model.base_url, "[database]\nstatement_timeout_ms = 200\n"))
        e = await failure(engine.ask("count to a billion"))
        assert isinstance(e, E.Timeout) and "200 ms" in str(e)

    run(body())


def test_provider(fake_openai):
    model = fake_openai(lambda body: {"status": 401, "message": "Incorrect API key provided"})

    async def body():
        e = await failure(Engine.from_toml(model_toml(model.base_url)).ask("How many genres are there?"))
        assert isinstance(e, E.Provider) and error_code(e) == "PROVIDER"
        assert (e.provider, e.status, e.retryable) == ("openai", 401, False)
        assert "Incorrect API key provided" in str(e)

    run(body())


def test_rate_limited_with_retry_after():
    async def body():
        engine = Engine.from_toml(
            "[production.rate_limiting]\nenabled = true\nqueries_per_minute = 1\nburst_allowance = 1\n"
        )
        errors = []
        for _ in range(4):
            try:
                await engine.ask("How many genres are there?", tenant_id="tiny")
            except E as e:
                errors.append(e)
        assert errors, "one of 4 asks within a second must exceed a quota of 1 per minute"
        e = errors[0]
        assert isinstance(e, E.RateLimited) and error_code(e) == "RATE_LIMITED"
        assert 0 < e.retry_after_secs <= 60

    run(body())


def test_circuit_open_with_an_always_failing_provider(fake_openai):
    model = fake_openai(lambda body: {"status": 500, "message": "The server had an error"})

    async def body():
        engine = Engine.from_toml(
            model_toml(
                model.base_url,
                "[production.circuit_breaker]\nenabled = true\nfailure_threshold = 2\nreset_timeout_secs = 60\n",
            )
        )
        codes = []
        for _ in range(6):
            codes.append(await failure(engine.ask("How many genres are there?")))
        open_ = [e for e in codes if isinstance(e, E.CircuitOpen)]
        assert open_, [error_code(e) for e in codes]
        assert 0 < open_[0].retry_after_secs <= 60
        seen = len(model.requests)
        await failure(engine.ask("How many genres are there?"))
        assert len(model.requests) == seen, "an open breaker sends nothing to the provider"

    run(body())


def test_service_unavailable_when_the_session_store_is_unreachable():
    async def body():
        engine = Engine.from_toml('[session]\nstore = "redis"\n[redis]\nurl = "redis://127.0.0.1:1/"\n')
        e = await failure(engine.ask("How many genres are there?"))
        assert isinstance(e, E.ServiceUnavailable) and error_code(e) == "SERVICE_UNAVAILABLE"

    run(body())
