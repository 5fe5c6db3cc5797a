"""Measure how many private helpers are used exactly once, per package, and their chains.

    python scripts/helper_report.py                 # per-package table over netra/
    python scripts/helper_report.py --chains        # also the chains of single-use helpers
    python scripts/helper_report.py --root tests    # any other tree

Definitions (so the figure is reproducible):
- a function is every `def` (module functions, methods, nested functions);
- it is private when its name starts with exactly one underscore (`_name`, not `__name__`);
- it is single-use when its name is referenced exactly once in the scanned tree's source:
  a bare name (a call or a callback passed along) or an attribute (`self._name`,
  `module._name`) each count once; its own `def` and `import` lines do not count;
- a package is a directory right below the root (`netra/graph`, with its subpackages);
  modules directly in the root form the row named after the root;
- the share is single-use private helpers over all functions of the package.

A chain link is a function passing 3 or more of its own parameters, unchanged, to a
single-use private helper; `--chains` lists the longest runs of such links first. Those are
the helpers that are really steps of one concept sharing state: an object holding the state
(a dataclass with methods) or a table reads better than the chain.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_PARAMETERS = 3
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_RECEIVERS = frozenset({"self", "cls"})


@dataclass(frozen=True)
class Call:
    """A call made by a function: the callee's name and the plain names passed to it."""

    name: str
    names: frozenset[str]


@dataclass(frozen=True)
class Definition:
    """One `def`: where it is, its parameters and the calls in its body."""

    name: str
    path: Path
    line: int
    package: str
    params: frozenset[str]
    calls: tuple[Call, ...]


@dataclass(frozen=True)
class Row:
    """The helper figures of one package."""

    package: str
    functions: int
    private: int
    single_use: int

    @property
    def share(self) -> float:
        """Return single-use private helpers as a share of all functions (0 when none)."""
        return self.single_use / self.functions if self.functions else 0.0

    def line(self) -> str:
        """Return the row as a table line."""
        of_private = self.single_use / self.private if self.private else 0.0
        return (f"{self.package:<24}{self.functions:>10}{self.private:>9}{self.single_use:>12}"
                f"{self.share:>8.1%}{of_private:>12.1%}")


def is_private(name: str) -> bool:
    """Return whether `name` is private: one leading underscore, not a dunder."""
    return name.startswith("_") and not name.startswith("__")


def callee(call: ast.Call) -> str:
    """Return the name a call invokes (`f(...)`, `obj.f(...)`), or ""."""
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return call.func.id if isinstance(call.func, ast.Name) else ""


def passed_name(value: ast.expr) -> str:
    """Return `name` for a plain name argument, `self.name` for the caller's own state, or ""."""
    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == "self":
        return f"self.{value.attr}"
    return value.id if isinstance(value, ast.Name) else ""


def passed_names(call: ast.Call) -> frozenset[str]:
    """Return the plain names and `self.` attributes passed to a call, positionally or by keyword."""
    values = [*call.args, *(k.value for k in call.keywords)]
    return frozenset(map(passed_name, values)) - {""}


def parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> frozenset[str]:
    """Return a function's parameter names, leaving out `self` and `cls`."""
    every = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    return frozenset(a.arg for a in every) - _RECEIVERS


def shared_state(call: Call, caller: Definition) -> frozenset[str]:
    """Return what a call passes on of its caller's state: its parameters and `self.` attributes."""
    return frozenset(n for n in call.names if n in caller.params or n.startswith("self."))


def references(tree: ast.AST) -> Counter[str]:
    """Count every loaded name and attribute name in a module (defs and imports excluded)."""
    names = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
    attrs = [n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)]
    return Counter(names + attrs)


@dataclass
class Census:
    """The functions of a source tree and how often each name is referenced in it."""

    root: Path
    definitions: list[Definition]
    counts: Counter[str]

    @classmethod
    def of(cls, root: Path) -> Census:
        """Parse every Python file below `root` (tool and cache directories skipped)."""
        census = cls(root, [], Counter())
        for path in sorted(root.rglob("*.py")):
            if not {"__pycache__", ".venv"}.intersection(path.parts):
                census.add(path, ast.parse(path.read_text(encoding="utf-8")))
        return census

    def add(self, path: Path, tree: ast.AST) -> None:
        """Record one module's definitions and references."""
        self.counts.update(references(tree))
        package = self.package_of(path)
        for node in (n for n in ast.walk(tree) if isinstance(n, _FUNCTIONS)):
            calls = tuple(Call(callee(c), passed_names(c)) for c in ast.walk(node) if isinstance(c, ast.Call))
            self.definitions.append(Definition(node.name, path, node.lineno, package, parameters(node), calls))

    def package_of(self, path: Path) -> str:
        """Return the package row a file belongs to (the root's name for top-level modules)."""
        parts = path.relative_to(self.root).parts
        return f"{self.root.name}/{parts[0]}" if len(parts) > 1 else self.root.name

    def single_use(self, definition: Definition) -> bool:
        """Return whether a definition is a private helper referenced exactly once."""
        return is_private(definition.name) and self.counts[definition.name] == 1

    def row(self, package: str, members: list[Definition]) -> Row:
        """Return the figures of `members` under the name `package`."""
        private = [d for d in members if is_private(d.name)]
        return Row(package, len(members), len(private), sum(map(self.single_use, private)))

    def rows(self) -> list[Row]:
        """Return one row per package, then the total over the whole tree."""
        packages = sorted({d.package for d in self.definitions})
        per_package = [self.row(p, [d for d in self.definitions if d.package == p]) for p in packages]
        return per_package + [self.row(f"{self.root.name} (all)", self.definitions)]


@dataclass
class Chains:
    """The links from a function to the single-use helpers it passes 3+ of its parameters to."""

    census: Census
    shared: int = SHARED_PARAMETERS

    def helper(self, caller: Definition, name: str) -> Definition | None:
        """Return the single-use helper `name` as defined in the caller's file, if any."""
        found = [d for d in self.census.definitions if d.name == name and d.path == caller.path]
        return found[0] if found and self.census.single_use(found[0]) else None

    def links(self, caller: Definition) -> list[tuple[Definition, frozenset[str]]]:
        """Return each single-use helper `caller` calls with the parameters it passes on."""
        pairs = [(self.helper(caller, c.name), shared_state(c, caller)) for c in caller.calls]
        return [(d, shared) for d, shared in pairs if d and len(shared) >= self.shared]

    def longest(self, start: Definition, seen: frozenset[str] = frozenset()) -> list[Definition]:
        """Return the longest run of links starting at `start` (no function visited twice)."""
        runs = [self.longest(d, seen | {start.name}) for d, _ in self.links(start) if d.name not in seen]
        return [start, *max(runs, key=len, default=[])]

    def ranked(self) -> list[list[Definition]]:
        """Return every maximal run of at least one link, longest first, then by file."""
        targets = {id(d) for caller in self.census.definitions for d, _ in self.links(caller)}
        runs = [self.longest(d) for d in self.census.definitions if id(d) not in targets]
        kept = [r for r in runs if len(r) > 1]
        return sorted(kept, key=lambda r: (-len(r), str(r[0].path), r[0].line))

    def lines(self) -> list[str]:
        """Return one line per run: its length, where it starts and the names along it."""
        shown = [f"{len(r) - 1:>6}  {display(r[0].path)}:{r[0].line} "
                 + " -> ".join(d.name for d in r) for r in self.ranked()]
        title = f"chains of single-use helpers sharing {self.shared}+ parameters or `self.` attributes:"
        return [title, f"{'links':>6}  start", *shown]


def display(path: Path) -> str:
    """Return `path` relative to the repository root when it is inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


HEADER = f"{'package':<24}{'functions':>10}{'private':>9}{'single-use':>12}{'share':>8}{'of private':>12}"


def report(root: Path, shared: int = 0) -> list[str]:
    """Return the per-package table (and the chains sharing `shared`+ parameters, if > 0)."""
    census = Census.of(root)
    lines = [HEADER, *(row.line() for row in census.rows())]
    lines.append("share = single-use private helpers / all functions; of private = / private functions")
    return lines + (Chains(census, shared).lines() if shared else [])


def main(argv: list[str] | None = None) -> int:
    """Print the report for the tree named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT / "netra", help="the tree to measure")
    parser.add_argument("--chains", type=int, nargs="?", const=SHARED_PARAMETERS, default=0, metavar="N",
                        help=f"also list chains of single-use helpers sharing N parameters ({SHARED_PARAMETERS})")
    args = parser.parse_args(argv)
    print("\n".join(report(args.root.resolve(), args.chains)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
