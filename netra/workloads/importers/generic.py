"""The generic formats: CSV, JSONL and Parquet files whose columns map onto event columns.

`ImportOptions.mapping` is {event column: source column}; a source column named like an
event column (and not mapped elsewhere) is taken as is; other columns are ignored. The
readers (`_csv`, `_jsonl`, `_parquet`) produce `Piece`s: an Arrow table of source
columns, the source row number of each row and the rows they rejected; `rebatch` cuts
them into `RawBatch`es of `batch_rows` rows named after event columns.

Text files are read in blocks of whole lines (`_generic_text.blocks`); each block is
parsed by pyarrow (the fast path) unless that fails, when a careful Python reader parses
that block alone and rejects each bad row precisely.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netra.errors import UserInputError
from netra.workloads.importers.base import ImportOptions, RawBatch, Rejection
from netra.workloads.importers.registry import HEAD_BYTES
from netra.workloads.importers.validate import COMPUTED, REQUIRED
from netra.workloads.schema import ARROW_SCHEMA, COLUMN_NAMES

IMPORTABLE = tuple(c for c in COLUMN_NAMES if c not in COMPUTED)
NESTED = ("prefix_hashes", "attributes")
# what a column name in a CSV header looks like (a letter or _ first: not a number, not JSON)
HEADER_NAME = re.compile(r"[A-Za-z_][\w .:/()\[\]-]{0,199}")
_MAP_HINT = 'e.g. --map "input_tokens=prompt_tokens,output_tokens=completion_tokens"'


def _listing(names: Iterable[str]) -> str:
    return ", ".join(n for n in names if n) or "(none)"


@dataclass(frozen=True)
class Selection:
    """Which source column feeds each event column of one file."""

    events: dict[str, str]
    where: str
    nested: bool = True

    @classmethod
    def of(cls, names: Sequence[str], options: ImportOptions, where: str, nested: bool = True) -> Selection:
        """Select from a file with these columns; raise `UserInputError` for what cannot be met."""
        mapping = check_mapping(options.mapping, nested)
        absent = [source for source in mapping.values() if source not in names]
        if absent:
            raise UserInputError(f"{where}: --map names {_listing(absent)}, not in the file; it has: {_listing(names)}")
        selection = cls(_with_named(mapping, names, nested), where, nested)
        selection.require(selection.events, names)
        return selection

    @classmethod
    def open(cls, options: ImportOptions, where: str, nested: bool = True) -> Selection:
        """Select from a file whose columns show only as rows are read: any event column may be there."""
        return cls(_with_named(check_mapping(options.mapping, nested), IMPORTABLE, nested), where, nested)

    @property
    def sources(self) -> list[str]:
        """Return the source columns to read, each once."""
        return list(dict.fromkeys(self.events.values()))

    def require(self, present: Iterable[str], names: Sequence[str]) -> None:
        """Raise `UserInputError` naming the first required event column not in `present`."""
        for name in [r for r in REQUIRED if r not in present]:
            raise UserInputError(f"{self.where}: the required column {name!r} is missing; the file has: "
                                 f"{_listing(names)}. Map one with --map {name}=COLUMN ({_MAP_HINT})")

    def batch(self, piece: Piece) -> RawBatch:
        """Return the raw batch of a piece: its source columns under their event names."""
        table = piece.table.combine_chunks()
        columns = {event: _column(event, table[source]) for event, source in self.events.items()
                   if source in table.column_names}
        return RawBatch({k: v for k, v in columns.items() if v is not None}, piece.rows, piece.rejections)


def check_mapping(mapping: dict[str, str], nested: bool = True) -> dict[str, str]:
    """Return `mapping` if every key is an event column this format can fill."""
    allowed = [c for c in IMPORTABLE if nested or c not in NESTED]
    wrong = [k for k in mapping if k not in allowed]
    if wrong:
        raise UserInputError(f"--map: {_listing(wrong)} is not an event column it can fill; "
                             f"columns: {_listing(allowed)}")
    return mapping


def _with_named(mapping: dict[str, str], names: Iterable[str], nested: bool) -> dict[str, str]:
    taken = set(mapping) | set(mapping.values())
    named = {n: n for n in names if n in IMPORTABLE and n not in taken and (nested or n not in NESTED)}
    return dict(mapping) | named


def _column(event: str, values: pa.ChunkedArray) -> pa.Array | None:
    """Return one event column's raw values; None when all are null or nested ones do not fit."""
    array = values.combine_chunks()
    if array.null_count == len(array):
        return None
    return _nested(event, array) if event in NESTED else array


def _nested(event: str, array: pa.Array) -> pa.Array | None:
    try:
        return array.cast(ARROW_SCHEMA.field(event).type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None


@dataclass
class Piece:
    """Parsed rows of a source: source columns, their row numbers, and rows already rejected."""

    table: pa.Table
    rows: np.ndarray
    rejections: list[Rejection] = field(default_factory=list)

    @classmethod
    def of_text(cls, columns: dict[str, list], rows: list[int], rejections: list[Rejection]) -> Piece:
        """Build a piece from text columns (None where a value is missing)."""
        table = pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})
        return cls(table, np.asarray(rows, np.int64), rejections)


def rebatch(pieces: Iterable[Piece], size: int, selection: Selection) -> Iterator[RawBatch]:
    """Cut pieces into raw batches of exactly `size` rows (the last may be smaller)."""
    held: Piece | None = None
    for piece in pieces:
        held = piece if held is None else _merge([held, piece])
        while held.table.num_rows >= size:
            first, held = _split(held, size)
            yield selection.batch(first)
    yield from [selection.batch(held)] if held is not None and (held.table.num_rows or held.rejections) else []


def _split(piece: Piece, size: int) -> tuple[Piece, Piece]:
    first = Piece(piece.table.slice(0, size), piece.rows[:size], piece.rejections)
    return first, Piece(piece.table.slice(size), piece.rows[size:])


def _merge(pieces: list[Piece]) -> Piece:
    if len(pieces) == 1:
        return pieces[0]
    tables = _unify([p.table for p in pieces])
    rows = np.concatenate([p.rows for p in pieces])
    return Piece(pa.concat_tables(tables), rows, [r for p in pieces for r in p.rejections])


def _unify(tables: list[pa.Table]) -> list[pa.Table]:
    """Give the tables the same columns and types (empty tables do not vote on the types)."""
    names = list(dict.fromkeys(n for t in tables for n in t.column_names))
    voters = [t for t in tables if t.num_rows] or tables
    kind = {n: _common([t.schema.field(n).type for t in voters if n in t.column_names] or [pa.null()]) for n in names}
    return [pa.table({n: _cast(t, n, kind[n]) for n in names}) for t in tables]


def _common(kinds: list[pa.DataType]) -> pa.DataType:
    """Return a type all of `kinds` convert to (int and float: float; null: any), else text."""
    try:
        return pa.unify_schemas([pa.schema([("c", k)]) for k in kinds], promote_options="permissive").field("c").type
    except (pa.ArrowTypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.string()


def _cast(table: pa.Table, name: str, kind: pa.DataType) -> pa.ChunkedArray | pa.Array:
    if name not in table.column_names:
        return pa.nulls(table.num_rows, kind)
    return table[name] if table[name].type == kind else pc.cast(table[name], kind)


def open_source(path: Path) -> BinaryIO:
    """Open a source file to read its bytes; a missing one is the caller's mistake (`UserInputError`)."""
    if not path.is_file():
        raise UserInputError(f"{path}: no such file")
    return open(path, "rb")


def _first_line(head: bytes) -> tuple[bytes, bool]:
    """Return the first non-blank line of `head` and whether it is complete."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    line, newline, _ = text.partition(b"\n")
    return line.strip(), bool(newline) or len(head) < HEAD_BYTES


def sniff_parquet(head: bytes, path: Path) -> bool:
    """Parquet files start with the magic `PAR1`."""
    return head[:4] == b"PAR1"


def sniff_jsonl(head: bytes, path: Path) -> bool:
    """A JSONL file's first non-blank line is a JSON object."""
    line, complete = _first_line(head)
    if not complete:
        return line.startswith(b"{")
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def sniff_csv(head: bytes, path: Path) -> bool:
    """A CSV file's first line is a header: two or more comma- or tab-separated column names."""
    line, _ = _first_line(head)
    text = line.decode("utf-8", "replace")
    delimiter = "\t" if "\t" in text and "," not in text else ","
    names = [n.strip().strip('"') for n in text.split(delimiter)]
    return len(names) > 1 and all(HEADER_NAME.fullmatch(n) for n in names)


@dataclass(frozen=True)
class GenericImporter:
    """One generic format: its sniffer, and the module whose `batches` reads it."""

    name: str
    module: str
    sniffer: Callable[[bytes, Path], bool]

    def sniff(self, head: bytes, path: Path) -> bool:
        """Return whether the file's first bytes look like this format."""
        return bool(self.sniffer(head, path))

    def batches(self, path: Path, options: ImportOptions) -> Iterator[RawBatch]:
        """Yield the raw batches of the file."""
        return import_module(f"netra.workloads.importers.{self.module}").batches(Path(path), options)


IMPORTERS = {"csv": GenericImporter("csv", "_csv", sniff_csv),
             "jsonl": GenericImporter("jsonl", "_jsonl", sniff_jsonl),
             "parquet": GenericImporter("parquet", "_parquet", sniff_parquet)}
