"""Read an export file as numbered rows, whatever shape the tool wrote it in.

| first non-blank byte | shape | row number |
|---|---|---|
| `[` | a JSON array of row objects | the element, from 1 |
| `{`, the first line a whole object without a `data` array | JSON Lines, one row object a line | the line |
| `{`, otherwise | one JSON object whose `data` is the array (an API page) | the element, from 1 |
| anything else | CSV with a header line (nested values as JSON text) | the data row, from 1 |

A JSON Lines line that is not JSON, or not UTF-8, is passed on as a `Rejection` with its line
number; a line over `options.max_line_bytes` too. A file that cannot be read at all (a CSV
that breaks off, a JSON document that does not parse or is over `MAX_DOCUMENT_BYTES`, a page
without a `data` array) raises `UserInputError` naming the file and, where known, the line.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

from netra.errors import UserInputError
from netra.workloads.importers.base import ImportOptions, Rejection

MAX_DOCUMENT_BYTES = 512 * 1024 * 1024  # a whole JSON document is parsed at once: bigger exports must be JSONL
Shape = Literal["array", "jsonl", "page", "csv"]
Numbered = Iterator[tuple[int, Any] | Rejection]


def _first_line(path: Path, options: ImportOptions) -> bytes:
    with open(path, "rb") as handle:
        for line in handle:
            if line.strip():
                return line.removeprefix(b"\xef\xbb\xbf").strip()[: options.max_line_bytes + 1]
    return b""


def _object_shape(line: bytes) -> Shape:
    """Return `jsonl` for a first line that is a whole row object, `page` for a page (whole or not)."""
    try:
        value = json.loads(line)
    except ValueError:
        return "page"
    return "page" if isinstance(value.get("data"), list) else "jsonl"


def shape_of(path: Path, options: ImportOptions) -> Shape:
    """Return the shape of an export file from its first non-blank line."""
    first = _first_line(path, options)
    if first.startswith(b"["):
        return "array"
    if first.startswith(b"{"):
        return _object_shape(first)
    return "csv"


def csv_rows(path: Path, options: ImportOptions) -> Numbered:
    """Yield (data row number, row) of a CSV file with a header line (UserInputError: unreadable, naming the line)."""
    csv.field_size_limit(max(csv.field_size_limit(), options.max_line_bytes))
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        try:
            yield from enumerate(reader, 1)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise UserInputError(f"{path.name}: line {reader.line_num + 1} cannot be read as CSV: {exc}") from exc


def jsonl_rows(path: Path, options: ImportOptions) -> Numbered:
    """Yield (line number, row) per non-blank line; a line that cannot be read becomes a rejection."""
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield _line(number, line, options.max_line_bytes)


def _line(number: int, line: bytes, limit: int) -> tuple[int, Any] | Rejection:
    if len(line) > limit:
        return Rejection(number, "oversized_line", f"line {number} is over {limit:,} bytes")
    return _parsed(number, line)


def _parsed(number: int, line: bytes) -> tuple[int, Any] | Rejection:
    try:
        return number, json.loads(line)
    except UnicodeDecodeError:
        return Rejection(number, "invalid_utf8", f"line {number} is not valid UTF-8")
    except (ValueError, RecursionError) as exc:
        return Rejection(number, "malformed_row", f"line {number} is not valid JSON: {str(exc)[:120]}")


def _document(path: Path) -> Any:
    if path.stat().st_size > MAX_DOCUMENT_BYTES:
        raise UserInputError(f"{path.name}: a JSON document over {MAX_DOCUMENT_BYTES:,} bytes; export JSON Lines")
    try:
        return json.loads(path.read_bytes())
    except (ValueError, RecursionError) as exc:
        raise UserInputError(f"{path.name}: not valid JSON: {str(exc)[:200]}") from exc


def array_rows(path: Path, options: ImportOptions) -> Numbered:
    """Yield (element number, row) of a JSON array."""
    yield from enumerate(_document(path), 1)


def page_rows(path: Path, options: ImportOptions) -> Numbered:
    """Yield (element number, row) of the `data` array of one JSON object (an API page)."""
    rows = _document(path).get("data")
    if not isinstance(rows, list):
        raise UserInputError(f"{path.name}: a JSON object without a `data` array of rows")
    yield from enumerate(rows, 1)


SHAPES: dict[Shape, Callable[[Path, ImportOptions], Numbered]] = {
    "array": array_rows, "jsonl": jsonl_rows, "page": page_rows, "csv": csv_rows}


def read_rows(path: Path, options: ImportOptions) -> Numbered:
    """Yield (row number, row), or a rejection, of an export file in whichever shape it has."""
    yield from SHAPES[shape_of(path, options)](path, options)
