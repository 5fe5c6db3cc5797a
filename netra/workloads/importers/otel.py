"""OpenTelemetry GenAI spans in OTLP/JSON: one workload event per model-call span.

    netra ingest traces.json --format otel       # one export, or JSONL of exports (collector file exporter)
    POST /v1/traces, OTLP/gRPC                   # the same mapping, via `otlp_batch` (protobuf: `_otlp_proto`)

Spans are numbered from 1 in file order; a rejection's row is that number (a line that is
not valid JSON is reported by its line number instead). Spans that are not model calls
(HTTP, database, agent and tool spans) are skipped, not rejected. A span's id becomes the
event's `request_id`, so importing or posting the same spans again adds nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Iterable, Iterator

from netra.errors import UserInputError
from netra.workloads.importers._otlp import check_export, is_export, span_record, spans
from netra.workloads.importers.base import ImportOptions, RawBatch, Rejection
from netra.workloads.importers.records import rows_batch

# an export's only field comes first: `{"resourceSpans": [...` (optionally after a UTF-8 BOM)
SNIFF = re.compile(rb'^(?:\xef\xbb\xbf)?\s*\{\s*"resourceSpans"\s*:')


@dataclass
class SpanReader:
    """Numbers spans from 1 across exports, maps model calls to records and counts the rest as skipped."""

    row: int = 0
    skipped: int = 0

    def entries(self, document: dict) -> Iterator[tuple[int, Any]]:
        """Yield (span number, event record) per model-call span; a malformed span is passed on as is."""
        for resource, span in spans(document):
            self.row += 1
            record = span_record(span, resource) if isinstance(span, dict) else span
            self.skipped += record is None
            yield from ([] if record is None else [(self.row, record)])


def otlp_batch(document: Any) -> tuple[RawBatch, int]:
    """Return the raw batch of one OTLP/JSON export and how many spans were skipped as not model calls."""
    reader = SpanReader()
    batch = rows_batch(list(reader.entries(check_export(document))))
    return batch, reader.skipped


class OtelImporter:
    """OTLP/JSON trace files: one export (pretty-printed or not) or JSONL with one export a line."""

    name = "otel"

    def sniff(self, head: bytes, path: Path) -> bool:
        """Return whether the file starts like an OTLP/JSON traces export."""
        return SNIFF.match(head) is not None

    def batches(self, path: Path, options: ImportOptions) -> Iterator[RawBatch]:
        """Yield raw batches of at most `options.batch_rows` model-call spans."""
        for chunk in _chunks(_entries(Path(path), SpanReader()), options.batch_rows):
            yield _batch(chunk)


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _batch(chunk: list[tuple[int, Any] | Rejection]) -> RawBatch:
    batch = rows_batch([item for item in chunk if not isinstance(item, Rejection)])
    batch.rejections[:0] = [item for item in chunk if isinstance(item, Rejection)]
    return batch


def _entries(path: Path, reader: SpanReader) -> Iterator[tuple[int, Any] | Rejection]:
    for document in _documents(path):
        yield from [document] if isinstance(document, Rejection) else reader.entries(document)


def _documents(path: Path) -> Iterator[dict | Rejection]:
    if not _is_jsonl(path):
        yield _whole_document(path)
        return
    with open(path, "rb") as handle:
        yield from (_line_document(number, line) for number, line in enumerate(handle, 1) if line.strip())


def _is_jsonl(path: Path) -> bool:
    """Return whether the first non-blank line is a whole JSON object (one export a line)."""
    with open(path, "rb") as handle:
        first = next((line for line in handle if line.strip()), b"")
    try:
        return isinstance(json.loads(first), dict)
    except ValueError:
        return False


def _whole_document(path: Path) -> dict:
    try:
        document = json.loads(path.read_bytes())
    except ValueError as exc:
        raise UserInputError(f"{path}: not valid OTLP/JSON: {exc}") from exc
    return check_export(document)


def _line_document(number: int, line: bytes) -> dict | Rejection:
    try:
        document = json.loads(line)
    except UnicodeDecodeError:
        return Rejection(number, "invalid_utf8", f"line {number} is not valid UTF-8")
    except ValueError as exc:
        return Rejection(number, "malformed_row", f"line {number} is not valid JSON: {exc}")
    return document if is_export(document) else Rejection(number, "malformed_row", f"line {number} is not an OTLP/JSON export")


IMPORTERS = {"otel": OtelImporter()}
