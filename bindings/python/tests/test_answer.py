"""Answers as Python values, DataFrames, Arrow tables and notebook HTML."""

from __future__ import annotations

import datetime
import json
import sqlite3
import sys
from decimal import Decimal
from pathlib import Path
from typing import Iterator, List

import pytest
from conftest import MYSQL_URL, PG_URL
from fake_openai import FakeOpenAI, sql_reply

import conversational_bi as cbi

PG_SQL = (
    "SELECT invoice_id, total, invoice_date, billing_state, total > 5 AS big "
    "FROM invoice ORDER BY invoice_id LIMIT 3"
)
NOTES_SQL = "SELECT id, title, score, data, created, mixed FROM notes ORDER BY id"
SCRIPT = '<script>alert("x")</script> & co'


@pytest.fixture(scope="module")
def scripted() -> Iterator[FakeOpenAI]:
    """A model that answers the SQL written as the question (`sql: ...`)."""
    with FakeOpenAI(lambda r: sql_reply(r.last_user.split("sql: ", 1)[1].split("\n")[0])) as fake:
        yield fake


def ask_sql(engine: cbi.Engine, sql: str) -> cbi.Answer:
    return engine.ask(f"sql: {sql}")


@pytest.fixture(scope="module")
def notes_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("notes") / "notes.sqlite"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT, score REAL, data BLOB, created DATE, mixed)"
    )
    db.executemany(
        "INSERT INTO notes VALUES (?, ?, ?, ?, ?, ?)",
        [
            (1, SCRIPT, 1.5, b"\x00\xffhi", "2024-02-29", 1),
            (2, "plain", None, None, "2024-03-01", "two"),
            (3, None, -0.25, b"", None, 3.5),
        ],
    )
    db.commit()
    db.close()
    return path


@pytest.fixture(scope="module")
def pg(scripted: FakeOpenAI) -> cbi.Engine:
    return cbi.Engine(database=PG_URL, llm=scripted.llm(max_retries=0))


@pytest.fixture(scope="module")
def notes(scripted: FakeOpenAI, notes_db: Path) -> cbi.Answer:
    engine = cbi.Engine(database=notes_db, llm=scripted.llm(max_retries=0))
    return ask_sql(engine, NOTES_SQL)


def test_postgres_values_are_python_values(pg: cbi.Engine) -> None:
    answer = ask_sql(pg, PG_SQL)
    assert answer.rows == [
        (1, Decimal("1.98"), "2021-01-01T00:00:00", None, False),
        (2, Decimal("3.96"), "2021-01-02T00:00:00", None, False),
        (3, Decimal("5.94"), "2021-01-03T00:00:00", None, True),
    ]
    assert [type(v) for v in answer.rows[0]] == [int, Decimal, str, type(None), bool]
    assert [c.name for c in answer.columns] == ["invoice_id", "total", "invoice_date", "billing_state", "big"]
    assert answer.columns[1].type.lower() == "numeric"
    assert answer.generator == "openai:gpt-test"


def test_mariadb_decimals_stay_exact(scripted: FakeOpenAI) -> None:
    engine = cbi.Engine(database=MYSQL_URL, llm=scripted.llm(max_retries=0))
    answer = ask_sql(engine, "SELECT InvoiceId, Total FROM Invoice ORDER BY InvoiceId LIMIT 2")
    assert answer.rows == [(1, Decimal("1.98")), (2, Decimal("3.96"))]


def test_sqlite_values_are_python_values(notes: cbi.Answer) -> None:
    assert notes.rows == [
        (1, SCRIPT, 1.5, b"\x00\xffhi", "2024-02-29", 1),
        (2, "plain", None, None, "2024-03-01", "two"),
        (3, None, -0.25, b"", None, 3.5),
    ]
    assert isinstance(notes.rows[0][3], bytes)
    assert notes.rows is notes.rows  # converted once, then kept


def test_to_dicts_keeps_every_column(pg: cbi.Engine) -> None:
    answer = ask_sql(pg, "SELECT invoice_id AS id, customer_id AS id, total FROM invoice ORDER BY invoice_id LIMIT 1")
    assert answer.to_dicts() == [{"id": 1, "id_2": 2, "total": Decimal("1.98")}]


def test_to_pandas_makes_floats_and_datetimes(pg: cbi.Engine) -> None:
    pd = pytest.importorskip("pandas")
    frame = ask_sql(pg, PG_SQL).to_pandas()
    assert list(frame.columns) == ["invoice_id", "total", "invoice_date", "billing_state", "big"]
    assert frame["total"].dtype == "float64"
    assert frame["total"].tolist() == [1.98, 3.96, 5.94]
    assert pd.api.types.is_datetime64_any_dtype(frame["invoice_date"])
    assert frame["invoice_date"].iloc[2] == pd.Timestamp("2021-01-03")
    assert frame["invoice_id"].dtype == "int64"
    assert frame["big"].tolist() == [False, False, True]

    exact = ask_sql(pg, PG_SQL).to_pandas(coerce_float=False, parse_dates=False)
    assert exact["total"].tolist() == [Decimal("1.98"), Decimal("3.96"), Decimal("5.94")]
    assert exact["invoice_date"].tolist()[0] == "2021-01-01T00:00:00"


def test_to_pandas_of_an_empty_result_has_the_columns(pg: cbi.Engine) -> None:
    pytest.importorskip("pandas")
    frame = ask_sql(pg, "SELECT invoice_id, total FROM invoice WHERE invoice_id < 0").to_pandas()
    assert list(frame.columns) == ["invoice_id", "total"] and len(frame) == 0


def test_to_arrow_is_exact(pg: cbi.Engine, notes: cbi.Answer) -> None:
    pa = pytest.importorskip("pyarrow")
    table = ask_sql(pg, PG_SQL).to_arrow()
    assert table.column_names == ["invoice_id", "total", "invoice_date", "billing_state", "big"]
    assert table.schema.field("invoice_id").type == pa.int64()
    assert pa.types.is_decimal(table.schema.field("total").type)
    assert table.column("total").to_pylist() == [Decimal("1.98"), Decimal("3.96"), Decimal("5.94")]
    assert table.schema.field("invoice_date").type == pa.string()
    assert table.schema.field("big").type == pa.bool_()

    sqlite_table = notes.to_arrow()
    assert sqlite_table.schema.field("data").type == pa.binary()
    assert sqlite_table.column("data").to_pylist() == [b"\x00\xffhi", None, b""]
    assert sqlite_table.schema.field("score").type == pa.float64()
    # SQLite let one column hold an integer, text and a float: it becomes text.
    assert sqlite_table.column("mixed").to_pylist() == ["1", "two", "3.5"]


@pytest.mark.parametrize(("module", "method"), [("pandas", "to_pandas"), ("pyarrow", "to_arrow")])
def test_missing_optional_dependency_says_what_to_install(
    notes: cbi.Answer, monkeypatch: pytest.MonkeyPatch, module: str, method: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    with pytest.raises(ImportError, match=rf"Answer\.{method}\(\) needs {module}.*pip install {module}"):
        getattr(notes, method)()


def test_repr_html_escapes_everything(notes: cbi.Answer) -> None:
    page = notes._repr_html_()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in page
    assert "<th" in page and "<td>0x00ff6869</td>" in page and "<td>NULL</td>" in page
    assert "SELECT id, title" in page
    assert "3 rows" in page and "turn 1" in page


def test_repr_html_cuts_long_results(demo: cbi.Engine) -> None:
    answer = demo.ask("List the tracks")
    page = answer._repr_html_()
    assert answer.row_count > 50
    assert page.count("<tr>") == 51  # the header and 50 rows
    assert f"{answer.row_count} rows · first 50 shown" in page


def test_repr_is_short_and_names_the_sql(demo: cbi.Engine) -> None:
    answer = demo.ask("How many artists are there?")
    text = repr(answer)
    assert text.startswith("<Answer turn=1 rows=1 generator='rule' sql='SELECT")
    assert "\n" not in text


def test_to_json_matches_the_command_line_output(pg: cbi.Engine) -> None:
    answer = ask_sql(pg, PG_SQL)
    doc = json.loads(answer.to_json())
    assert doc["sql"] == answer.sql
    assert doc["rows"][0] == [1, "1.98", "2021-01-01T00:00:00", None, False]
    assert doc["columns"][1] == {"name": "total", "type": answer.columns[1].type}
    assert doc["session_id"] == answer.session_id and doc["turn"] == 1


def test_chart_attempts_and_warnings_are_typed(demo: cbi.Engine) -> None:
    answer = demo.ask("Which 5 artists have the most tracks?")
    assert answer.chart is not None
    assert answer.chart[:3] == ("bar", "Name", "count")
    assert isinstance(answer.chart, cbi.Chart) and answer.chart.kind == "bar"
    assert isinstance(answer.attempts[0], cbi.Attempt)
    assert demo.ask("How many albums are there?").warnings == []
    capped = cbi.Engine(database={"max_rows": 3}).ask("List the artists")
    assert capped.truncated and capped.row_count == 3
    assert len(capped.warnings) == 1 and "max_rows" in capped.warnings[0]

def test_chart_has_a_vega_lite_specification(demo: cbi.Engine) -> None:
    answer = demo.ask("Which 5 artists have the most tracks?")
    chart = answer.chart
    assert chart is not None
    spec = chart.vega_lite
    assert spec["$schema"] == "https://vega.github.io/schema/vega-lite/v6.json"
    assert spec["mark"]["type"] == "bar" and spec["mark"]["tooltip"] is True
    assert spec["encoding"]["y"]["field"] == "count"
    values = spec["data"]["values"]
    assert len(values) == answer.row_count == 5
    assert [(v["Name"], v["count"]) for v in values] == answer.rows
    assert answer.chart is chart, "converted once"
    assert json.loads(answer.to_json())["chart"]["vega_lite"] == spec
    assert demo.ask("How many albums are there?").chart is None


def test_numbers_and_dates_convert_in_pandas_from_sqlite(notes: cbi.Answer) -> None:
    pd = pytest.importorskip("pandas")
    frame = notes.to_pandas()
    assert frame["score"].dtype == "float64"
    assert frame["created"].iloc[0] == pd.Timestamp(datetime.date(2024, 2, 29))
    assert pd.isna(frame["created"].iloc[2])
    values: List[object] = frame["data"].tolist()
    assert values[0] == b"\x00\xffhi"
