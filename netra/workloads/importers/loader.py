"""Load validated batches all-or-nothing, without duplicates.

Batches go to a private staging table first. Only when the whole source has been read do
they move to `workload_events`, in one INSERT ... SELECT that gives rows without an id a
stable one (a hash of the source name, row number and content) and skips ids already
stored, so importing the same file twice adds nothing. A failure drops the staging table.

Staging inserts run on one background thread, so the next batch is read, validated and
priced while the previous one is written (at most two batches are held at a time).
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import pyarrow as pa

from netra.persistence.analytics import AnalyticsStore
from netra.workloads.catalog import PriceCatalog
from netra.workloads.importers.base import ImportOptions, RawBatch, Rejection
from netra.workloads.importers.validate import finalize
from netra.workloads.pricing import price_table
from netra.workloads.schema import COLUMN_NAMES, COLUMNS

MAX_REPORTED_REJECTIONS = 1000
# content that identifies a row with no id of its own (besides source and row number)
_ID_PARTS = "timestamp, user_id, feature, model, input_tokens, output_tokens, cached_input_tokens"
# the source name is a bound parameter; cityHash64 of it equals that of a String column holding it
_ID_SQL = f"if(request_id != '', request_id, hex(cityHash64({{source:String}}, row_number, {_ID_PARTS})))"
Progress = Callable[[int, int], None]


@dataclass
class IngestSummary:
    """What an import did: rows read, accepted, duplicates skipped, rejected by reason."""

    source: str
    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    unknown_models: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rows_per_s(self) -> float:
        """Return rows read per second."""
        return self.read / self.seconds if self.seconds else 0.0

    def add_rejections(self, rejections: list[Rejection]) -> None:
        """Count rejections by reason; keep the first ones for the report."""
        for rejection in rejections:
            self.rejected[rejection.reason] = self.rejected.get(rejection.reason, 0) + 1
        room = MAX_REPORTED_REJECTIONS - len(self.rejections)
        self.rejections.extend(rejections[:max(room, 0)])

    def add_unknown_models(self, unknown: dict[str, int]) -> None:
        """Count requests on models the catalog does not know."""
        for model, n in unknown.items():
            self.unknown_models[model] = self.unknown_models.get(model, 0) + n


class Staging:
    """A private table holding one import until it is moved or dropped."""

    def __init__(self, store: AnalyticsStore) -> None:
        # the name is generated here, never taken from input
        self.store, self.name = store, f"ingest_stage_{uuid.uuid4().hex}"
        self.writer, self.pending = ThreadPoolExecutor(1, thread_name_prefix="ingest-stage"), None
        columns = ", ".join(f"{c.name} {c.ch_type}" for c in COLUMNS)
        store.client.command(f"CREATE TABLE {self.name} ({columns}, row_number UInt64) "
                             "ENGINE = MergeTree ORDER BY tuple()")

    def add(self, table: pa.Table, rows: np.ndarray) -> None:
        """Stage validated, priced events (written in the background; errors surface on the next call)."""
        self.wait()
        staged = table.append_column("row_number", pa.array(rows, pa.uint64()))
        self.pending: Future | None = self.writer.submit(self.store.client.insert_arrow, self.name, staged)

    def wait(self) -> None:
        """Block until the batch being written is stored; re-raise its error."""
        pending, self.pending = self.pending, None
        _ = pending and pending.result()

    def move(self, source: str) -> tuple[int, int]:
        """Move staged rows without a stored twin into the events; return (moved, duplicates)."""
        self.wait()
        staged, before = int(self.store.scalar(f"SELECT count() FROM {self.name}")), self.store.count()
        self.store.client.command(self._move_sql(), parameters={"source": source})
        moved = self.store.count() - before
        return moved, staged - moved

    def _move_sql(self) -> str:
        select = ", ".join(_ID_SQL + " AS request_id" if c == "request_id" else c for c in COLUMN_NAMES)
        return (f"INSERT INTO workload_events ({', '.join(COLUMN_NAMES)}) SELECT {', '.join(COLUMN_NAMES)} "
                f"FROM (SELECT {select}, row_number FROM {self.name} ORDER BY row_number LIMIT 1 BY request_id) "
                f"WHERE request_id NOT IN (SELECT request_id FROM workload_events)")

    def drop(self) -> None:
        """Let a write in flight finish (its error is not this call's), then remove the table."""
        self.writer.shutdown(wait=True)
        self.store.client.command(f"DROP TABLE IF EXISTS {self.name}")


def load_batches(store: AnalyticsStore, catalog: PriceCatalog, batches: Iterable[RawBatch],
                 options: ImportOptions, progress: Progress | None = None) -> IngestSummary:
    """Validate, price and load batches all-or-nothing; return the summary."""
    summary, staging = IngestSummary(options.source), Staging(store)
    try:
        _stage_all(staging, catalog, batches, options, summary, progress)
    finally:
        staging.drop()
    return summary


def _stage_all(staging: Staging, catalog: PriceCatalog, batches: Iterable[RawBatch], options: ImportOptions,
               summary: IngestSummary, progress: Progress | None) -> None:
    started = time.perf_counter()
    for batch in batches:
        _stage(staging, catalog, batch, options, summary)
        _ = progress and progress(summary.read, 0)
    summary.accepted, summary.duplicates = staging.move(options.source)
    summary.seconds = time.perf_counter() - started


def _stage(staging: Staging, catalog: PriceCatalog, batch: RawBatch, options: ImportOptions,
           summary: IngestSummary) -> None:
    table, rows, rejections = finalize(batch, options)
    priced, report = price_table(catalog, table)
    _ = table.num_rows and staging.add(priced, rows)
    summary.read += batch.size + len(batch.rejections)
    summary.add_rejections(rejections)
    summary.add_unknown_models(report.unknown_models)
