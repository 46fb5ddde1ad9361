"""Packs the extension that `cargo build --workspace --all-targets` built into a wheel.

`maturin build` compiles the crate again, with the feature set of this one package; the
workspace build already made the same extension with the workspace's feature set. Packing that
file spares CI a second build of the dependency tree (and of the core on every change). The
metadata is maturin's own (`maturin pep517 write-dist-info`, which reads pyproject.toml and
Cargo.toml without compiling), and the files are laid out as maturin lays them out: the
`python-source` package plus the extension named after `module-name`.

Usage: python assemble_wheel.py --lib PATH/libconversational_bi_py.so --out DIR [--maturin BIN]
Prints the wheel's path. Releases are still built with `maturin build --release`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import List, Tuple

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent.parent  # bindings/python


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", required=True, type=Path, help="the cargo-built cdylib")
    parser.add_argument("--out", required=True, type=Path, help="folder for the wheel")
    parser.add_argument("--maturin", default="maturin", help="the maturin executable")
    args = parser.parse_args()
    if not args.lib.is_file():
        sys.exit(
            f"{args.lib} not found: build it first with "
            "PYO3_BUILD_EXTENSION_MODULE=1 cargo build --workspace --all-targets"
        )
    print(assemble(args.lib, args.out, args.maturin))
    return 0


def assemble(lib: Path, out: Path, maturin: str) -> Path:
    pyproject = tomllib.loads((HERE / "pyproject.toml").read_text(encoding="utf-8"))
    tool = pyproject["tool"]["maturin"]
    package, _, module = tool["module-name"].rpartition(".")
    source = HERE / tool.get("python-source", ".") / package.replace(".", "/")
    if not (source / "__init__.py").is_file():
        sys.exit(f"{source} is not a Python package; check [tool.maturin] python-source")

    with tempfile.TemporaryDirectory() as meta:
        done = subprocess.run(
            [maturin, "pep517", "write-dist-info", "--metadata-directory", meta],
            cwd=HERE,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            sys.exit(f"maturin could not write the wheel's metadata:\n{done.stderr}")
        (dist_info,) = Path(meta).glob("*.dist-info")
        files: List[Tuple[str, bytes]] = []
        for path in sorted(source.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".so":
                files.append((path.relative_to(source.parent).as_posix(), path.read_bytes()))
        files.append((f"{package.replace('.', '/')}/{module}.abi3.so", lib.read_bytes()))
        for path in sorted(dist_info.rglob("*")):
            if path.is_file():
                files.append((f"{dist_info.name}/{path.relative_to(dist_info).as_posix()}", path.read_bytes()))
        tag = next(
            line.split(":", 1)[1].strip()
            for line in (dist_info / "WHEEL").read_text().splitlines()
            if line.startswith("Tag:")
        )
        name_version = dist_info.name[: -len(".dist-info")]

    out.mkdir(parents=True, exist_ok=True)
    wheel = out / f"{name_version}-{tag}.whl"
    record = [f"{name},{_digest(data)},{len(data)}" for name, data in files]
    record.append(f"{name_version}.dist-info/RECORD,,")
    tmp = wheel.with_suffix(".tmp")
    # Level 1 deflate: the extension is large and the wheel is only installed locally.
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if name.endswith(".so") else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data, compresslevel=1)
        z.writestr(f"{name_version}.dist-info/RECORD", "\n".join(record) + "\n")
    os.replace(tmp, wheel)
    return wheel


def _digest(data: bytes) -> str:
    raw = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


if __name__ == "__main__":
    sys.exit(main())
