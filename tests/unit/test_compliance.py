"""The architecture compliance check, run as a script over small planted files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # every test runs the script in a subprocess

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_architecture_compliance.py"


def run(*args: object) -> subprocess.CompletedProcess:
    """Run the compliance script with `args`; return the finished process."""
    command = [sys.executable, str(SCRIPT), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)


def py_function(name: str, lines: int, prefix: str = "def") -> str:
    """Return a Python function of exactly `lines` counted lines."""
    return f"{prefix} {name}():\n" + "".join(f"    x{i} = {i}\n" for i in range(lines - 1))


def js_function(name: str, lines: int) -> str:
    """Return a JavaScript function of exactly `lines` counted lines (braces included)."""
    return f"function {name}(a) {{\n" + "".join(f"  a += {i};\n" for i in range(lines - 2)) + "}\n"


DECORATED_EIGHT = '''\
import functools


@functools.lru_cache(
    maxsize=None,
)
def tidy(a, b):
    """Return a sum, documented at length.

    Args:
        a: the first.
        b: the second.

    Returns:
        The sum.
    """
    # a comment-only line

    total = a + b  # a trailing comment does not hide code
    # another comment
    if total:
        total += 1

    total *= 2
    total -= 1
    total += 3
    return total
'''

NESTED_NINE = '''\
def outer():
    """Doc."""
    def inner():
        """Inner doc."""
        return 1
    a = inner()
    b = a + 1
    c = b + 1
    d = c + 1
    e = d + 1
    return e
'''

METHOD_NINE = "class Box:\n    " + py_function("fill", 9, "async def").replace("\n", "\n    ")

MULTILINE_STRING_NINE = 'def query():\n    sql = """\n' + "\n".join(["    SELECT 1"] * 6) + '\n    """\n    return sql\n'

JS_COMMENTED_EIGHT = """\
/** A documented function. */
function tidy(a) {
  // comment-only
  const s = "}}}";  /* braces in strings and comments { */

  /* a block
     comment */
  a += 1;
  a += 2;
  a += 3;
  a += 4;
  return a + s;
}
"""

JS_ARROW_NINE = "const go = async (a) => {\n" + "".join(f"  a += {i};\n" for i in range(7)) + "};\n"

# file name, content, exit code, expected output lines ("{path}" is the file's path)
STRICT_CASES = [
    ("nine.py", py_function("f", 9), 1, ["{path}:1: function f has 9 lines (max 8)",
                                         "compliance: 1 violations in 1 files"]),
    ("eight.py", py_function("f", 8), 0, ["compliance: 0 violations in 1 files"]),
    ("decorated.py", DECORATED_EIGHT, 0, ["compliance: 0 violations in 1 files"]),
    ("nested.py", NESTED_NINE, 1, ["{path}:1: function outer has 9 lines (max 8)"]),
    ("method.py", METHOD_NINE, 1, ["{path}:2: function fill has 9 lines (max 8)"]),
    ("strings.py", MULTILINE_STRING_NINE, 1, ["{path}:1: function query has 10 lines (max 8)"]),
    ("long.sql", "SELECT 1;\n" * 301, 1, ["{path}: file has 301 lines (max 300)"]),
    ("full.sh", "echo hi\n" * 300, 0, ["compliance: 0 violations in 1 files"]),
    ("big.js", js_function("big", 9), 1, ["{path}:1: function big has 9 lines (max 8)"]),
    ("ok.js", js_function("ok", 8), 0, ["compliance: 0 violations in 1 files"]),
    ("tidy.js", JS_COMMENTED_EIGHT, 0, ["compliance: 0 violations in 1 files"]),
    ("go.ts", JS_ARROW_NINE, 1, ["{path}:1: function go has 9 lines (max 8)"]),
    ("notes.md", "words\n" * 400, 0, ["compliance: 0 violations in 0 files"]),
    ("data.json", "{}\n" * 400, 0, ["compliance: 0 violations in 0 files"]),
    ("broken.py", "def f(:\n", 1, ["{path}: cannot parse"]),
]


@pytest.mark.parametrize(("name", "text", "code", "expected"), STRICT_CASES,
                         ids=[c[0] for c in STRICT_CASES])
def test_strict_run_over_one_file(tmp_path: Path, name: str, text: str, code: int, expected: list[str]):
    """Check each planted file with --strict: the exit code and the printed lines."""
    (tmp_path / name).write_text(text)
    result = run("--strict", "--path", tmp_path)
    path = (tmp_path / name).resolve()
    assert result.returncode == code, result.stdout + result.stderr
    assert all(line.format(path=path) in result.stdout for line in expected), result.stdout


@pytest.mark.parametrize(("args", "code"), [(["--strict"], 1), ([], 0)])
def test_strict_sets_exit_code_but_violations_are_always_listed(tmp_path: Path, args: list[str], code: int):
    """Fail only under --strict, and list the violation either way."""
    (tmp_path / "nine.py").write_text(py_function("f", 9))
    result = run(*args, "--path", tmp_path)
    assert result.returncode == code
    assert "function f has 9 lines (max 8)" in result.stdout


@pytest.mark.parametrize("skipped", [".venv", "__pycache__", "node_modules", "data"])
def test_tool_and_data_directories_are_skipped(tmp_path: Path, skipped: str):
    """Skip virtualenvs, caches, node_modules and data directories."""
    (tmp_path / skipped).mkdir()
    (tmp_path / skipped / "nine.py").write_text(py_function("f", 9))
    result = run("--strict", "--path", tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "compliance: 0 violations in 0 files")


def test_several_paths_files_and_directories(tmp_path: Path):
    """Check only the given files and directories, each once."""
    for folder in ("a", "b", "c"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "nine.py").write_text(py_function("f", 9))
    result = run("--strict", "--path", tmp_path / "a", "--path", tmp_path / "b" / "nine.py",
                 "--path", tmp_path / "a" / "nine.py")
    assert result.returncode == 1
    assert "compliance: 2 violations in 2 files" in result.stdout


def test_missing_path_is_a_usage_error(tmp_path: Path):
    """Refuse a --path that does not exist rather than pass silently."""
    result = run("--strict", "--path", tmp_path / "nowhere")
    assert result.returncode == 2
    assert "no such file or directory" in result.stderr


def test_report_lists_largest_files_and_longest_functions(tmp_path: Path):
    """Print both tables, largest first, with counted function lengths."""
    (tmp_path / "small.py").write_text(py_function("short", 3))
    (tmp_path / "large.py").write_text(py_function("long", 12) + "\n" * 20)
    lines = run("--report", "--path", tmp_path).stdout.splitlines()
    files, functions = lines.index("largest files:"), lines.index("longest functions:")
    assert lines[files + 2].split() == ["32", str((tmp_path / "large.py").resolve())]
    assert lines[functions + 2].split() == ["12", f"{(tmp_path / 'large.py').resolve()}:1", "long"]
    assert lines[functions + 3].split()[::2] == ["3", "short"]


def test_default_run_covers_the_repository():
    """Check the default directories and end with the summary line."""
    result = run()
    assert result.returncode == 0
    assert result.stdout.splitlines()[-1].startswith("compliance: ")


COMPRESSED = {
    "_ = ready and start()\n": "`_ = ... and/or ...`",
    "ready or start()\n": "side effect through `and`/`or`",
    "start(), stop()\n": "a tuple or list as a statement",
    "[start(x) for x in xs]\n": "a tuple or list as a statement",
    "notes = [note] * (count > 0)\n": "a list multiplied by a condition",
    "a = 1; b = 2\n": "`;` joining statements",
}


@pytest.mark.parametrize("line, name", COMPRESSED.items())
def test_compression_idioms_are_refused(tmp_path: Path, line: str, name: str):
    """Refuse each idiom that shortens a function by compression, naming it and its line."""
    (tmp_path / "squeezed.py").write_text("x = 0\n" + line)
    result = run("--strict", "--path", tmp_path)
    assert result.returncode == 1
    assert f"squeezed.py:2: {name}" in result.stdout


def test_the_designed_forms_pass(tmp_path: Path):
    """Pass the written-out forms: an `if`, one statement per effect, a zero-filled list, a kept value."""
    designed = ("if ready:\n    start()\nstart()\nstop()\nzeros = [0] * count\n"
                "found = ready and start()\nfor x in xs:\n    start(x)\n")
    (tmp_path / "designed.py").write_text(designed)
    result = run("--strict", "--path", tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "compliance: 0 violations in 1 files")
