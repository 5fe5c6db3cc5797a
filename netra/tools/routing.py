"""Apex tools (routing): find premium models doing simple work a cheaper sibling could do, and what is
known of the quality there.

A (feature, model) pair is simple when its p95 input and p95 output token counts are within
thresholds and it has enough requests. Its saving is the cost of its token classes on the
model minus the cost of the same tokens on the cheaper sibling, both priced by the one pricing
function (`pricing.price_classes`) per pricing key and UTC day: the same mode (batch, priority,
flex), long-context tier, 1-hour writes at the sibling's 1-hour write price, refused requests at $0.

Quality comes from evidence (`quality.quality_evidence`, docs/quality.md): the team's
`quality_score` of the feature on both models (difference of means, 90% Welch interval), else the
benchmark priors of both models for `category`, stated as priors, else unknown. A simple pair whose
measured interval lies wholly beyond `quality_budget` is not flagged; any other simple, cheaper
pair is, with `quality_risk` low (the whole interval within the budget), medium or high (the
estimate within it or not), or unknown, and every risk but low comes with "shadow-test first".
Confidence = stability x P(drop <= budget) (`evidence.confidence`), the second 0 unless measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field

from netra.tools._sql import DAY_CLASSES, DAY_CLASSES_SQL, GroupCosts, Queries
from netra.tools.base import Evidence, ToolContext, ToolResult
from netra.tools.evidence import DailySavings, confidence, route_quality
from netra.tools.findings import Finding, findings_result
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, fig, monthly
from netra.workloads.catalog import PriceCatalog
from netra.workloads.quality import QualityEvidence, Risk
from netra.workloads.tiers import cheaper_sibling

TOOL = "model_routing_recommender"
_LATENCY = "faster (smaller model)"

_PAIRS_SQL = """SELECT feature, model, count() AS requests,
    quantileExact(0.95)(input_tokens) AS p95_input,
    quantileExact(0.95)(output_tokens) AS p95_output,
    sum(cost_usd) AS window_cost
FROM workload_events {where}
GROUP BY feature, model
ORDER BY feature, model"""

# (passes, why it does not qualify) checked in order for every pair with a sibling
_CHECKS = (
    (lambda p, a: p["requests"] >= a.min_requests, "{requests} requests < min_requests {min_requests}"),
    (lambda p, a: p["p95_input"] <= a.max_input_p95, "p95 input {p95_input} > {max_input_p95}"),
    (lambda p, a: p["p95_output"] <= a.max_output_p95, "p95 output {p95_output} > {max_output_p95}"),
)
_SIMPLE = ("p95 input {p95_input} and p95 output {p95_output} tokens over {requests} requests: "
           "simple enough for {sibling}")
# quality risk -> what the reason says of quality (the evidence's source follows)
_QUALITY: dict[Risk, str] = {
    "low": "quality kept within the budget {budget}: {source}",
    "medium": "quality not shown within the budget {budget}: {source}; shadow-test first",
    "high": "quality likely below the budget {budget}: {source}; shadow-test first",
    "unknown": "quality {source}",
}
_BEYOND = "measured quality drop beyond the budget {budget}: {source}; keep {model}"


class RoutingArgs(Scope):
    """Arguments of `model_routing_recommender`."""

    max_input_p95: int = Field(1000, ge=0, description="a simple task's p95 input tokens is at most this")
    max_output_p95: int = Field(50, ge=0, description="a simple task's p95 output tokens is at most this")
    min_requests: int = Field(50, ge=1, description="ignore pairs with fewer requests than this")
    quality_budget: float = Field(0.02, ge=0, le=1, description="allowed drop of the mean quality score (0..1)")
    category: str | None = Field(None, description="task category whose benchmark priors may stand in for "
                                                        "unmeasured quality (knowledge, code, reasoning, math)")


def _savings(catalog: PriceCatalog, rows: list[dict]) -> DailySavings:
    """Return per (feature, model) and day the cost of its tokens on its model minus on its cheaper sibling.

    Every pricing-key group is priced twice by the one pricing function: on its own model, and
    with its model replaced by the sibling (a pair without a sibling saves 0).
    """
    siblings = [cheaper_sibling(catalog, r["model"]) or r["model"] for r in rows]
    costs = GroupCosts(catalog, rows)
    return DailySavings(rows, costs.cost() - costs.cost(siblings))


def _why_not(pair: dict, args: RoutingArgs) -> list[str]:
    """Return the reasons the pair does not qualify (empty when it does)."""
    values = {**args.model_dump(), **pair}
    return [msg.format_map(values) for passes, msg in _CHECKS if not passes(pair, args)]


def _params(sibling: str, quality: QualityEvidence | None) -> dict[str, Any]:
    """Return the finding's params: the target and, when judged, the quality evidence."""
    if quality is None:
        return {"target_model": sibling}
    return {"target_model": sibling, "quality_basis": quality.basis, "quality_delta": quality.delta,
            "quality_interval": list(quality.interval) if quality.interval else None,
            "scored_current": quality.n_current, "scored_target": quality.n_target, "quality_source": quality.source}


@dataclass(frozen=True)
class _Pair:
    """One pair with a cheaper sibling: its stats, the sibling and its saving per day."""

    stats: dict
    sibling: str
    per_day: Any

    @property
    def route(self) -> tuple[str, str, str]:
        """Return (feature, model, sibling)."""
        return self.stats["feature"], self.stats["model"], self.sibling

    @property
    def saving(self) -> float:
        """Return the window saving of moving the whole pair."""
        return float(self.per_day.sum())

    def amounts(self, kept: bool, days: float) -> dict[str, Any]:
        """Return the request and money fields of the pair's Finding (no saving unless `kept`)."""
        requests, saving = int(self.stats["requests"]), self.saving if kept else 0.0
        return {"requests": requests, "affected_requests": requests if kept else 0,
                "window_cost_usd": float(self.stats["window_cost"]), "window_saving_usd": saving,
                "monthly_saving_usd": monthly(saving, days)}


@dataclass
class _Router:
    """Examines each pair of one run: its shape, its saving and, for a candidate, its quality evidence."""

    ctx: ToolContext
    q: Queries
    args: RoutingArgs
    days: float
    savings: DailySavings

    def examine(self, stats: dict) -> Finding | str:
        """Return the pair's Finding, or a note saying why it was skipped."""
        sibling = cheaper_sibling(self.ctx.catalog, stats["model"])
        if sibling is None:
            return _skip_note(self.ctx.catalog, stats["model"])
        pair = _Pair(stats, sibling, self.savings.series((stats["feature"], stats["model"])))
        failures = _why_not(stats, self.args)
        return self._unfit(pair, failures) if failures or pair.saving <= 0 else self._candidate(pair)

    def _unfit(self, pair: _Pair, failures: list[str]) -> Finding:
        """Return the unflagged Finding of a pair that is not simple or saves nothing (quality not read)."""
        reason = f"{pair.sibling} is not cheaper for these tokens"
        if failures:
            reason = "not simple: " + "; ".join(failures)
        return self._finding(pair, False, reason, "unknown", 0.0, None)

    def _candidate(self, pair: _Pair) -> Finding:
        """Return the Finding of a simple, cheaper pair, judged by its quality evidence."""
        budget = self.args.quality_budget
        found = route_quality(self.q, self.args, pair.route, self.args.category, budget)
        risk, values = found.risk(budget), {"budget": budget, "source": found.source}
        if risk is None:
            return self._finding(pair, False, _BEYOND.format(**values, model=pair.stats["model"]), "high", 0.0, found)
        reason = _SIMPLE.format(**pair.stats, sibling=pair.sibling) + "; " + _QUALITY[risk].format(**values)
        return self._finding(pair, True, reason, risk, confidence(pair.per_day, found.within), found)

    def _finding(self, pair: _Pair, flagged: bool, reason: str, risk: Risk, trust: float,
                 quality: QualityEvidence | None) -> Finding:
        """Build the Finding of one pair with a cheaper sibling."""
        return Finding(kind="route_model", feature=pair.stats["feature"], model=pair.stats["model"], flagged=flagged,
                       reason=reason, **pair.amounts(flagged, self.days), quality_risk=risk, latency_impact=_LATENCY,
                       confidence=trust, params=_params(pair.sibling, quality))


def _skip_note(catalog: PriceCatalog, model: str) -> str:
    """Return why a pair with no sibling was skipped."""
    if catalog.resolve(model) is None:
        return f"model {model!r} is not in the price catalog; skipped"
    return f"model {model!r} has no known cheaper sibling; skipped"


def _shadow_note(finding: Finding) -> str:
    """Return the shadow-test advice for a flagged finding whose quality is not shown kept."""
    return (f"{finding.feature}/{finding.model}: quality on {finding.params['target_model']} is not shown kept "
            f"({finding.params['quality_basis']}, {finding.quality_risk} risk); shadow-test it before switching")


def _notes(outcomes: list[Finding | str]) -> list[str]:
    """Return skip notes and shadow-test advice, in pair order."""
    skips = [o for o in outcomes if isinstance(o, str)]
    risky = [o for o in outcomes if isinstance(o, Finding) and o.flagged and o.quality_risk != "low"]
    return list(dict.fromkeys(skips)) + [_shadow_note(f) for f in risky]


def _result(outcomes: list[Finding | str], evidence: list[Evidence]) -> ToolResult:
    """Assemble the tool result from the examined pairs."""
    findings = [o for o in outcomes if isinstance(o, Finding)]
    flagged = [f for f in findings if f.flagged]
    figures = {"monthly_saving_usd": fig(sum(f.monthly_saving_usd for f in flagged), "USD/month",
                                         "monthly saving of routing flagged pairs to a cheaper sibling"),
               "flagged_pairs": fig(len(flagged), "pairs", "(feature, model) pairs simple enough to route")}
    return findings_result(TOOL, figures, findings, evidence, _notes(outcomes))


@apex_tool(TOOL, "Find premium models doing simple short tasks a cheaper same-provider model could do, with the "
                 "exact saving and the quality evidence (the team's scores on both models, else priors, else "
                 "unknown: shadow-test first).", RoutingArgs, family="optimization")
def model_routing_recommender(ctx: ToolContext, args: RoutingArgs) -> ToolResult:
    """Recommend routing simple (feature, model) pairs to a cheaper sibling model (module docstring).

    Returns:
        One `Finding` row per (feature, model) with a cheaper sibling, flagged or not.
    """
    queries = Queries(ctx.store)
    days = queries.span(args)
    savings = _savings(ctx.catalog, queries.rows(DAY_CLASSES_SQL, args, kind=DAY_CLASSES))
    router = _Router(ctx, queries, args, days, savings)
    outcomes = [router.examine(p) for p in queries.rows(_PAIRS_SQL, args, kind="routing_pairs")]
    return _result(outcomes, queries.evidence)
