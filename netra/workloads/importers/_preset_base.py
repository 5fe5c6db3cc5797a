"""The preset importer: recognise a format by its first line, parse its lines with pyarrow.

A `Preset` reads a file as numbered line groups (`_preset_io`), parses each group in one
pyarrow call and hands the parsed columns to the format's `transform`, which names them
after event columns. When pyarrow refuses a group (a line that is not JSON, a value of the
wrong type), the group is halved until the refused lines are found: each is rejected as
`malformed_row` with pyarrow's message, and the rest is parsed in a few calls, so a clean
file costs one call per group and a dirty one a few more per bad line.
"""

from __future__ import annotations

import codecs
import csv as pycsv
import io
import json
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Callable, Iterator, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson

from netra.workloads.importers._preset_io import LineGroup, read_groups
from netra.workloads.importers.base import ImportOptions, RawBatch, Rejection

Columns = dict[str, pa.Array]
# index of a line in the parsed bytes -> why the parser dropped it
Dropped = dict[int, str]
Transform = Callable[[pa.Table, np.ndarray, ImportOptions, Path], tuple[Columns, np.ndarray, list[Rejection]]]
_PARSE_ERRORS = (pa.ArrowException, ValueError)
_MIN_BLOCK = 1 << 20
_OBJECT_START = re.compile(rb"[ \t\r]*\{")
_DETAIL_CHARS = 200
# pyarrow's "in row N" counts rows of the parsed range, not of the file: left out
_PYARROW_ROW = re.compile(r"\.? in row \d+\.?$")


class Parser(Protocol):
    """Parses the bytes of whole lines into a table of `schema`; says which lines it dropped."""

    schema: pa.Schema

    def __call__(self, data: bytes, longest: int) -> tuple[pa.Table, Dropped]:
        """Return the parsed rows and the lines dropped (index -> reason)."""


class CsvParser:
    """Header-less CSV lines with the file's column `names`; keeps the `wanted` ones as text."""

    def __init__(self, names: list[str], wanted: tuple[str, ...]) -> None:
        self.names, self.wanted = names, [n for n in wanted if n in names]
        self.schema = pa.schema([(n, pa.string()) for n in self.wanted])

    def __call__(self, data: bytes, longest: int) -> tuple[pa.Table, Dropped]:
        """Parse `data` (one thread, so rows of the wrong width are reported by line)."""
        dropped: Dropped = {}
        read = pacsv.ReadOptions(column_names=self.names, use_threads=False, block_size=_block(longest))
        parse = pacsv.ParseOptions(invalid_row_handler=partial(_skip_row, dropped))
        convert = pacsv.ConvertOptions(include_columns=self.wanted, strings_can_be_null=True,
                                       column_types={n: pa.string() for n in self.wanted})
        return pacsv.read_csv(io.BytesIO(data), read, parse, convert), dropped


def _skip_row(dropped: Dropped, row: pacsv.InvalidRow) -> str:
    """Note a CSV row of the wrong width (1-based `row.number`) and skip it."""
    dropped[row.number - 1] = f"expected {row.expected_columns} fields, found {row.actual_columns}"
    return "skip"


@dataclass(frozen=True)
class JsonParser:
    """JSON Lines read with an explicit schema: fields outside it are ignored."""

    schema: pa.Schema

    def __call__(self, data: bytes, longest: int) -> tuple[pa.Table, Dropped]:
        """Parse `data`; refuse lines that are not objects (pyarrow crashes on a bare `null`)."""
        if not _all_objects(data):
            raise ValueError("line is not a JSON object")
        parse = pajson.ParseOptions(explicit_schema=self.schema, unexpected_field_behavior="ignore")
        return pajson.read_json(io.BytesIO(data), pajson.ReadOptions(block_size=_block(longest)), parse), {}


def _all_objects(data: bytes) -> bool:
    """Return whether every line's first non-blank byte is `{` (only lines not starting with it are searched)."""
    raw = np.frombuffer(data, np.uint8)
    starts = np.concatenate(([0], np.flatnonzero(raw == ord("\n")) + 1))[:-1]
    odd = starts[raw[starts] != ord("{")]
    return all(_OBJECT_START.match(data, int(start)) for start in odd)


def _block(longest: int) -> int:
    """Return a parser block size that holds the longest line."""
    return max(_MIN_BLOCK, 2 * longest + 2)


@dataclass
class _Parsed:
    """What the halving parse collected: tables, their rows' line numbers, refused lines."""

    tables: list[pa.Table] = field(default_factory=list)
    rows: list[np.ndarray] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def parse_group(group: LineGroup, parser: Parser) -> tuple[pa.Table, np.ndarray, list[Rejection]]:
    """Parse a group's lines; return the table, its rows' line numbers and the refused lines."""
    out = _Parsed()
    if len(group.numbers):
        _bisect(group, parser, 0, len(group.numbers), out)
    table = pa.concat_tables(out.tables) if out.tables else parser.schema.empty_table()
    return table, np.concatenate(out.rows) if out.rows else np.empty(0, np.int64), out.rejections


def _bisect(group: LineGroup, parser: Parser, lo: int, hi: int, out: _Parsed) -> None:
    """Parse lines [lo, hi); on failure, halve the range, or reject the one line it holds."""
    try:
        table, dropped = _parse(group, parser, lo, hi)
    except _PARSE_ERRORS as error:
        _halve(group, parser, lo, hi, out, error)
        return
    _collect(group.numbers[lo:hi], table, dropped, out)


def _parse(group: LineGroup, parser: Parser, lo: int, hi: int) -> tuple[pa.Table, Dropped]:
    """Parse lines [lo, hi) and check that each line gave exactly one row."""
    table, dropped = parser(group.part(lo, hi), group.longest)
    if table.num_rows != hi - lo - len(dropped):
        raise ValueError(f"{hi - lo - len(dropped)} lines gave {table.num_rows} rows")
    return table, dropped


def _halve(group: LineGroup, parser: Parser, lo: int, hi: int, out: _Parsed, error: Exception) -> None:
    """Parse each half of a refused range, or reject its only line."""
    if hi - lo == 1:
        detail = _PYARROW_ROW.sub("", str(error))[:_DETAIL_CHARS]
        out.rejections.append(Rejection(int(group.numbers[lo]), "malformed_row", detail))
        return
    _bisect(group, parser, lo, (lo + hi) // 2, out)
    _bisect(group, parser, (lo + hi) // 2, hi, out)


def _collect(numbers: np.ndarray, table: pa.Table, dropped: Dropped, out: _Parsed) -> None:
    """Keep a parsed range: its table, the numbers of the lines kept, and the dropped lines."""
    kept = np.ones(len(numbers), bool)
    kept[list(dropped)] = False
    out.tables.append(table)
    out.rows.append(numbers[kept])
    out.rejections += [Rejection(int(numbers[i]), "malformed_row", why) for i, why in sorted(dropped.items())]


@dataclass(frozen=True)
class Preset:
    """A preset format: a test on its first line, a parser per file, and its transform."""

    name: str
    accepts: Callable[[str, Path], bool]
    parser: Callable[[Path, ImportOptions], Parser]
    transform: Transform
    header: bool = False

    def sniff(self, head: bytes, path: Path) -> bool:
        """Return whether the file's first line (and name) look like this format."""
        return self.accepts(first_line(head), path)

    def batches(self, path: Path, options: ImportOptions) -> Iterator[RawBatch]:
        """Yield the file's raw batches."""
        parser = self.parser(path, options)
        for group in read_groups(path, options, self.header):
            yield self._batch(group, parser, options, path)

    def _batch(self, group: LineGroup, parser: Parser, options: ImportOptions, path: Path) -> RawBatch:
        """Parse and transform one group of lines."""
        table, rows, refused = parse_group(group, parser)
        columns, rows, dropped = self.transform(table, rows, options, path)
        return RawBatch(columns, rows, sorted(group.rejections + refused + dropped, key=lambda r: r.row))


def first_line(head: bytes) -> str:
    """Return the first line of `head` as text (BOM and line end removed)."""
    line = head.removeprefix(codecs.BOM_UTF8).split(b"\n", 1)[0]
    return line.rstrip(b"\r").decode("utf-8", errors="replace")


def header_names(line: str) -> list[str]:
    """Return the column names of a CSV header line ([] when it is not text CSV, e.g. binary)."""
    try:
        return [name.strip() for name in next(pycsv.reader([line]), [])]
    except pycsv.Error:
        return []


def file_header(path: Path, options: ImportOptions) -> list[str]:
    """Return the column names in the first line of a CSV file."""
    with open(path, "rb") as handle:
        return header_names(first_line(handle.readline(options.max_line_bytes + 1)))


def json_keys(line: str) -> set[str]:
    """Return the top-level keys of a JSON object line ({} when it is not one)."""
    try:
        value = json.loads(line)
    except ValueError:
        return set()
    return set(value) if isinstance(value, dict) else set()
