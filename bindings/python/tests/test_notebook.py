"""examples/python/quickstart.ipynb runs clean in a Jupyter kernel of this environment."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Dict, List

import pytest
from conftest import REPO

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = REPO / "examples" / "python" / "quickstart.ipynb"


def outputs(cell: Dict[str, Any]) -> List[Dict[str, Any]]:
    return list(cell.get("outputs", []))


def text_of(cell: Dict[str, Any]) -> str:
    parts = []
    for out in outputs(cell):
        if out.get("output_type") == "stream":
            parts.append(out["text"])
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
    return "".join(parts)


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> List[Dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("notebook")
    shutil.copy(NOTEBOOK, workdir)
    nb = nbformat.read(workdir / NOTEBOOK.name, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    return [c for c in nb.cells if c.cell_type == "code"]


def test_every_cell_ran_without_error(executed: List[Dict[str, Any]]) -> None:
    for cell in executed:
        assert cell.get("execution_count"), cell.source
        assert not [o for o in outputs(cell) if o.get("output_type") == "error"], cell.source


def test_the_answer_renders_as_html(executed: List[Dict[str, Any]]) -> None:
    cell = next(c for c in executed if c.source.startswith('answer = engine.ask("Which 5 artists'))
    page = next(o["data"]["text/html"] for o in outputs(cell) if "text/html" in o.get("data", {}))
    assert "<table>" in page and "Iron Maiden" in page and "LIMIT 5" in page


def test_the_follow_up_refines_the_question(executed: List[Dict[str, Any]]) -> None:
    cell = next(c for c in executed if c.source.startswith('answer = engine.ask("top 3 instead"'))
    text = text_of(cell)
    assert "LIMIT 3" in text and "('Iron Maiden', 213)" in text and "Metallica" not in text


def test_the_dataframe_and_the_charts_are_drawn(executed: List[Dict[str, Any]]) -> None:
    frame = next(c for c in executed if c.source.startswith("genres = engine.ask"))
    assert any("text/html" in o.get("data", {}) and "Rock" in o["data"]["text/html"] for o in outputs(frame))
    charts = [c for c in executed if "plot" in c.source]
    assert len(charts) == 2
    for cell in charts:
        assert any("image/png" in o.get("data", {}) for o in outputs(cell)), cell.source


def test_errors_and_asyncio_cells_show_their_results(executed: List[Dict[str, Any]]) -> None:
    error = next(c for c in executed if "CannotAnswerError" in c.source)
    assert "CANNOT_ANSWER" in text_of(error) and "happy" in text_of(error)
    gathered = next(c for c in executed if "asyncio.gather" in c.source)
    assert "'How many artists are there?': 275" in text_of(gathered)
    arrow = next(c for c in executed if "to_arrow" in c.source)
    assert "BillingCountry: string" in text_of(arrow)
