"""Apex tool `final_report_generator`: compile the report from the run's tool results."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from netra.report import build_report
from netra.tools.base import ToolContext, ToolResult
from netra.tools.registry import apex_tool
from netra.tools.scope import fig


class ReportArgs(BaseModel):
    """Everything the agents collected; numbers inside are tool results."""

    model_config = ConfigDict(extra="forbid")

    question: str = ""
    strategy: str = ""
    request: dict[str, Any] = Field(default_factory=dict)
    analyses: dict[str, dict[str, Any]] = Field(default_factory=dict)
    recommendations: list[dict[str, Any]] = Field(default_factory=list)
    simulation: dict[str, Any] | None = None
    actions: list[dict[str, Any]] = Field(default_factory=list)
    errors: list[dict[str, Any]] = Field(default_factory=list)
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    min_projection_days: float = Field(1.0, ge=0, description="shortest window projected to a month (days)")


@apex_tool("final_report_generator", "Compile the markdown report; every figure cited to its tool call.",
           ReportArgs, family="reporting")
def final_report_generator(ctx: ToolContext, args: ReportArgs) -> ToolResult:
    """Build the report and check that every number in it is a cited tool figure."""
    report = build_report(args.model_dump())
    figures = {"cited_figures": fig(len(report.citations), "count", "figures cited"),
               "ungrounded_numbers": fig(len(report.ungrounded), "count", "numbers without a source")}
    return ToolResult(tool="final_report_generator", figures=figures,
                      rows=[{"markdown": report.markdown, "citations": report.citations}],
                      notes=[f"ungrounded: {n}" for n in report.ungrounded])
