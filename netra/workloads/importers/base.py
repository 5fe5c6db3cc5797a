"""The importer interface: readers yield raw column batches; `finalize` validates them.

A reader turns one source format into `RawBatch`es: Arrow arrays named after event
columns (any types: strings, numbers), the source row number of each row, and rows it
already rejected (malformed line, invalid UTF-8, oversized line). `finalize` coerces
types, rejects bad rows with their reason, and fills defaults and options.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator, Literal, Protocol

import numpy as np
import pyarrow as pa

from netra.tenancy import LOCAL_WORKSPACE

RejectReason = Literal["missing_column", "negative_tokens", "non_numeric_tokens", "bad_timestamp",
                       "invalid_utf8", "oversized_line", "malformed_row", "unknown_format"]
DEFAULT_MAX_LINE_BYTES = 1 << 20
DEFAULT_BATCH_ROWS = 250_000


@dataclass(frozen=True)
class Rejection:
    """One row not loaded: its 1-based row (or line) number in the source, and why."""

    row: int
    reason: RejectReason
    detail: str = ""


@dataclass
class RawBatch:
    """Columns named after event fields (values not yet validated) and their source rows."""

    columns: dict[str, pa.Array]
    rows: np.ndarray
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Return how many candidate rows the batch holds."""
        return len(self.rows)


@dataclass
class ImportOptions:
    """What the caller says about a source beyond its rows."""

    mapping: dict[str, str] = field(default_factory=dict)
    user: str | None = None
    feature: str | None = None
    model: str | None = None
    start: datetime | None = None
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    batch_rows: int = DEFAULT_BATCH_ROWS
    source: str = ""
    workspace_id: str = LOCAL_WORKSPACE  # every row loads into this workspace, whatever the source says


class Importer(Protocol):
    """A source format: can it read these first bytes, and its batches."""

    name: str

    def sniff(self, head: bytes, path: Path) -> bool:
        """Return whether the file's first bytes (and name) look like this format."""

    def batches(self, path: Path, options: ImportOptions) -> Iterator[RawBatch]:
        """Yield raw batches of the file."""
