"""The store's layering: no import circles inside it, and code outside it uses the public faces."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import runwright

SRC = Path(runwright.__file__).resolve().parent
STORE = SRC / "store"
#: The feature packages of the store; each one's ``__init__`` is its public face.
PACKAGES = ("core", "schema", "execmodel", "patches", "plans", "workflows")
#: Modules at the store's top level that anything may use (the database handle and its types).
SHARED = ("database", "driver_sql", "types", "migrate", "blobs", "wake_signal")
#: Packages the system database's own packages may never reach for.
FEATURES = ("execmodel", "patches", "plans", "workflows")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[str]:
    """The runwright modules a file imports when it is loaded (not in functions, not under
    TYPE_CHECKING)."""
    tree = ast.parse(path.read_text())
    found: list[str] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                found.extend(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append(node.module)
                found.extend(f"{node.module}.{a.name}" for a in node.names)
            elif isinstance(node, ast.If | ast.Try):
                visit(node.body)
                visit(node.orelse)
                if isinstance(node, ast.Try):
                    for handler in node.handlers:
                        visit(handler.body)

    visit(tree.body)
    return [m for m in found if m.startswith("runwright.")]


def _store_graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in STORE.rglob("*.py") if "migrations" not in p.parts}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for target in _imports(path):
            if target in modules and target != name:
                graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in list(graph):
        if v not in index:
            strong(v)
    return found


def _package(module: str) -> str:
    """The store package a module belongs to ("shared" for the top-level modules)."""
    parts = module.split(".")
    return parts[2] if len(parts) >= 3 and parts[2] in PACKAGES else "shared"


def test_no_import_circle_inside_the_store() -> None:
    """No two store modules import each other, directly or through others."""
    assert _cycles(_store_graph()) == []


def test_store_packages_form_layers() -> None:
    """Between packages imports go one way: the shared modules use no package, the schema
    only the shared modules, the system database (core) never a feature, and no two packages
    import each other."""
    edges: dict[str, set[str]] = defaultdict(set)
    for source, targets in _store_graph().items():
        for target in targets:
            a, b = _package(source), _package(target)
            if a != b:
                edges[a].add(b)
    assert edges.get("shared", set()) == set(), "the shared modules import a package"
    assert edges.get("schema", set()) <= {"shared"}
    assert not edges.get("core", set()) & set(FEATURES), "the core imports a feature"
    assert _cycles(edges) == []


def test_code_outside_the_store_uses_its_public_faces() -> None:
    """Outside store/, code imports a store package (``runwright.store.core``, …) or a shared
    module (``runwright.store.database``, …), never a module inside a package."""
    allowed = {"runwright.store"}
    allowed |= {f"runwright.store.{p}" for p in PACKAGES}
    allowed |= {f"runwright.store.{m}" for m in SHARED}
    offenders = []
    for path in SRC.rglob("*.py"):
        if STORE in path.parents:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                module = node.module
            elif isinstance(node, ast.Import):
                module = next(
                    (a.name for a in node.names if a.name.startswith("runwright.store")), ""
                )
            else:
                continue
            if module.startswith("runwright.store") and module not in allowed:
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno} imports {module}")
    assert offenders == []
