"""What every Apex tool returns, and the context it runs in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import BaseModel, Field

from netra.persistence.analytics import AnalyticsStore
from netra.tenancy import required
from netra.workloads.catalog import PriceCatalog


class Missing(BaseModel):
    """How many events in scope lack the field a figure is computed from: `text` says it in words."""

    field: str
    lacking: int
    events: int
    text: str = ""


class Figure(BaseModel):
    """One number a tool computed: its value, unit and a human label.

    `value` is None when the field it is computed from is not in the telemetry (no event in
    scope carries it); `missing` then says how many events lack it. A figure computed over
    the events that carry its field while others lack it has a value and a `missing` too.
    """

    value: float | None
    unit: str
    label: str = ""
    missing: Missing | None = None


class Evidence(BaseModel):
    """The SQL text a tool ran and the parameters bound to it."""

    sql: str
    params: dict[str, Any] = Field(default_factory=dict)


class ToolResult(BaseModel):
    """A tool's answer: named figures, small tables, and the queries behind them."""

    tool: str
    call_id: str = ""
    args: dict[str, Any] = Field(default_factory=dict)
    figures: dict[str, Figure] = Field(default_factory=dict)
    rows: list[dict[str, Any]] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    cached: bool = False

    def value(self, name: str) -> float | None:
        """Return the value of figure `name` (None: not in the telemetry)."""
        return self.figures[name].value


@dataclass(frozen=True)
class ToolContext:
    """What a tool may read: the analytics store, the price catalog, a result cache, and its workspace.

    `workspace_id` is required (keyword-only, never empty): every query of a tool run through
    this context reads that workspace's events only (`scope.where`).
    """

    store: AnalyticsStore
    catalog: PriceCatalog
    cache: Any = None
    workspace_id: str = field(kw_only=True)

    def __post_init__(self) -> None:
        required(self.workspace_id, "a ToolContext")


ToolFn = Callable[[ToolContext, Any], ToolResult]


@dataclass(frozen=True)
class ToolSpec:
    """A registered tool: name, one-line description, argument model and function."""

    name: str
    description: str
    args_model: type[BaseModel]
    fn: ToolFn
    family: str = "analysis"
