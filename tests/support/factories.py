"""Small planted datasets for tests: events by dict, loaded priced into a store."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping

from netra.persistence.analytics import AnalyticsStore
from netra.workloads.catalog import PriceCatalog
from netra.workloads.events import events_from_records, load_events
from netra.workloads.pricing import PricingReport

T0 = datetime(2026, 3, 2, tzinfo=timezone.utc)


def at(days: float = 0, hours: float = 0, seconds: float = 0) -> datetime:
    """Return T0 plus an offset."""
    return T0 + timedelta(days=days, hours=hours, seconds=seconds)


def load(store: AnalyticsStore, catalog: PriceCatalog, records: Iterable[Mapping[str, Any]]) -> PricingReport:
    """Load event dicts (missing columns take defaults) into `store`, priced."""
    return load_events(store, catalog, events_from_records(records))


SPAN_SQL = "min(timestamp), max(timestamp)"  # the text of `scope.span_query`'s window query
WINDOW = ("start", "end")


def bound_params(scope: Mapping[str, Any], sql: str, workspace: str = "local") -> dict[str, Any]:
    """Return the scope parameters a tool query `sql` must bind (`scope.where`, `scope.span_query`).

    Every query binds the workspace and the scope's filters, except the span query: it measures the
    question's window, so it binds the workspace and `start`/`end` only, never a feature/model/user.
    """
    kept = {k: v for k, v in scope.items() if k in WINDOW or SPAN_SQL not in sql}
    return {**kept, "workspace_id": workspace}
