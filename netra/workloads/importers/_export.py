"""Export files of the tools teams already run (LiteLLM spend logs, Langfuse observations) as rows.

    ExportFormat("litellm", sniff, spend_log_event)   # a format: its test on the first bytes, its row mapper
    IMPORTERS = {fmt.name: fmt for fmt in (...)}

A file is read as it comes out of the tool: CSV, a JSON array, JSON Lines or an API page
(`netra.workloads.importers._export_io` tells them apart and numbers the rows).
A format's mapper turns one row (a `Row`) into an event record keyed by event columns
(`netra.workloads.importers.records`), or None for a row that is no model call (skipped, not
counted). A value it cannot read raises `RowError`: the row is rejected with its number, a
reason and the field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterator

from netra.workloads.importers._export_io import read_rows
from netra.workloads.importers.base import ImportOptions, RawBatch, RejectReason, Rejection
from netra.workloads.importers.records import rows_batch

Entry = tuple[int, Any] | Rejection


class RowError(ValueError):
    """A row's field cannot be read: the row is rejected with `reason` and `detail`."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class Row:
    """One exported row: typed reads of its fields, empty values (None, "", {}) read as absent."""

    values: dict[str, Any]

    def has(self, key: str) -> bool:
        """Return whether the row gives `key` a value."""
        return self.values.get(key) not in (None, "", [], {})

    def text(self, key: str) -> str | None:
        """Return the field as text, or None when absent."""
        return str(self.values[key]) if self.has(key) else None

    def first(self, keys: tuple[str, ...]) -> str | None:
        """Return the first of `keys` the row has, as text (None when it has none)."""
        return next((self.text(key) for key in keys if self.has(key)), None)

    def number(self, key: str) -> float | None:
        """Return the field as a number, or None when absent (RowError: not a number)."""
        return number(self.values[key], key) if self.has(key) else None

    def time(self, key: str) -> datetime | None:
        """Return the field as an aware date and time (no zone: UTC), or None (RowError: not a time)."""
        return instant(self.values[key], key) if self.has(key) else None

    def nested(self, key: str) -> dict[str, Any]:
        """Return the field as a JSON object (JSON text in CSV), {} when absent (RowError: not an object)."""
        value = self.values.get(key)
        value = decoded(value, key) if isinstance(value, str) and value.strip() else value
        if value in (None, ""):
            return {}
        if not isinstance(value, dict):
            raise RowError("malformed_row", f"{key} is not a JSON object")
        return value


def number(value: Any, key: str) -> float:
    """Return `value` as a finite, non-negative number (RowError naming `key` otherwise)."""
    try:
        found = float(value)
    except (TypeError, ValueError):
        raise RowError("non_numeric_tokens", f"{key} is not a number: {str(value)[:40]!r}") from None
    if not 0 <= found < float("inf"):
        raise RowError("negative_tokens", f"{key} is negative or not finite: {found}")
    return found


def instant(value: Any, key: str) -> datetime:
    """Return `value` (ISO 8601 text) as an aware date and time, UTC when it names no zone."""
    try:
        found = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise RowError("bad_timestamp", f"{key} is not an ISO date and time: {str(value)[:40]!r}") from None
    return found if found.tzinfo else found.replace(tzinfo=timezone.utc)


def decoded(text: str, key: str) -> Any:
    """Return the JSON value of a CSV cell (RowError: not JSON)."""
    try:
        return json.loads(text)
    except ValueError:
        raise RowError("malformed_row", f"{key} is not valid JSON") from None


def millis(start: datetime | None, end: datetime | None) -> int | None:
    """Return the whole milliseconds from `start` to `end` (None when either is absent or end is before start)."""
    if start is None or end is None or end < start:
        return None
    return round((end - start).total_seconds() * 1000)


def texts(row: Row, columns: dict[str, tuple[str, ...]]) -> dict[str, str | None]:
    """Return each event column of `columns` from the first of its source fields the row has."""
    return {column: row.first(sources) for column, sources in columns.items()}


def present(record: dict[str, Any]) -> dict[str, Any]:
    """Return `record` without its absent values (None): absent fields stay missing, never 0."""
    return {key: value for key, value in record.items() if value is not None}


Mapper = Callable[[Row], "dict[str, Any] | None"]


@dataclass(frozen=True)
class ExportFormat:
    """An export format: the test on a file's first bytes, and the mapper of one row to an event record."""

    name: str
    sniffer: Callable[[bytes], bool]
    mapper: Mapper

    def sniff(self, head: bytes, path: Path) -> bool:
        """Return whether the file's first bytes look like this format."""
        return self.sniffer(head)

    def batches(self, path: Path, options: ImportOptions) -> Iterator[RawBatch]:
        """Yield raw batches of at most `options.batch_rows` rows."""
        mapped = (self._mapped(item) for item in read_rows(Path(path), options))
        kept = (entry for entry in mapped if entry is not None)
        while chunk := list(islice(kept, options.batch_rows)):
            yield _batch(chunk)

    def _mapped(self, item: Entry) -> Entry | None:
        """Map one numbered row: (number, record), a rejection, or None for a row that is no model call."""
        if isinstance(item, Rejection):
            return item
        number, row = item
        if not isinstance(row, dict):
            return Rejection(number, "malformed_row", f"row {number} is not a JSON object")
        return self._record(number, row)

    def _record(self, number: int, row: dict[str, Any]) -> Entry | None:
        try:
            record = self.mapper(Row(row))
        except RowError as exc:
            return Rejection(number, exc.reason, exc.detail)
        return None if record is None else (number, present(record))


def _batch(chunk: list[Entry]) -> RawBatch:
    batch = rows_batch([entry for entry in chunk if not isinstance(entry, Rejection)])
    batch.rejections[:0] = [entry for entry in chunk if isinstance(entry, Rejection)]
    return batch
