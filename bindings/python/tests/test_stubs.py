"""The type stubs of the extension module (`_native.pyi`) against the built module: the same
classes, the same methods, properties and static methods, the same parameters in the same order
with the same defaults. A change to the Rust API that is not made in the stub fails here."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Dict, List, Tuple

import conversational_bi
from conversational_bi import _native

PACKAGE = Path(conversational_bi.__file__).parent
Params = List[Tuple[str, str]]  # (name, default as source text or "")
Member = Tuple[str, Params]  # (kind, params)


def stub_members() -> Tuple[Dict[str, Dict[str, Member]], Dict[str, Member]]:
    tree = ast.parse((PACKAGE / "_native.pyi").read_text())
    classes: Dict[str, Dict[str, Member]] = {}
    functions: Dict[str, Member] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            members = {}
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    decorators = {d.id for d in item.decorator_list if isinstance(d, ast.Name)}
                    kind = (
                        "property"
                        if "property" in decorators
                        else "staticmethod"
                        if "staticmethod" in decorators
                        else "method"
                    )
                    params = stub_params(item, skip_self=kind != "staticmethod")
                    members[item.name] = (kind, [] if kind == "property" else params)
            classes[node.name] = members
        elif isinstance(node, ast.FunctionDef):
            functions[node.name] = ("function", stub_params(node, skip_self=False))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            functions[node.target.id] = ("constant", [])
    return classes, functions


def stub_params(fn: ast.FunctionDef, skip_self: bool) -> Params:
    args = fn.args.args[1:] if skip_self else fn.args.args
    defaults = [""] * (len(args) - len(fn.args.defaults)) + [ast.unparse(d) for d in fn.args.defaults]
    return [(a.arg, d) for a, d in zip(args, defaults)]


def runtime_params(obj: object) -> Params:
    signature = inspect.signature(obj)  # from the __text_signature__ PyO3 generates
    return [
        (p.name, "" if p.default is inspect.Parameter.empty else repr(p.default))
        for p in signature.parameters.values()
        if p.name != "self"
    ]


def runtime_members() -> Tuple[Dict[str, Dict[str, Member]], Dict[str, Member]]:
    classes: Dict[str, Dict[str, Member]] = {}
    functions: Dict[str, Member] = {}
    for name, obj in vars(_native).items():
        if name.startswith("__") and name != "__version__":
            continue
        if inspect.isclass(obj):
            members = {}
            for attr, raw in vars(obj).items():
                if attr.startswith("__"):
                    continue
                if inspect.isgetsetdescriptor(raw) or isinstance(raw, property):
                    members[attr] = ("property", [])
                elif isinstance(raw, staticmethod):
                    members[attr] = ("staticmethod", runtime_params(getattr(obj, attr)))
                else:
                    members[attr] = ("method", runtime_params(getattr(obj, attr)))
            classes[name] = members
        elif callable(obj):
            functions[name] = ("function", runtime_params(obj))
        elif not inspect.ismodule(obj):
            functions[name] = ("constant", [])
    return classes, functions


def test_stub_classes_and_functions_match_the_module() -> None:
    stub_classes, stub_functions = stub_members()
    runtime_classes, runtime_functions = runtime_members()
    assert sorted(stub_classes) == sorted(runtime_classes)
    assert stub_functions == runtime_functions


def test_stub_members_match_the_module() -> None:
    stub_classes, _ = stub_members()
    runtime_classes, _ = runtime_members()
    for name, runtime in runtime_classes.items():
        stub = stub_classes[name]
        assert sorted(stub) == sorted(runtime), f"members of {name}"
        for member, (kind, params) in runtime.items():
            assert stub[member] == (kind, params), f"{name}.{member}"


def test_the_check_sees_the_whole_api() -> None:
    # Guards the introspection itself: if it stopped seeing members, the comparisons above
    # would pass vacuously.
    runtime_classes, runtime_functions = runtime_members()
    assert {"create", "connect", "ask", "ask_async", "schema"} <= set(runtime_classes["Engine"])
    assert runtime_classes["Engine"]["ask"] == (
        "method",
        [
            ("question", ""),
            ("session_id", "None"),
            ("tenant_id", "None"),
            ("user", "None"),
            ("remove_scope", "None"),
        ],
    )
    assert runtime_classes["Engine"]["list_sessions"] == (
        "method",
        [("limit", "None"), ("tenant_id", "None"), ("user", "None")],
    )
    assert runtime_classes["Answer"]["scope"] == ("property", [])
    assert runtime_classes["Answer"]["rows"] == ("property", [])
    assert runtime_classes["Engine"]["create"][0] == "staticmethod"
    assert "sample_error" in runtime_functions


def test_the_package_is_typed() -> None:
    assert (PACKAGE / "py.typed").is_file()
    assert (PACKAGE / "_native.pyi").is_file()
