"""The package under test is the installed wheel, in a virtualenv of its own."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import conversational_bi
from conftest import REPO


def test_the_package_comes_from_the_installed_wheel() -> None:
    installed = Path(sysconfig.get_paths()["platlib"]).resolve()
    assert Path(conversational_bi.__file__).resolve().parent.parent == installed
    assert not Path(conversational_bi.__file__).resolve().is_relative_to(REPO)
    native = Path(conversational_bi._native.__file__)
    assert native.name == "_native.abi3.so"  # one build for every CPython >= 3.9


def test_distribution_metadata() -> None:
    dist = metadata.distribution("heliosdb-conversational-bi")
    assert dist.version == conversational_bi.__version__
    cargo = (REPO / "Cargo.toml").read_text()
    assert f'version = "{dist.version}"' in cargo
    assert dist.metadata["Requires-Python"] == ">=3.9"
    extras = dist.metadata.get_all("Requires-Dist") or []
    assert any(r.startswith("pandas") and "dataframe" in r for r in extras)
    files = {str(f) for f in dist.files or []}
    assert {"conversational_bi/py.typed", "conversational_bi/_native.pyi"} <= files


def test_importing_loads_no_optional_dependency() -> None:
    code = "import sys, conversational_bi; print(sorted(m for m in ('pandas', 'pyarrow', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
