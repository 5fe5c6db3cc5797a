"""CSV (comma- or tab-separated, with a header line) into raw batches.

Row numbers count data records from 1 after the header (blank lines are not counted; a
record whose quoted value spans lines is one row). Each block is parsed by
`pyarrow.csv.read_csv` (text event columns read as text, numbers and timestamps
inferred); a block it cannot parse (a row with the wrong field count, bytes that are not
UTF-8, a line over the limit) is parsed again by the `csv` module, row by row.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from netra.errors import UserInputError
from netra.workloads.importers.base import ImportOptions, RawBatch
from netra.workloads.importers._generic_text import (TextRows, blocks, decode, lines_fit, rest_of_line,
                                                     utf8_problem)
from netra.workloads.importers.generic import Piece, Selection, open_source, rebatch
from netra.workloads.importers.validate import TEXT_COLUMNS

# event column -> the Arrow type its source column is read as (others are inferred)
TYPES = {name: pa.string() for name in TEXT_COLUMNS} | {"prompt_hash": pa.uint64()}
# stands for a line over the limit in the careful reader: one record of one field
OVERSIZED = "\x00\x01oversized line\x01\x00"


@dataclass(frozen=True)
class Layout:
    """What every block of one CSV file shares: header, delimiter, selection, limit."""

    header: list[str]
    delimiter: str
    selection: Selection
    limit: int

    @property
    def wanted(self) -> list[int]:
        """Return the header positions of the source columns, in `selection.sources` order."""
        return [self.header.index(source) for source in self.selection.sources]

    def options(self) -> tuple[pcsv.ReadOptions, pcsv.ParseOptions, pcsv.ConvertOptions]:
        """Return how pyarrow reads a block: named columns, quoted line breaks, selected columns typed."""
        types = {s: TYPES[e] for e, s in self.selection.events.items() if e in TYPES}
        return (pcsv.ReadOptions(column_names=self.header, block_size=max(1 << 20, 2 * self.limit + 2)),
                pcsv.ParseOptions(delimiter=self.delimiter, newlines_in_values=True),
                pcsv.ConvertOptions(include_columns=self.selection.sources, column_types=types, check_utf8=True,
                                    null_values=[""], strings_can_be_null=False))


def batches(path: Path, options: ImportOptions) -> Iterator[RawBatch]:
    """Yield the raw batches of a CSV file."""
    with open_source(path) as handle:
        layout = _layout(handle, options, path)
        # the csv module refuses fields over 128 KiB by default; a line may be up to the limit
        csv.field_size_limit(max(csv.field_size_limit(), layout.limit))
        yield from rebatch(_pieces(handle, layout), options.batch_rows, layout.selection)


def _layout(handle: BinaryIO, options: ImportOptions, path: Path) -> Layout:
    raw = rest_of_line(handle, options.max_line_bytes).removeprefix(b"\xef\xbb\xbf").rstrip(b"\r\n")
    text, dirty = decode(raw)
    if dirty or len(raw) > options.max_line_bytes:
        raise UserInputError(f"{path.name}: the header line is not UTF-8 text of at most {options.max_line_bytes:,} bytes")
    delimiter = "\t" if "\t" in text and "," not in text else ","
    header = [name.strip() for name in next(csv.reader([text], delimiter=delimiter), [])]
    return Layout(header, delimiter, Selection.of(header, options, path.name, nested=False), options.max_line_bytes)


def _pieces(handle: BinaryIO, layout: Layout) -> Iterator[Piece]:
    done = 0
    for block in blocks(handle, layout.limit, quoted=True):
        piece = _fast(block, layout, done) or _careful(block, layout, done)
        done += piece.table.num_rows + len(piece.rejections)
        yield piece


def _fast(block: bytes, layout: Layout, done: int) -> Piece | None:
    """Parse a block with pyarrow; None when it cannot (the careful reader then takes it)."""
    if not lines_fit(block, layout.limit):
        return None
    try:
        table = pcsv.read_csv(pa.py_buffer(block), *layout.options())
    except pa.ArrowException:
        return None
    return Piece(table, np.arange(done + 1, done + 1 + table.num_rows))


def _careful(block: bytes, layout: Layout, done: int) -> Piece:
    """Parse a block record by record, rejecting each bad one with its row number."""
    taken, wanted = TextRows(layout.selection.sources), layout.wanted
    for row, fields in enumerate(_records(block, layout), done + 1):
        problem = _problem(fields, layout, wanted)
        taken.add(row, None if problem else [fields[at] or None for at in wanted], problem)
    return taken.piece()


def _records(block: bytes, layout: Layout) -> Iterator[list[str] | csv.Error]:
    """Yield each non-blank record's fields (or the csv error it raised)."""
    reader = csv.reader(_lines(block, layout.limit), delimiter=layout.delimiter)
    while (fields := _next(reader)) is not None:
        if fields != []:
            yield fields


def _next(reader: Iterator[list[str]]) -> list[str] | csv.Error | None:
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        return exc


def _lines(block: bytes, limit: int) -> Iterator[str]:
    lines = block.split(b"\n")
    for raw in lines[:-1] if block.endswith(b"\n") else lines:
        yield OVERSIZED + "\n" if len(raw) > limit else decode(raw)[0] + "\n"


def _problem(fields: list[str] | csv.Error, layout: Layout, wanted: list[int]) -> tuple[str, str] | None:
    """Return (reason, detail) when a record cannot be taken."""
    if isinstance(fields, csv.Error):
        return "malformed_row", f"not CSV: {fields}"
    if fields == [OVERSIZED]:
        return "oversized_line", f"a line longer than {layout.limit:,} bytes"
    if len(fields) != len(layout.header):
        return "malformed_row", f"{len(fields)} fields, expected {len(layout.header)}"
    return utf8_problem(fields[at] for at in wanted)
