"""The import graph of `netra.server` has no cycle, counting imports inside functions.

Every module of the package is parsed with `ast`; each `import x.y` and `from x import y`
(module-level or inside a function, `from . import y` resolved against the package) that
names a module of `netra.server` is an edge. Imports under `if TYPE_CHECKING:` are left
out: they never run. A cycle fails the test, named module by module.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest

import netra.server

ROOT = Path(netra.server.__file__).parent
PACKAGE = "netra.server"


def module_names() -> dict[str, Path]:
    """Return every module of the package by dotted name (a package by its own name)."""
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        dotted = ".".join([PACKAGE, *(parts[:-1] if parts[-1] == "__init__" else parts)])
        found[dotted] = path
    return found


def is_type_checking(node: ast.If) -> bool:
    """Return whether an `if` tests TYPE_CHECKING (its imports are for annotations only)."""
    test = node.test
    return getattr(test, "id", None) == "TYPE_CHECKING" or getattr(test, "attr", None) == "TYPE_CHECKING"


def runtime_imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Yield the import statements under `node` that run (anywhere but under `if TYPE_CHECKING:`)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and is_type_checking(child):
            child = ast.Module(body=child.orelse, type_ignores=[])  # only its `else` runs
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        yield from runtime_imports(child)


def base_of(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """Return the module a `from ... import` names, its leading dots resolved against `module`."""
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    anchor = parts if is_package else parts[:-1]
    anchor = anchor[:len(anchor) - node.level + 1]
    return ".".join([*anchor, *([node.module] if node.module else [])])


def targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]) -> set[str]:
    """Return the package's modules an import statement loads (`from p import m`: the module p.m when it is one)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names if alias.name in known}
    base = base_of(node, module, is_package)
    named = {f"{base}.{alias.name}" for alias in node.names} & known
    return named | ({base} & known)


def with_parents(names: set[str], known: set[str]) -> set[str]:
    """Return the modules and the packages above them that importing them runs (`a.b.c` runs `a.b`)."""
    parents = {".".join(name.split(".")[:n]) for name in names for n in range(1, name.count(".") + 1)}
    return names | (parents & known)


def edges_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Return the package's modules module `name` imports at run time, with their packages (not its own)."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(), str(path))
    found = set().union(*(targets(node, name, is_package, known) for node in runtime_imports(tree)))
    return {edge for edge in with_parents(found, known) if not name.startswith(edge + ".") and edge != name}


def import_graph() -> dict[str, set[str]]:
    """Return module -> the package's modules it imports at run time."""
    modules = module_names()
    return {name: edges_of(name, path, set(modules)) for name, path in modules.items()}


@dataclass
class CycleSearch:
    """A depth-first walk of an import graph that stops at the first cycle."""

    graph: dict[str, set[str]]
    done: set[str] = field(default_factory=set)  # modules whose imports hold no cycle
    path: list[str] = field(default_factory=list)  # the modules being walked, outermost first

    def first(self) -> list[str] | None:
        """Return the first cycle found (its modules, the first repeated last), or None."""
        for node in sorted(self.graph):
            cycle = None if node in self.done else self.visit(node)
            if cycle:
                return cycle
        return None

    def visit(self, node: str) -> list[str] | None:
        """Walk the modules `node` imports; return a cycle through the path, or None."""
        self.path.append(node)
        for nxt in sorted(self.graph.get(node, ())):
            cycle = self.step(nxt)
            if cycle:
                return cycle
        self.done.add(node)
        self.path.pop()

    def step(self, nxt: str) -> list[str] | None:
        """Return the cycle `nxt` closes, or walk it."""
        if nxt in self.path:
            return [*self.path[self.path.index(nxt):], nxt]
        return None if nxt in self.done else self.visit(nxt)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one cycle of the graph as the modules along it (first repeated last), or None."""
    return CycleSearch(graph).first()


@pytest.mark.parametrize("graph, cycle", [
    ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ({"a": {"a2"}, "a2": {"b"}, "b": {"a2"}}, ["a2", "b", "a2"]),
], ids=["acyclic", "three", "two"])
def test_find_cycle_names_the_modules_along_it(graph, cycle):
    assert find_cycle(graph) == cycle


def test_relative_imports_resolve_against_the_package():
    tree = ast.parse("from . import log\nfrom .events import RunIds\nfrom .. import errors\n")
    nodes = runtime_imports(tree)
    known = {"netra.server.runs.log", "netra.server.runs.events", "netra.server.errors"}
    found = set().union(*(targets(node, "netra.server.runs", True, known) for node in nodes))
    assert found == known


def test_type_checking_imports_are_left_out():
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import netra.server.app\n"
                     "def f():\n    import netra.server.errors\n")
    names = {alias.name for node in runtime_imports(tree) for alias in node.names}
    assert names == {"TYPE_CHECKING", "netra.server.errors"}


def test_netra_server_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle in netra.server: " + " -> ".join(cycle or [])
