"""The package tree reads like DESIGN.md's diagram: dependencies point downwards only, and no module imports
itself back through others (imports inside functions count too; ``if TYPE_CHECKING:`` ones do not)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import salesmcp

PACKAGE = Path(salesmcp.__file__).parent
LEAVES = {"config", "errors", "dates", "models", "validation", "logs", "scopes", "paging", "keyvalue", "malloc_tuning"}
# Higher layers may import lower ones; packages on one layer do not import each other.
LAYERS = {"leaf": 0, "store": 1, "migrations": 2, "services": 3, "api": 4, "mcp": 4, "desktop": 4, "web": 5,
          "cli": 6, "__main__": 7}  # fmt: skip


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(("salesmcp", *parts)).removesuffix(".__init__")
        found[name] = path
    return found


def _group(module: str) -> str:
    """The top-level part of the package a module belongs to: 'leaf', 'store', 'web', …"""
    parts = module.split(".")
    if len(parts) == 1:
        return "leaf"  # salesmcp itself (its __init__ only names the version)
    return "leaf" if parts[1] in LEAVES else parts[1]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The salesmcp modules ``module`` imports, anywhere in it but under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {id(child) for node in ast.walk(tree) if isinstance(node, ast.If) and _is_type_checking(node)
               for statement in node.body for child in ast.walk(statement)}  # fmt: skip
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            while name and name not in known:  # `from salesmcp.web import json_rpc` names a module; else a symbol
                name = name.rpartition(".")[0]
            if name and name != module and name.startswith("salesmcp"):
                found.add(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph = {name: _imports(name, path, known) for name, path in modules.items()}
    # Importing a submodule runs its packages' __init__ first: those edges are implied, not chosen.
    for name, targets in graph.items():
        graph[name] = {target for target in targets if not name.startswith(target + ".")}
    return graph


def test_no_module_imports_a_higher_layer_or_a_sibling_package():
    wrong = []
    for module, targets in _graph().items():
        for target in targets:
            source, dest = _group(module), _group(target)
            if source == dest:
                continue
            if LAYERS[dest] >= LAYERS[source]:
                wrong.append(f"{module} -> {target} ({source} may not import {dest})")
    assert wrong == []


def test_no_import_circle():
    graph = _graph()
    # Only the package __init__ files may be on a circle through their own submodules; none is.
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                circles.append([*trail[trail.index(target) :], target] if target in trail else [node, target])
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_the_tree_shows_the_architecture():
    packages = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").is_file()}
    assert {"cli", "api", "mcp", "web", "desktop", "services", "store"} <= packages
    loose = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    assert loose == LEAVES


def test_every_module_is_importable_together():
    for info in pkgutil.walk_packages(salesmcp.__path__, "salesmcp."):
        if info.name.endswith(("__main__", "migrations.env")):
            continue
        importlib.import_module(info.name)
