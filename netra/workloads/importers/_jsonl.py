"""JSON Lines (one JSON object per line) into raw batches.

Row numbers are line numbers (blank lines are skipped but counted). Top-level keys are
the source columns. Each block is parsed by `pyarrow.json.read_json`, each selected key
typed as its first value in the first lines is. A block it cannot parse exactly (a line
that is not an object, a value of another type, a blank line, bytes that are not UTF-8,
a line over the limit) is parsed again line by line with `json`. Which columns the file
has shows only as it is read, so a required column no row has is reported (and nothing
loads) at the end.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.json as pj

from netra.errors import UserInputError
from netra.workloads.importers.base import ImportOptions, RawBatch
from netra.workloads.importers._generic_text import TextRows, blocks, decode, lines_fit, utf8_problem
from netra.workloads.importers.generic import Piece, Selection, open_source, rebatch
from netra.workloads.importers.validate import TEXT_COLUMNS

HEAD_LINES = 100
# event column -> the Arrow type its key is read as when the first rows have no value for it
TYPES = {name: pa.string() for name in TEXT_COLUMNS} | {"timestamp": pa.string(), "is_batch": pa.bool_(),
                                                       "prompt_hash": pa.uint64()}
# JSON type of a key's first value -> the Arrow type it is read as (integers: see `_type`)
VALUE_TYPES = {bool: pa.bool_(), float: pa.float64(), str: pa.string()}
_JSON_TYPES = {list: "array", str: "string", bool: "boolean", int: "number", float: "number", type(None): "null"}


@dataclass
class Layout:
    """What every block of one JSONL file shares, and what reading it has seen so far."""

    selection: Selection
    schema: pa.Schema
    limit: int
    keys: list[str]
    seen: set[str] = field(default_factory=set)
    objects: int = 0

    def options(self) -> tuple[pj.ReadOptions, pj.ParseOptions]:
        """Return how pyarrow reads a block: the selected keys typed, other keys ignored."""
        return (pj.ReadOptions(block_size=max(1 << 20, 2 * self.limit + 2)),
                pj.ParseOptions(explicit_schema=self.schema, unexpected_field_behavior="ignore"))

    def saw(self, piece: Piece) -> Piece:
        """Note which source keys have values in a piece; return it."""
        self.objects += piece.table.num_rows
        self.seen |= {n for n in piece.table.column_names if piece.table[n].null_count < piece.table.num_rows}
        return piece


def batches(path: Path, options: ImportOptions) -> Iterator[RawBatch]:
    """Yield the raw batches of a JSONL file."""
    with open_source(path) as handle:
        layout = _layout(handle, options, path)
        yield from rebatch(_pieces(handle, layout), options.batch_rows, layout.selection)
    _check_seen(layout, options)


def _layout(handle: BinaryIO, options: ImportOptions, path: Path) -> Layout:
    head = _head(handle)
    selection = Selection.open(options, path.name, nested=False)
    schema = pa.schema([(s, _kind(selection, s, head)) for s in selection.sources])
    return Layout(selection, schema, options.max_line_bytes, list(dict.fromkeys(k for o in head for k in o)))


def _kind(selection: Selection, source: str, head: list[dict]) -> pa.DataType:
    """A key is read as the JSON type of its first value in the first rows (else as its column's)."""
    first = next((o[source] for o in head if o.get(source) is not None), None)
    kinds = {_type(event, first) for event, s in selection.events.items() if s == source}
    return kinds.pop() if len(kinds) == 1 else pa.string()


def _type(event: str, value: Any) -> pa.DataType:
    if value is None:
        return TYPES.get(event, pa.float64())
    if isinstance(value, int) and not isinstance(value, bool):
        return pa.uint64() if event == "prompt_hash" else pa.int64() if event in TEXT_COLUMNS else pa.float64()
    return VALUE_TYPES.get(type(value), pa.string())


def _head(handle: BinaryIO) -> list[dict]:
    """Return the objects among the first lines (to name the file's keys), then rewind."""
    objects = [_loads(handle.readline(1 << 16)) for _ in range(HEAD_LINES)]
    handle.seek(0)
    return [o for o in objects if isinstance(o, dict)]


def _loads(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def _check_seen(layout: Layout, options: ImportOptions) -> None:
    """Fail the import (nothing loads) if a mapped or required key never had a value."""
    if not layout.objects:
        return
    absent = [s for s in options.mapping.values() if s not in layout.seen]
    if absent:
        raise UserInputError(f"{layout.selection.where}: --map names {', '.join(absent)}, which no row has; "
                             f"the first rows have: {', '.join(layout.keys) or '(none)'}")
    layout.selection.require([e for e, s in layout.selection.events.items() if s in layout.seen], layout.keys)


def _pieces(handle: BinaryIO, layout: Layout) -> Iterator[Piece]:
    line = 1
    for block in blocks(handle, layout.limit):
        lines = block.count(b"\n") + (not block.endswith(b"\n"))
        yield layout.saw(_fast(block, layout, line, lines) or _careful(block, layout, line))
        line += lines


def _fast(block: bytes, layout: Layout, first: int, lines: int) -> Piece | None:
    """Parse a block with pyarrow; None unless every line gave exactly one valid object."""
    if not lines_fit(block, layout.limit):
        return None
    try:
        table = _valid_utf8(pj.read_json(pa.py_buffer(block), *layout.options()))
    except pa.ArrowException:
        return None
    return Piece(table, np.arange(first, first + lines)) if table.num_rows == lines else None


def _valid_utf8(table: pa.Table) -> pa.Table:
    """Return the table; raise ArrowInvalid if a text column holds bytes that are not UTF-8."""
    for name in [n for n in table.column_names if pa.types.is_string(table[n].type)]:
        table[name].validate(full=True)
    return table


def _careful(block: bytes, layout: Layout, first: int) -> Piece:
    """Parse a block line by line, rejecting each bad line with its number."""
    taken = TextRows(layout.selection.sources)
    for number, raw in enumerate(block.split(b"\n"), first):
        taken.add(number, *(_object(raw, layout, taken.sources) if raw.strip() else (None, None)))
    return taken.piece()


def _object(raw: bytes, layout: Layout, sources: list[str]) -> tuple[list | None, tuple[str, str] | None]:
    """Return (the selected values as text, None), or (None, (reason, detail)) for a bad line."""
    if len(raw) > layout.limit:
        return None, ("oversized_line", f"a line longer than {layout.limit:,} bytes")
    return _values(raw, sources)


def _values(raw: bytes, sources: list[str]) -> tuple[list | None, tuple[str, str] | None]:
    text, dirty = decode(raw)
    value = _loads(text)
    if not isinstance(value, dict):
        return None, ("malformed_row", _not_object(text, value))
    values = [_text(value.get(s)) for s in sources]
    problem = utf8_problem(values) if dirty else None
    return (None, problem) if problem else (values, None)


def _not_object(text: str, value: Any) -> str:
    if value is None and text.strip() != "null":
        return "not valid JSON"
    return f"a JSON {_JSON_TYPES.get(type(value), type(value).__name__)}, not an object"


def _text(value: Any) -> str | None:
    """Return a JSON value as the text the validator parses (None stays missing)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, (int, float)) else json.dumps(value)
