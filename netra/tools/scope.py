"""Arguments shared by the analysis tools, and the bound-parameter WHERE clause they make."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from netra.persistence.analytics import AnalyticsStore
from netra.tools.base import Evidence, Figure

DAYS_PER_MONTH = 30.0

# scope field -> SQL condition with a bound parameter of the same name
_CONDITIONS = {
    "start": "timestamp >= {start:DateTime64(3, 'UTC')}",
    "end": "timestamp < {end:DateTime64(3, 'UTC')}",
    "feature": "feature = {feature:String}",
    "model": "model = {model:String}",
    "user_id": "user_id = {user_id:String}",
}


class Scope(BaseModel):
    """Which events to analyse: a time window and optional filters (all optional)."""

    model_config = ConfigDict(extra="forbid")

    start: datetime | None = Field(None, description="window start (inclusive, UTC)")
    end: datetime | None = Field(None, description="window end (exclusive, UTC)")
    feature: str | None = Field(None, description="only this feature/tag")
    model: str | None = Field(None, description="only this model")
    user_id: str | None = Field(None, description="only this user")


def where(scope: Scope, extra: str = "") -> tuple[str, dict[str, Any]]:
    """Return `WHERE ...` for the scope (plus `extra`) and its bound parameters."""
    params = {k: v for k, v in scope.model_dump().items() if v is not None and k in _CONDITIONS}
    conditions = [_CONDITIONS[k] for k in params] + ([extra] if extra else [])
    return ("WHERE " + " AND ".join(conditions)) if conditions else "", params


def span_days(store: AnalyticsStore, scope: Scope) -> tuple[float, Evidence]:
    """Return the days the scoped events span (at least one hour) and the query used."""
    clause, params = where(scope)
    sql = f"SELECT dateDiff('millisecond', min(timestamp), max(timestamp)) AS ms FROM workload_events {clause}"
    ms = store.scalar(sql, params) or 0
    return max(float(ms) / 86_400_000.0, 1 / 24), Evidence(sql=sql, params=params)


def monthly(value: float, days: float) -> float:
    """Scale a window total to a 30-day month."""
    return value * DAYS_PER_MONTH / days


def fig(value: float, unit: str, label: str) -> Figure:
    """Shorthand for a Figure with a rounded value."""
    return Figure(value=round(float(value), 6), unit=unit, label=label)
