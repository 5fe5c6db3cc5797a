"""Load validated batches all-or-nothing, without duplicates.

Batches go to a private staging table first. Only when the whole source has been read do
they move to `workload_events`, in one INSERT ... SELECT that gives rows without an id a
stable one (a hash of the source name, row number and content) and skips ids already
stored, so importing the same file twice adds nothing. A failure drops the staging table.
Every row moves into the options' workspace (a `workspace_id` in the source is ignored), and
duplicates are looked for in that workspace only: another workspace's ids are never seen.

Staging inserts run on one background thread, so the next batch is read, validated and
priced while the previous one is written (at most two batches are held at a time). A
batch leaves out the columns it holds only defaults in (most files fill a few columns).
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netra.persistence.analytics import AnalyticsStore
from netra.workloads.catalog import PriceCatalog
from netra.workloads.events import events_from_columns
from netra.workloads.importers.base import ImportOptions, RawBatch, Rejection
from netra.workloads.importers.validate import finalize
from netra.workloads.pricing import price_table
from netra.workloads.schema import COLUMN_NAMES, COLUMNS

MAX_REPORTED_REJECTIONS = 1000
# content that identifies a row with no id of its own (besides source and row number)
_ID_PARTS = "timestamp, user_id, feature, model, input_tokens, output_tokens, cached_input_tokens"
# the source name is a bound parameter; cityHash64 of it equals that of a String column holding it
_ID_SQL = f"if(request_id != '', request_id, hex(cityHash64({{source:String}}, row_number, {_ID_PARTS})))"
# staged column -> what moves into the events instead: a stable id, the load's workspace
_MOVED = {"request_id": _ID_SQL + " AS request_id", "workspace_id": "{workspace_id:String} AS workspace_id"}
Progress = Callable[[int, int], None]
# a staging table starts in memory; past this many rows it moves to disk
SPILL_ROWS = 2_000_000
_MEMORY, _DISK = "Memory", "MergeTree ORDER BY tuple()"
_STAGE_COLUMNS = ", ".join(f"{c.name} {c.ch_type}" for c in COLUMNS) + ", row_number UInt64"
# event column -> its default, for columns whose default is ClickHouse's own ('', 0, NULL, empty)
_ZERO_DEFAULTS = {k: v for k, v in events_from_columns({}, 1).to_pylist()[0].items()
                  if v is None or (v in ("", 0, []) and not isinstance(v, bool))}


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
    """A private table holding one import until it is moved or dropped.

    It starts in memory (fastest to write and read back) and moves to a table on disk once
    it holds more than `SPILL_ROWS` rows, so a large file never sits in memory whole.
    """

    def __init__(self, store: AnalyticsStore) -> None:
        self.store, self.staged, self.tables = store, 0, []
        self.writer, self.pending = ThreadPoolExecutor(1, thread_name_prefix="ingest-stage"), None
        self.name = self._create(_MEMORY)

    def _create(self, engine: str) -> str:
        # the name is generated here, never taken from input
        name = f"ingest_stage_{uuid.uuid4().hex}"
        self.store.client.command(f"CREATE TABLE {name} ({_STAGE_COLUMNS}) ENGINE = {engine}")
        self.tables.append(name)
        return name

    def add(self, table: pa.Table, rows: np.ndarray) -> None:
        """Stage validated, priced events (written in the background; errors surface on the next call)."""
        self.wait()
        if table.num_rows == 0:
            return
        self.staged += table.num_rows
        self._spill_when_full()
        staged = lean(table).append_column("row_number", pa.array(rows, pa.uint64()))
        self.pending: Future | None = self.writer.submit(self.store.client.insert_arrow, self.name, staged)

    def _spill_when_full(self) -> None:
        """Move to a table on disk once more than SPILL_ROWS rows are staged in memory."""
        if self.staged > SPILL_ROWS and self.tables[0] == self.name:
            self._spill()

    def _spill(self) -> None:
        """Move the rows staged in memory to a table on disk, which then takes the rest."""
        memory, self.name = self.name, self._create(_DISK)
        self.store.client.command(f"INSERT INTO {self.name} SELECT * FROM {memory}")
        self.store.client.command(f"DROP TABLE {memory}")

    def wait(self) -> None:
        """Block until the batch being written is stored; re-raise its error."""
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def move(self, source: str, workspace_id: str) -> tuple[int, int]:
        """Move staged rows without a twin in the workspace into its events; return (moved, duplicates)."""
        self.wait()
        before = self.store.count(workspace_id)
        self.store.client.command(self._move_sql(), parameters={"source": source, "workspace_id": workspace_id})
        moved = self.store.count(workspace_id) - before
        return moved, self.staged - moved

    def _move_sql(self) -> str:
        select = ", ".join(_MOVED.get(c, c) for c in COLUMN_NAMES)
        return (f"INSERT INTO workload_events ({', '.join(COLUMN_NAMES)}) SELECT {', '.join(COLUMN_NAMES)} "
                f"FROM (SELECT {select}, row_number FROM {self.name} ORDER BY row_number LIMIT 1 BY request_id) "
                f"WHERE request_id NOT IN (SELECT request_id FROM workload_events "
                f"WHERE workspace_id = {{workspace_id:String}})")

    def drop(self) -> None:
        """Let a write in flight finish (its error is not this call's), then remove the tables."""
        self.writer.shutdown(wait=True)
        for name in self.tables:
            self.store.client.command(f"DROP TABLE IF EXISTS {name}")


def lean(table: pa.Table) -> pa.Table:
    """Leave out columns whose every value is ClickHouse's default (staging fills those in)."""
    return table.select([n for n in table.column_names if not (n in _ZERO_DEFAULTS and _all_default(n, table[n]))])


def _all_default(name: str, column: pa.ChunkedArray) -> bool:
    default = _ZERO_DEFAULTS[name]
    if default is None:
        return column.null_count == len(column)
    if isinstance(default, list):
        return all(c.offsets[-1].as_py() == c.offsets[0].as_py() for c in column.chunks)
    return column.null_count == 0 and pc.all(pc.equal(column, pa.scalar(default, column.type))).as_py() in (True, None)


def _silent(read: int, total: int) -> None:
    """Report no progress (a load nobody watches)."""


@dataclass
class BatchLoad:
    """One import in progress: where its rows are staged, how they are priced, what was counted."""

    staging: Staging
    catalog: PriceCatalog
    options: ImportOptions
    progress: Progress = _silent
    summary: IngestSummary = field(init=False)

    def __post_init__(self) -> None:
        self.summary = IngestSummary(self.options.source)

    def run(self, batches: Iterable[RawBatch]) -> None:
        """Stage every batch, then move the staged rows into the workspace's events."""
        started = time.perf_counter()
        for batch in batches:
            self.stage(batch)
            self.progress(self.summary.read, 0)
        moved = self.staging.move(self.options.source, self.options.workspace_id)
        self.summary.accepted, self.summary.duplicates = moved
        self.summary.seconds = time.perf_counter() - started

    def stage(self, batch: RawBatch) -> None:
        """Validate, price and stage one batch; count what it read, rejected and could not price."""
        table, rows, rejections = finalize(batch, self.options)
        priced, report = price_table(self.catalog, table)
        self.staging.add(priced, rows)
        self.summary.read += batch.size + len(batch.rejections)
        self.summary.add_rejections(rejections)
        self.summary.add_unknown_models(report.unknown_models)


def load_batches(store: AnalyticsStore, catalog: PriceCatalog, batches: Iterable[RawBatch],
                 options: ImportOptions, progress: Progress | None = None) -> IngestSummary:
    """Validate, price and load batches all-or-nothing; return the summary."""
    load = BatchLoad(Staging(store), catalog, options, progress or _silent)
    try:
        load.run(batches)
    finally:
        load.staging.drop()
    return load.summary
