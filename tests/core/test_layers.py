"""The package's import layers: imports go down (or sideways within a layer), never up, no cycles.

Top to bottom (README, Development):

0. ``cli`` (and the CLI's display helpers)
1. ``runner``, ``leaderboard``, ``gate``, ``records``, ``runstore`` (and ``modelinfo``, ``flags``,
   ``runsetup``)
2. ``benchmarks``, ``models``, ``metrics``, ``fid``, ``judges``
3. ``registry``, ``catalog`` (lazy "module:attr" entries: listing imports nothing below)
4. ``store``, ``cache``, ``filehash`` (and ``cards``, ``imagefiles``, ``seeding``)
5. ``types``

Every ``import`` counts, at module level or inside a function, except those under
``if TYPE_CHECKING:``. The package root ``evalkit/__init__.py`` is a facade (``__version__`` and
lazy ``evalkit.run``) and is left out. Standard library only (an AST walk), so it runs anywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "evalkit"

LAYERS: dict[str, int] = {
    "cli": 0,
    "progress": 0,
    "__main__": 0,
    "cli_errors": 0,
    "display": 0,
    "cache_cli": 0,
    "runner": 1,
    "leaderboard": 1,
    "gate": 1,
    "records": 1,
    "runstore": 1,
    "modelinfo": 1,
    "merge": 1,
    "distributed": 1,
    "site": 1,
    "plots": 1,
    "selection": 1,
    "errors": 1,
    "tables": 1,
    "options": 1,
    "needs": 1,
    "fetch": 1,
    "flags": 1,
    "runsetup": 1,
    "benchmarks": 2,
    "models": 2,
    "metrics": 2,
    "fid": 2,
    "judges": 2,
    "scores": 2,
    "generators": 2,
    "rate": 2,
    "registry": 3,
    "catalog": 3,
    "store": 4,
    "assets": 4,
    "lockfile": 4,
    "hubfetch": 4,
    "urlfetch": 4,
    "hubdata": 4,
    "cache": 4,
    "filehash": 4,
    "cards": 4,
    "imagefiles": 4,
    "seeding": 4,
    "sweep": 4,
    "types": 5,
}
NAMES = [
    "cli",
    "runner and friends",
    "benchmarks/models/metrics/fid",
    "registry/catalog",
    "store/cache/filehash",
    "types",
]


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(name: str) -> set[str]:
    """evalkit modules that ``name`` imports (outside ``if TYPE_CHECKING:``)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("evalkit"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.startswith("evalkit"):
                for alias in node.names:
                    sub = f"{module}.{alias.name}"
                    found.add(sub if sub in MODULES else module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    found.discard(name)
    return {m for m in found if m != "evalkit"}  # the root facade: see the module docstring


def layer(name: str) -> int:
    top = name.split(".")[1]
    if top not in LAYERS:
        raise AssertionError(
            f"{name}: place evalkit.{top} in a layer (tests/core/test_layers.py "
            "LAYERS and README's Development section)"
        )
    return LAYERS[top]


GRAPH = {m: imports_of(m) for m in MODULES if m != "evalkit"}


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_go_down_or_sideways(module: str) -> None:
    up = [
        f"{dep} (layer {layer(dep)}: {NAMES[layer(dep)]})"
        for dep in sorted(GRAPH[module])
        if layer(dep) < layer(module)
    ]
    assert not up, f"{module} (layer {layer(module)}) imports upward: {up}"


def test_no_import_cycles() -> None:
    """Tarjan's strongly connected components over every evalkit import."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH.get(v, ()):
            if w not in GRAPH:
                continue
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(GRAPH):
        if v not in index:
            strong(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_walk_sees_imports() -> None:
    """The checker itself: known edges are found, TYPE_CHECKING-only ones are not."""
    assert "evalkit.filehash" in GRAPH["evalkit.store"]
    assert "evalkit.cache" in GRAPH["evalkit.filehash"]
    assert "evalkit.runner" not in GRAPH["evalkit.modelinfo"]  # torch-free `models list`
    assert "evalkit.types" in GRAPH["evalkit.benchmarks.base"]  # re-exports the core types
    assert not GRAPH["evalkit.types"]  # the bottom layer imports nothing of evalkit
    assert "evalkit.types" not in GRAPH["evalkit.benchmarks.tokbench.benchmark"]  # TYPE_CHECKING
    assert not any(dep.startswith("evalkit.benchmarks") for dep in GRAPH["evalkit.fid.api"])
