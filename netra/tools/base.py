"""What every Apex tool returns, and the context it runs in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pydantic import BaseModel, Field

from netra.persistence.analytics import AnalyticsStore
from netra.workloads.catalog import PriceCatalog


class Figure(BaseModel):
    """One number a tool computed: its value, unit and a human label."""

    value: float
    unit: str
    label: str = ""


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

    def value(self, name: str) -> float:
        """Return the value of figure `name`."""
        return self.figures[name].value


@dataclass(frozen=True)
class ToolContext:
    """What a tool may read: the analytics store, the price catalog, and a result cache."""

    store: AnalyticsStore
    catalog: PriceCatalog
    cache: Any = None


ToolFn = Callable[[ToolContext, Any], ToolResult]


@dataclass(frozen=True)
class ToolSpec:
    """A registered tool: name, one-line description, argument model and function."""

    name: str
    description: str
    args_model: type[BaseModel]
    fn: ToolFn
    family: str = "analysis"
