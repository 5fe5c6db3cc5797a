"""Load a case's workload into the evaluation store, and read its events back for the reference.

    manifest = load_workload(store, catalog, case)   # the scenario's manifest, {} for planted or traces
    events = read_events(store)                       # every event as a dict, one query
    catalog_ref = reference_catalog(catalog)          # the reference's view of the same prices

The reference is given the events as they were stored (priced, defaults filled, importers'
conversions done), so its truth is about exactly the events the tools read.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from netra.evals.dataset import Case
from netra.evals.planted import build
from netra.evals.reference.pricing import ReferenceCatalog
from netra.evals.traces import TRACES
from netra.persistence.analytics import AnalyticsStore
from netra.tenancy import LOCAL_WORKSPACE
from netra.workloads.catalog import PriceCatalog, catalog_files
from netra.workloads.events import events_from_records, load_events
from netra.workloads.importers import ingest_file
from netra.workloads.synthetic import generate_and_load

# the columns the reference reads; `timestamp` comes as milliseconds (`ts_ms`)
EVENT_COLUMNS = ("request_id", "feature", "model", "provider", "user_id", "session_id", "thread_id",
                 "input_tokens", "cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens",
                 "output_tokens", "reasoning_tokens", "max_tokens", "finish_reason", "status", "error_type",
                 "is_batch", "service_tier", "prompt_hash", "prefix_hashes", "block_size", "ttft_ms", "latency_ms",
                 "quality_score", "attributes")
EVENTS_SQL = (f"SELECT {', '.join(EVENT_COLUMNS)}, toUnixTimestamp64Milli(timestamp) AS ts_ms "
              "FROM workload_events WHERE workspace_id = {workspace_id:String} ORDER BY timestamp, request_id")


def read_events(store: AnalyticsStore, workspace_id: str = LOCAL_WORKSPACE) -> list[dict[str, Any]]:
    """Return every event of the workspace as a dict, `timestamp` in ms, in (timestamp, request_id) order."""
    return [_event(row) for row in store.arrow(EVENTS_SQL, {"workspace_id": workspace_id}).to_pylist()]


def _event(row: dict[str, Any]) -> dict[str, Any]:
    """Return a stored row as the reference reads an event: ms timestamp, attributes as a dict."""
    event = {k: v for k, v in row.items() if k != "ts_ms"}
    return {**event, "timestamp": int(row["ts_ms"]), "attributes": dict(row["attributes"] or ())}


def reference_catalog(catalog: PriceCatalog) -> ReferenceCatalog:
    """Return the reference's catalog: the raw rows of the catalog file in use, found by the same names."""
    rows = json.loads(catalog_files().catalog.read_text(encoding="utf-8"))["models"]
    return ReferenceCatalog(rows, catalog.resolve)


def _scenario(store: AnalyticsStore, catalog: PriceCatalog, case: Case) -> dict:
    return generate_and_load(store, catalog, case.source[1], int(case.events), case.seed, case.days)


def _planted(store: AnalyticsStore, catalog: PriceCatalog, case: Case) -> dict:
    load_events(store, catalog, events_from_records(build(case.source[1], case.seed)))
    return {}


def _trace(store: AnalyticsStore, catalog: PriceCatalog, case: Case) -> dict:
    for file in TRACES[case.source[1]]:
        ingest_file(store, catalog, file.path(), "auto", file.options())
    return {}


# where the events come from -> how they are loaded (returns the scenario's manifest, else {})
LOADERS: dict[str, Callable[[AnalyticsStore, PriceCatalog, Case], dict]] = {
    "scenario": _scenario, "planted": _planted, "trace": _trace}


def load_workload(store: AnalyticsStore, catalog: PriceCatalog, case: Case) -> dict:
    """Load the case's workload into `store` (emptied by the caller); return the manifest, if any."""
    return LOADERS[case.source[0]](store, catalog, case)
