"""Cut a text file into numbered lines with numpy, for the preset importers.

The file is read in chunks; lines end at `\\n` (a trailing `\\r` is ignored) and keep their
1-based number in the file. There is no Python call per line: line bounds, lengths and
non-ASCII bytes are found with numpy over the whole chunk. Blank lines are skipped. A line
longer than `max_line_bytes` is rejected as `oversized_line` (and never held whole in
memory); a line that is not valid UTF-8 as `invalid_utf8` (only lines holding non-ASCII
bytes are decoded to check). The other lines come back as `LineGroup`s of at most
`batch_rows` lines: their bytes, ready for a pyarrow parser, and their line numbers.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator

import numpy as np

from netra.workloads.importers.base import ImportOptions, Rejection

CHUNK_BYTES = 8 << 20
_NEWLINE, _CR, _HIGH = 10, 13, 0x80


@dataclass
class LineGroup:
    """Lines to parse: their bytes (each ending in a newline), numbers and byte offsets."""

    data: bytes
    numbers: np.ndarray
    offsets: np.ndarray
    rejections: list[Rejection] = field(default_factory=list)
    longest: int = 0

    def part(self, lo: int, hi: int) -> bytes:
        """Return the bytes of lines `lo` (inclusive) to `hi` (exclusive) of the group."""
        return self.data[self.offsets[lo]:self.offsets[hi]]


class _Scanner:
    """Turns a stream of chunks into blocks of complete lines, numbering them across chunks."""

    def __init__(self, limit: int) -> None:
        self.limit, self.carry, self.line, self.skipping, self.fresh = limit, b"", 1, False, True
        self.rejections: list[Rejection] = []

    def feed(self, chunk: bytes, last: bool) -> tuple[bytes, int]:
        """Take the next chunk; return the complete lines it finishes and the first one's number."""
        chunk, self.fresh = (chunk.removeprefix(codecs.BOM_UTF8) if self.fresh else chunk), False
        buf = self.carry + (self._skip(chunk) if self.skipping else chunk)
        buf += b"\n" if last and buf and not buf.endswith(b"\n") else b""
        cut, first = buf.rfind(b"\n") + 1, self.line
        self.carry, self.line = buf[cut:], self.line + buf.count(b"\n", 0, cut)
        self._guard()
        return buf[:cut], first

    def take(self) -> list[Rejection]:
        """Return (and forget) the oversized lines dropped so far."""
        taken, self.rejections = self.rejections, []
        return taken

    def _skip(self, chunk: bytes) -> bytes:
        """Drop the rest of an oversized line; return what follows it."""
        end = chunk.find(b"\n")
        if end < 0:
            return b""
        self.skipping, self.line = False, self.line + 1
        return chunk[end + 1:]

    def _guard(self) -> None:
        """Stop holding an unfinished line that has already grown past the limit."""
        if len(self.carry) > self.limit:
            self.rejections.append(Rejection(self.line, "oversized_line", f"line longer than {self.limit} bytes"))
            self.carry, self.skipping = b"", True


@dataclass(frozen=True)
class _Lines:
    """A block of complete lines: its bytes, each line's [start, end) and 1-based number."""

    data: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    numbers: np.ndarray

    @classmethod
    def cut(cls, block: bytes, first: int) -> _Lines:
        """Find the lines of `block` (which ends with a newline)."""
        data = np.frombuffer(block, np.uint8)
        newlines = np.flatnonzero(data == _NEWLINE)
        starts = np.concatenate(([0], newlines + 1))[:len(newlines)].astype(np.int64)
        crlf = (newlines > starts) & (data[np.maximum(newlines - 1, 0)] == _CR)
        return cls(data, starts, newlines - crlf, first + np.arange(len(newlines), dtype=np.int64))

    def group(self, keep: np.ndarray, rejections: list[Rejection]) -> LineGroup:
        """Return the lines at indices `keep` as one group."""
        segments = np.diff(np.concatenate((self.starts, [len(self.data)])))
        chosen = np.zeros(len(self.starts), bool)
        chosen[keep] = True
        offsets = np.concatenate(([0], np.cumsum(segments[keep])))
        longest = int((self.ends - self.starts)[keep].max(initial=0))
        data = self.data[np.repeat(chosen, segments)].tobytes()
        return LineGroup(data, self.numbers[keep], offsets, rejections, longest)


def read_groups(path: Path, options: ImportOptions, skip_header: bool) -> Iterator[LineGroup]:
    """Yield the file's lines in groups of at most `options.batch_rows`, with rejected lines."""
    scanner = _Scanner(options.max_line_bytes)
    with open(path, "rb") as handle:
        for block, first in _blocks(handle, scanner):
            yield from _groups(block, first, scanner, options, skip_header)


def _blocks(handle: BinaryIO, scanner: _Scanner) -> Iterator[tuple[bytes, int]]:
    """Yield the complete lines of each chunk (the last chunk's unfinished line too)."""
    chunk = handle.read(CHUNK_BYTES)
    while chunk:
        following = handle.read(CHUNK_BYTES)
        yield scanner.feed(chunk, last=not following)
        chunk = following


def _groups(block: bytes, first: int, scanner: _Scanner, options: ImportOptions,
            skip_header: bool) -> Iterator[LineGroup]:
    """Check one block's lines; yield its good lines by groups (rejections go with the first)."""
    lines = _Lines.cut(block, first)
    ok, rejected = _classify(lines, options.max_line_bytes, skip_header)
    rejections, keep = scanner.take() + rejected, np.flatnonzero(ok)
    for lo in range(0, max(len(keep), 1), options.batch_rows):
        if lo < len(keep) or rejections:
            yield lines.group(keep[lo:lo + options.batch_rows], rejections if lo == 0 else [])


def _classify(lines: _Lines, limit: int, skip_header: bool) -> tuple[np.ndarray, list[Rejection]]:
    """Return which lines to parse, and the oversized and invalid UTF-8 ones as rejections."""
    length = lines.ends - lines.starts
    oversized = length > limit
    bad_utf8 = _bad_utf8(lines, ~oversized)
    rejections = _rejections(lines.numbers, oversized, "oversized_line", f"line longer than {limit} bytes")
    rejections += _rejections(lines.numbers, bad_utf8, "invalid_utf8", "line is not valid UTF-8")
    header = (lines.numbers == 1) if skip_header else np.zeros(len(length), bool)
    return (length > 0) & ~oversized & ~bad_utf8 & ~header, sorted(rejections, key=lambda r: r.row)


def _rejections(numbers: np.ndarray, mask: np.ndarray, reason, detail: str) -> list[Rejection]:
    """Return one rejection per line in `mask`."""
    return [Rejection(int(n), reason, detail) for n in numbers[mask]]


def _bad_utf8(lines: _Lines, candidates: np.ndarray) -> np.ndarray:
    """Return which of the candidate lines hold bytes that are not valid UTF-8."""
    bad = np.zeros(len(lines.starts), bool)
    if not (lines.data >= _HIGH).any():
        return bad
    high = np.concatenate(([0], np.cumsum(lines.data >= _HIGH, dtype=np.int64)))
    suspects = np.flatnonzero(candidates & (high[lines.ends] > high[lines.starts]))
    bad[[i for i in suspects if not _decodes(lines.data[lines.starts[i]:lines.ends[i]].tobytes())]] = True
    return bad


def _decodes(line: bytes) -> bool:
    """Return whether `line` is valid UTF-8."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
