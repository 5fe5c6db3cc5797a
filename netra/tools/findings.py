"""The shape every opportunity finder returns in its rows, and the policy built from one.

A finder (routing, caching, max-tokens, batching, retries) returns one `Finding` row per
(feature, model) it examined, flagged or not, so the evidence of "looked and found nothing"
is kept. `policy_proposer` turns flagged findings into `Policy` objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from netra.tools.base import Evidence, Figure, ToolContext, ToolResult

PolicyKind = Literal["route_model", "prompt_cache", "cap_max_tokens", "batch_api", "retry_budget"]
# quality risk; "unknown": no quality evidence yet (a route flagged only as "shadow-test first", docs/quality.md)
Risk = Literal["low", "medium", "high", "unknown"]


class Finding(BaseModel):
    """One examined (feature, model) and what changing it would save."""

    kind: PolicyKind
    feature: str
    model: str
    flagged: bool
    reason: str
    requests: int = 0
    affected_requests: int = 0
    window_cost_usd: float = 0.0
    window_saving_usd: float = 0.0
    monthly_saving_usd: float = 0.0
    quality_risk: Risk = "low"
    latency_impact: str = "none"
    confidence: float = 0.0
    params: dict[str, Any] = Field(default_factory=dict)


class Policy(BaseModel):
    """A proposed change, with the saving its finder computed and where it came from."""

    policy_id: str
    kind: PolicyKind
    feature: str
    model: str
    params: dict[str, Any] = Field(default_factory=dict)
    window_cost_usd: float = 0.0
    window_saving_usd: float = 0.0
    monthly_saving_usd: float = 0.0
    quality_risk: Risk = "low"
    latency_impact: str = "none"
    confidence: float = 0.0
    affected_requests: int = 0
    source_tool: str = ""
    source_call_id: str = ""
    description: str = ""


@dataclass(frozen=True)
class FinderRun:
    """What judging one (feature, model) pair needs besides its own totals."""

    ctx: ToolContext
    args: Any
    days: float


def findings_result(tool: str, figures: dict[str, Figure], findings: list[Finding],
                    evidence: list[Evidence], notes: list[str]) -> ToolResult:
    """Return a finder's result: its figures, one row per examined pair, and the queries."""
    return ToolResult(tool=tool, figures=figures, rows=[f.model_dump() for f in findings],
                      evidence=evidence, notes=notes)
