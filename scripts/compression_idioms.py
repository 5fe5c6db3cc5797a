"""Find Python idioms that meet the size rules by compression instead of design.

    found = idioms(source_text)     # -> [Idiom(line=12, name="side effect through `and`/`or`"), ...]

The house rules keep functions short by design (tables, typed records, objects holding their
state). These idioms only squeeze lines, so the compliance check refuses them:
- an expression statement, or an assignment to `_`, that runs an effect through `and`/`or`
  (`_ = cond and effect()`, `ok or retry()`): write the `if`;
- a tuple, list or list comprehension as a statement (`a(), b()`, `[f(x) for x in xs]`): one
  statement per effect, or a `for` loop;
- a list multiplied by a condition (`[note] * (count > 0)`): build the list with an `if`;
- `;` joining statements on one line.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass

_SEQUENCES = (ast.Tuple, ast.List, ast.ListComp, ast.SetComp)
_CONDITIONS = (ast.Compare, ast.BoolOp)


@dataclass(frozen=True)
class Idiom:
    """One compression idiom: where it is and what it is."""

    line: int
    name: str


def _is_underscore(targets: list[ast.expr]) -> bool:
    """Return whether an assignment's only target is the throwaway name `_`."""
    return len(targets) == 1 and isinstance(targets[0], ast.Name) and targets[0].id == "_"


def _is_condition(node: ast.expr) -> bool:
    """Return whether `node` reads as a truth value (a comparison, `and`/`or`, `not x`, `bool(x)`)."""
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, ast.Not)
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id in ("bool", "int") and len(node.args) == 1
    return isinstance(node, _CONDITIONS)


def _list_times_condition(node: ast.BinOp) -> bool:
    """Return whether `node` multiplies a list literal by a condition."""
    pairs = ((node.left, node.right), (node.right, node.left))
    return isinstance(node.op, ast.Mult) and any(isinstance(a, ast.List) and _is_condition(b) for a, b in pairs)


def _statement_idiom(node: ast.stmt) -> str:
    """Return the idiom a statement is, or ""."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.BoolOp):
        return "side effect through `and`/`or` (write the `if`)"
    if isinstance(node, ast.Assign) and _is_underscore(node.targets) and isinstance(node.value, ast.BoolOp):
        return "`_ = ... and/or ...` for a side effect (write the `if`)"
    if isinstance(node, ast.Expr) and isinstance(node.value, _SEQUENCES):
        return "a tuple or list as a statement (one statement per effect, or a `for`)"
    return ""


def _expression_idioms(tree: ast.AST) -> list[Idiom]:
    """Return the lists multiplied by a condition in `tree`."""
    products = [n for n in ast.walk(tree) if isinstance(n, ast.BinOp) and _list_times_condition(n)]
    return [Idiom(n.lineno, "a list multiplied by a condition (build it with an `if`)") for n in products]


def _semicolons(text: str) -> list[Idiom]:
    """Return the `;` tokens that join statements."""
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return [Idiom(t.start[0], "`;` joining statements") for t in tokens if t.type == tokenize.OP and t.string == ";"]


def idioms(text: str) -> list[Idiom]:
    """Return every compression idiom in Python source, in line order."""
    tree = ast.parse(text)
    statements = [(n.lineno, _statement_idiom(n)) for n in ast.walk(tree) if isinstance(n, ast.stmt)]
    found = [Idiom(line, name) for line, name in statements if name]
    return sorted(found + _expression_idioms(tree) + _semicolons(text), key=lambda idiom: idiom.line)
