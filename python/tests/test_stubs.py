"""The type stubs describe the native module as built."""

import ast
from pathlib import Path

import hydra_detect
from hydra_detect import _native


def stub_names(path: Path) -> dict:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: dict = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names[node.name] = {
                n.name for n in node.body if isinstance(n, ast.FunctionDef) and n.name != "__init__"
            }
        elif isinstance(node, ast.FunctionDef):
            names[node.name] = set()
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = set()
    return names


def test_native_stubs_match_the_extension():
    stubs = stub_names(Path(hydra_detect.__file__).with_name("_native.pyi"))
    public = {n for n in dir(_native) if not n.startswith("_")} | {"__version__"}
    assert set(stubs) == public
    for name, methods in stubs.items():
        if methods:
            actual = {m for m in dir(getattr(_native, name)) if not m.startswith("_")}
            assert methods == actual, name


def test_the_package_is_typed():
    assert Path(hydra_detect.__file__).with_name("py.typed").exists()
