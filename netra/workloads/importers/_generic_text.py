"""Text files for the generic readers: blocks of whole lines, and the careful reader's parts.

A block is parsed by pyarrow (the fast path) only if every line of it is within
`max_line_bytes` (`lines_fit`), so the fast and the careful reader accept the same rows.
A careful reader keeps bytes that are not UTF-8 as surrogates (`decode`) and rejects a row
only when a value the import uses holds them (`utf8_problem`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import BinaryIO, Iterable, Iterator

from netra.workloads.importers.base import Rejection
from netra.workloads.importers.generic import Piece

BLOCK_BYTES = 8 << 20
SURROGATE = re.compile("[\udc80-\udcff]")


def blocks(handle: BinaryIO, limit: int, quoted: bool = False) -> Iterator[bytes]:
    """Yield the rest of a file in blocks of whole lines (of CSV records when `quoted`).

    A line that straddles the end of a block and is longer than `limit` bytes is cut to
    `limit + 1` bytes (the rest is skipped), so no block holds an unbounded line.
    """
    while chunk := handle.read(BLOCK_BYTES):
        block = chunk if chunk.endswith(b"\n") else chunk + rest_of_line(handle, limit)
        yield _close_quotes(handle, block, limit) if quoted else block


def rest_of_line(handle: BinaryIO, limit: int) -> bytes:
    """Return the rest of the current line (with its newline), cut after `limit + 1` bytes."""
    tail = handle.readline(limit + 2)
    if tail.endswith(b"\n") or len(tail) < limit + 2:
        return tail
    while (more := handle.readline(1 << 16)) and not more.endswith(b"\n"):
        pass
    return tail[:limit + 1] + b"\n"


def _close_quotes(handle: BinaryIO, block: bytes, limit: int) -> bytes:
    """Extend a block whose quotes are unbalanced (a quoted value spans lines) to balance them."""
    parts, odd, grown = [block], block.count(b'"') % 2, 0
    while odd and grown < BLOCK_BYTES and (more := rest_of_line(handle, limit)):
        parts.append(more)
        odd, grown = odd ^ more.count(b'"') % 2, grown + len(more)
    return b"".join(parts)


def lines_fit(block: bytes, limit: int) -> bool:
    """Return whether every line of `block` is at most `limit` bytes (without its newline)."""
    start, end = 0, len(block)
    while end - start > limit:
        cut = block.rfind(b"\n", start, start + limit + 1)
        if cut < 0:
            return False
        start = cut + 1
    return True


def decode(raw: bytes) -> tuple[str, bool]:
    """Return a line's text and whether it held bytes that are not UTF-8 (kept as surrogates)."""
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("utf-8", "surrogateescape"), True


def utf8_problem(values: Iterable[str | None]) -> tuple[str, str] | None:
    """Return ("invalid_utf8", the value shown escaped) for the first value that was not UTF-8."""
    bad = next((v for v in values if v and SURROGATE.search(v)), None)
    if bad is None:
        return None
    return "invalid_utf8", "not UTF-8: " + bad.encode("utf-8", "surrogateescape")[:60].decode("ascii", "backslashreplace")


@dataclass
class TextRows:
    """What a careful reader took (values as text, in source-column order) and what it rejected."""

    sources: list[str]
    columns: dict[str, list] = field(default_factory=dict)
    rows: list[int] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    def add(self, row: int, values: list | None, problem: tuple[str, str] | None) -> None:
        """Take a row's values, or reject it for `problem`; a blank row (neither) is skipped."""
        if problem:
            self.rejections.append(Rejection(row, *problem))
        elif values is not None:
            self.rows.append(row)
            for source, value in zip(self.sources, values):
                self.columns.setdefault(source, []).append(value)

    def piece(self) -> Piece:
        """Return what was read as a piece."""
        columns = {s: self.columns.get(s, []) for s in self.sources}
        return Piece.of_text(columns, self.rows, self.rejections)
