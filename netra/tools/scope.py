"""Arguments shared by the analysis tools, and the bound-parameter WHERE clause they make.

`where` is the one place a tool's WHERE clause is built, and its first condition is always
the workspace: `workspace_id = {workspace_id:String}`. The workspace comes from the
`ToolContext` the tool runs in (the dispatcher binds it with `in_workspace` around every
call), never from the tool's arguments (`Scope` has no such field and refuses unknown ones).
A query built outside such a binding raises `WorkspaceRequiredError`: no tool can forget it.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, Iterator

from pydantic import BaseModel, ConfigDict, Field

from netra.tenancy import required
from netra.tools.base import Figure

DAYS_PER_MONTH = 30.0
WORKSPACE_CONDITION = "workspace_id = {workspace_id:String}"
_WORKSPACE: ContextVar[str | None] = ContextVar("netra_tool_workspace", default=None)
UNBOUND = "a tool query (run tools through ToolDispatcher: its ToolContext names the workspace)"

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


@contextmanager
def in_workspace(workspace_id: str) -> Iterator[None]:
    """Scope every `where` of this thread (and context) to `workspace_id` while the block runs."""
    token = _WORKSPACE.set(required(workspace_id, "a tool run"))
    try:
        yield
    finally:
        _WORKSPACE.reset(token)


def bound_workspace() -> str:
    """Return the workspace the running tool is scoped to; raise WorkspaceRequiredError outside a tool run."""
    return required(_WORKSPACE.get(), UNBOUND)


def where(scope: Scope, extra: str = "") -> tuple[str, dict[str, Any]]:
    """Return `WHERE workspace_id = ... AND ...` for the scope (plus `extra`) and its bound parameters."""
    params = {k: v for k, v in scope.model_dump().items() if v is not None and k in _CONDITIONS}
    conditions = [WORKSPACE_CONDITION, *(_CONDITIONS[k] for k in params), *([extra] if extra else [])]
    return "WHERE " + " AND ".join(conditions), {**params, "workspace_id": bound_workspace()}


def span_query(scope: Scope) -> tuple[str, dict[str, Any]]:
    """Return the query of the milliseconds the window's events span, and its bound parameters.

    The window is the question's: the scope's `start`/`end` over every event of the workspace,
    never the span of a feature, model or user filter, so narrowing the scope never changes a
    monthly rate (a feature seen on one day of a week still has a week's window).
    """
    clause, params = where(Scope(start=scope.start, end=scope.end))
    return f"SELECT dateDiff('millisecond', min(timestamp), max(timestamp)) AS ms FROM workload_events {clause}", params


def span_of(ms: float | None) -> float:
    """Return the days a span of `ms` milliseconds covers (at least one hour; no events: one hour)."""
    return max(float(ms or 0) / 86_400_000.0, 1 / 24)


def monthly(value: float, days: float) -> float:
    """Scale a window total to a 30-day month."""
    return value * DAYS_PER_MONTH / days


def fig(value: float, unit: str, label: str) -> Figure:
    """Shorthand for a Figure with a rounded value."""
    return Figure(value=round(float(value), 6), unit=unit, label=label)
