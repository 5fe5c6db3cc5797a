"""Apex tools (routing): find premium models doing simple work a cheaper sibling could do.

A (feature, model) pair is simple when its p95 input and p95 output token counts are within
thresholds and it has enough requests. Its saving is the cost of its token classes at the
model's prices minus the cost of the same tokens at the cheaper sibling's prices.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from netra.tools._sql import TOKEN_CLASS_SQL, Queries
from netra.tools.base import Evidence, ToolContext, ToolResult
from netra.tools.findings import Finding, findings_result
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, fig, monthly
from netra.workloads.catalog import TOKEN_CLASSES, PriceCatalog
from netra.workloads.tiers import cheaper_sibling

TOOL = "model_routing_recommender"
SHORT_OUTPUT = 16  # p95 output at or below this is low quality risk
_CONFIDENCE = {"low": 0.8, "medium": 0.6}
_LATENCY = "faster (smaller model)"

_PAIRS_SQL = """SELECT feature, model, count() AS requests,
    quantileExact(0.95)(input_tokens) AS p95_input,
    quantileExact(0.95)(output_tokens) AS p95_output,
    sum(cost_usd) AS window_cost
FROM workload_events {where}
GROUP BY feature, model
ORDER BY feature, model"""

_TOKENS_SQL = ("SELECT feature, model, is_batch," + TOKEN_CLASS_SQL + """
FROM workload_events {where}
GROUP BY feature, model, is_batch
ORDER BY feature, model, is_batch""")

# (passes, why it does not qualify) checked in order for every pair with a sibling
_CHECKS = (
    (lambda p, a: p["requests"] >= a.min_requests, "{requests} requests < min_requests {min_requests}"),
    (lambda p, a: p["p95_input"] <= a.max_input_p95, "p95 input {p95_input} > {max_input_p95}"),
    (lambda p, a: p["p95_output"] <= a.max_output_p95, "p95 output {p95_output} > {max_output_p95}"),
)


class RoutingArgs(Scope):
    """Arguments of `model_routing_recommender`."""

    max_input_p95: int = Field(1000, ge=0, description="a simple task's p95 input tokens is at most this")
    max_output_p95: int = Field(50, ge=0, description="a simple task's p95 output tokens is at most this")
    min_requests: int = Field(50, ge=1, description="ignore pairs with fewer requests than this")


def _token_sums(rows: list[dict]) -> dict[tuple[str, str], list[tuple[bool, dict[str, int]]]]:
    """Group token-class sums by (feature, model) as (is_batch, {class: tokens}) entries."""
    sums: dict[tuple[str, str], list[tuple[bool, dict[str, int]]]] = {}
    for row in rows:
        entry = (bool(row["is_batch"]), {k: int(row[k]) for k in TOKEN_CLASSES})
        sums.setdefault((row["feature"], row["model"]), []).append(entry)
    return sums


def _cost(catalog: PriceCatalog, model: str, sums: list[tuple[bool, dict[str, int]]]) -> float:
    """Price summed token classes on `model`, batch rows at batch prices."""
    total = 0.0
    for batch, classes in sums:
        prices = catalog.unit_prices(model, batch)
        total += sum(n * prices[k] for k, n in classes.items())
    return total


def _risk(pair: dict) -> str:
    """Return the quality risk of moving the pair to a smaller model."""
    return "low" if pair["p95_output"] <= SHORT_OUTPUT else "medium"


def _why_not(pair: dict, args: RoutingArgs) -> list[str]:
    """Return the reasons the pair does not qualify (empty when it does)."""
    values = {**args.model_dump(), **pair}
    return [msg.format_map(values) for passes, msg in _CHECKS if not passes(pair, args)]


def _reason(pair: dict, sibling: str, failures: list[str], saving: float) -> str:
    """Return a one-line reason for the finding."""
    if failures:
        return "not simple: " + "; ".join(failures)
    if saving <= 0:
        return f"{sibling} is not cheaper for these tokens"
    return (f"p95 input {pair['p95_input']} and p95 output {pair['p95_output']} tokens over "
            f"{pair['requests']} requests: simple enough for {sibling}")


def _amounts(pair: dict, kept: float, days: float) -> dict[str, Any]:
    """Return the request and money fields of a pair's Finding."""
    requests = int(pair["requests"])
    return {"requests": requests, "affected_requests": requests if kept > 0 else 0,
            "window_cost_usd": float(pair["window_cost"]), "window_saving_usd": kept,
            "monthly_saving_usd": monthly(kept, days)}


def _finding(pair: dict, sibling: str, saving: float, args: RoutingArgs, days: float) -> Finding:
    """Build the Finding of one pair that has a cheaper sibling."""
    failures, risk = _why_not(pair, args), _risk(pair)
    kept = saving if not failures and saving > 0 else 0.0
    return Finding(kind="route_model", feature=pair["feature"], model=pair["model"], flagged=kept > 0,
                   reason=_reason(pair, sibling, failures, saving), **_amounts(pair, kept, days),
                   quality_risk=risk, latency_impact=_LATENCY, confidence=_CONFIDENCE[risk],
                   params={"target_model": sibling})


def _skip_note(catalog: PriceCatalog, model: str) -> str:
    """Return why a pair with no sibling was skipped."""
    if catalog.resolve(model) is None:
        return f"model {model!r} is not in the price catalog; skipped"
    return f"model {model!r} has no known cheaper sibling; skipped"


def _examine(ctx: ToolContext, args: RoutingArgs, pair: dict, sums: dict, days: float) -> Finding | str:
    """Return the pair's Finding, or a note saying why it was skipped."""
    sibling = cheaper_sibling(ctx.catalog, pair["model"])
    if sibling is None:
        return _skip_note(ctx.catalog, pair["model"])
    tokens = sums.get((pair["feature"], pair["model"]), [])
    saving = _cost(ctx.catalog, pair["model"], tokens) - _cost(ctx.catalog, sibling, tokens)
    return _finding(pair, sibling, saving, args, days)


def _shadow_note(finding: Finding) -> str:
    """Return the shadow-evaluation advice for a medium-risk flagged finding."""
    return (f"{finding.feature}/{finding.model}: outputs are not trivially short; run a shadow "
            f"evaluation on {finding.params['target_model']} before switching")


def _notes(outcomes: list[Finding | str]) -> list[str]:
    """Return skip notes and shadow-evaluation advice, in pair order."""
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


@apex_tool(TOOL, "Find premium models doing simple short tasks a cheaper same-provider model could do, "
                 "with the exact saving.", RoutingArgs, family="optimization")
def model_routing_recommender(ctx: ToolContext, args: RoutingArgs) -> ToolResult:
    """Recommend routing simple (feature, model) pairs to a cheaper sibling model.

    Args:
        ctx: The analytics store and price catalog.
        args: The scope and the thresholds of a simple task.

    Returns:
        One `Finding` row per (feature, model) with a cheaper sibling, flagged or not.
    """
    queries = Queries(ctx.store)
    days = queries.span(args)
    pairs = queries.rows(_PAIRS_SQL, args)
    sums = _token_sums(queries.rows(_TOKENS_SQL, args))
    outcomes = [_examine(ctx, args, p, sums, days) for p in pairs]
    return _result(outcomes, queries.evidence)
