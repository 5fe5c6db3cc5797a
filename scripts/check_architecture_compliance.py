"""Check the house size rules: source files of at most 300 lines, functions of at most 8.

Python files are also checked for the idioms that meet those rules by compression instead of
design (`_ = cond and effect()`, a tuple or list as a statement, a list multiplied by a
condition, `;` between statements): see scripts/compression_idioms.py.

A function's lines run from its `def` line to its end, leaving out decorators, docstrings,
blank lines and comment-only lines. Python functions (methods and nested functions too)
are found with `ast`; JavaScript/TypeScript functions (`function name(...) {`, arrow
functions with block bodies, class methods) with a brace-matching heuristic. Other source
types (.css .html .sql .sh) are checked for file length only.

Usage: python scripts/check_architecture_compliance.py [--strict] [--report] [--path P]...
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compression_idioms import Idiom, idioms  # noqa: E402  (a sibling module of this script)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIRS = ("netra", "tests", "evals", "bench", "scripts")
SOURCE_SUFFIXES = frozenset({".py", ".js", ".ts", ".css", ".html", ".sql", ".sh"})
SKIP_DIRS = frozenset({".venv", "venv", "__pycache__", "node_modules", ".git", "data",
                       ".pytest_cache", ".mypy_cache", "build", "dist"})
GENERATED_SUFFIXES = (".min.js", ".min.css", ".d.ts")
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 8
REPORT_SIZE = 10

_NON_CODE_TOKENS = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                              tokenize.DEDENT, tokenize.ENDMARKER, tokenize.ENCODING})
_DOCUMENTED = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
_PARSE_ERRORS = (SyntaxError, ValueError, tokenize.TokenError)

# comments become blanks; string bodies become "x" so their braces never count
_JS_MASK = re.compile(r"//[^\n]*|/\*.*?\*/|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'"
                      r"|`(?:\\.|[^`\\])*`", re.S)
_JS_FUNCTION = re.compile(
    r"\bfunction\b\s*\*?\s*(?P<fn>[\w$]*)\s*\([^)]*\)[^{;]*?\{"
    r"|(?:(?P<arrow>[\w$]+)\s*[:=]\s*)?(?:async\s+)?(?:\([^)]*\)|[\w$]+)\s*(?::[^=;{()]+)?=>\s*\{"
    r"|^[ \t]*(?:(?:async|static|get|set|public|private|protected|override)\s+)*"
    r"(?P<method>[\w$]+)\s*\([^)]*\)\s*(?::[^{;=]+)?\{", re.M)
_JS_NOT_METHODS = frozenset({"if", "for", "while", "switch", "catch", "with", "return", "function"})
_BRACES = re.compile(r"[{}]")


@dataclass(frozen=True)
class Function:
    """One function: its name, `def` line and counted length."""

    name: str
    line: int
    length: int


@dataclass(frozen=True)
class FileStats:
    """What was measured in one source file."""

    path: Path
    lines: int
    functions: tuple[Function, ...] = ()
    error: str = ""
    idioms: tuple[Idiom, ...] = ()


def python_functions(text: str) -> list[Function]:
    """Return every function and method of Python source, nested ones too."""
    tree = ast.parse(text)
    code = _python_code_lines(text) - _docstring_lines(tree)
    nodes = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return [Function(n.name, n.lineno, len(code.intersection(range(n.lineno, n.end_lineno + 1))))
            for n in nodes]


def _python_code_lines(text: str) -> set[int]:
    """Return the numbers of lines that hold code (not blank, not comment-only)."""
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return {n for t in tokens if t.type not in _NON_CODE_TOKENS for n in range(t.start[0], t.end[0] + 1)}


def _docstring_lines(tree: ast.AST) -> set[int]:
    """Return the line numbers of every module, class and function docstring."""
    firsts = [n.body[0] for n in ast.walk(tree) if isinstance(n, _DOCUMENTED) and n.body]
    docs = [s for s in firsts if isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
            and isinstance(s.value.value, str)]
    return {n for s in docs for n in range(s.lineno, s.end_lineno + 1)}


def js_functions(text: str) -> list[Function]:
    """Return the functions of JavaScript/TypeScript source found by brace matching."""
    masked = _JS_MASK.sub(_mask, text)
    code = {i for i, line in enumerate(masked.splitlines(), 1) if line.strip()}
    found = [(m, _js_name(m)) for m in _JS_FUNCTION.finditer(masked)]
    return [_js_function(masked, code, m, name) for m, name in found if name not in _JS_NOT_METHODS]


def _mask(match: re.Match) -> str:
    """Blank out a comment, or fill a string literal with `x`, keeping its newlines."""
    text = match.group()
    return re.sub(r"[^\n]", " " if text[:2] in ("//", "/*") else "x", text)


def _js_name(match: re.Match) -> str:
    """Return the name a function-start match found, or `<anonymous>`."""
    return next((g for g in match.group("fn", "arrow", "method") if g), "<anonymous>")


def _js_function(masked: str, code: set[int], match: re.Match, name: str) -> Function:
    """Measure the JS function whose body opens at the end of `match`."""
    first = _line_of(masked, match.start())
    last = _line_of(masked, _closing_brace(masked, match.end() - 1))
    return Function(name, first, len(code.intersection(range(first, last + 1))))


def _closing_brace(masked: str, start: int) -> int:
    """Return the offset of the brace that closes the one at `start`."""
    depth = 0
    for brace in _BRACES.finditer(masked, start):
        depth += 1 if brace.group() == "{" else -1
        if depth == 0:
            return brace.start()
    return len(masked)


def _line_of(text: str, offset: int) -> int:
    """Return the 1-based line number of `offset` in `text`."""
    return text.count("\n", 0, offset) + 1


FINDERS: dict[str, Callable[[str], list[Function]]] = {
    ".py": python_functions, ".js": js_functions, ".ts": js_functions}
IDIOM_FINDERS: dict[str, Callable[[str], list[Idiom]]] = {".py": idioms}


def measure(path: Path) -> FileStats:
    """Count the lines of one source file and of each of its functions."""
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        functions = FINDERS.get(path.suffix, lambda _: [])(text)
        found = IDIOM_FINDERS.get(path.suffix, lambda _: [])(text)
    except _PARSE_ERRORS as exc:
        return FileStats(path, len(text.splitlines()), (), f"cannot parse: {exc}")
    return FileStats(path, len(text.splitlines()), tuple(functions), idioms=tuple(found))


def violations(stats: FileStats) -> list[str]:
    """Return one message per rule the file breaks."""
    shown = display(stats.path)
    issues = [f"{shown}: {stats.error}"] if stats.error else []
    issues += [f"{shown}: file has {stats.lines} lines (max {MAX_FILE_LINES})"
               ] if stats.lines > MAX_FILE_LINES else []
    issues += [f"{shown}:{f.line}: function {f.name} has {f.length} lines (max {MAX_FUNCTION_LINES})"
               for f in stats.functions if f.length > MAX_FUNCTION_LINES]
    return issues + [f"{shown}:{i.line}: {i.name}" for i in stats.idioms]


def is_source(path: Path) -> bool:
    """Return whether `path` names a source file the rules cover."""
    return path.suffix in SOURCE_SUFFIXES and not path.name.endswith(GENERATED_SUFFIXES)


def source_files(paths: Iterable[Path]) -> list[Path]:
    """Return the source files in `paths` (files or directories), skipping tool dirs."""
    found = {f.resolve() for p in paths for f in _walk(p)}
    return sorted(found)


def _walk(path: Path) -> list[Path]:
    """Return the source files at or below `path`."""
    if path.is_file():
        return [path] if is_source(path) else []
    return [f for f in path.rglob("*") if f.is_file() and is_source(f)
            and not SKIP_DIRS.intersection(f.relative_to(path).parts[:-1])]


def display(path: Path) -> str:
    """Return `path` relative to the repository root when it is inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def report(stats: list[FileStats]) -> list[str]:
    """Return a table of the largest files and the longest functions."""
    files = sorted(stats, key=lambda s: -s.lines)[:REPORT_SIZE]
    functions = sorted(((f, s) for s in stats for f in s.functions), key=lambda p: -p[0].length)
    rows = [f"{f.length:>7}  {display(s.path)}:{f.line} {f.name}" for f, s in functions[:REPORT_SIZE]]
    return (["largest files:", f"{'lines':>7}  path"] + [f"{s.lines:>7}  {display(s.path)}" for s in files]
            + ["longest functions:", f"{'lines':>7}  function"] + rows)


def _existing_path(value: str) -> Path:
    """Parse a `--path` value, refusing paths that do not exist."""
    path = Path(value)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"no such file or directory: {value}")
    return path


def _parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when any rule is broken")
    parser.add_argument("--path", action="append", type=_existing_path,
                        help="check only this file or directory (repeatable)")
    parser.add_argument("--report", action="store_true", help="list the largest files and functions")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Check the files, print violations (and the report), return the exit code."""
    args = _parser().parse_args(argv)
    stats = [measure(p) for p in source_files(args.path or [ROOT / d for d in DEFAULT_DIRS])]
    problems = [v for s in stats for v in violations(s)]
    lines = problems + (report(stats) if args.report else [])
    print("\n".join(lines + [f"compliance: {len(problems)} violations in {len(stats)} files"]))
    return 1 if args.strict and problems else 0


if __name__ == "__main__":
    sys.exit(main())
