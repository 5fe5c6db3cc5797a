"""Batch opportunity finder: non-interactive traffic that could go through a Batch API.

A request is non-interactive when it was not streamed (`ttft_ms` 0), belongs to no session
or thread, and was not already sent as a batch. Per (feature, model): the share of such
requests, and (reported only) the share of all requests sent between 00:00 and 06:00 UTC.
A pair is flagged when its non-interactive share is at least `min_share` and its model has
batch prices cheaper than its standard ones. The saving re-prices the non-interactive
requests' token classes (input, cache read, cache write, output, reasoning) at batch prices.

Confidence is `min(1, requests / 1000)`, halved when the finding is marginal: its share lies
within half the distance between `min_share` and 1 of the threshold, on either side.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from netra.errors import UnknownModelError
from netra.tools.base import Evidence, Figure, ToolContext, ToolResult
from netra.tools.findings import Finding, FinderRun, findings_result
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, fig, monthly, span_days, where
from netra.workloads.catalog import TOKEN_CLASSES

# token classes are disjoint (as in pricing): input = input - cached - written, output =
# output - reasoning, each clamped at 0 per request
PAIRS_SQL = """
SELECT feature, model, count() AS requests, countIf(offline) AS batchable,
       countIf(toHour(timestamp) < 6) AS night_requests, sum(cost_usd) AS cost_usd,
       sumIf(greatest(toInt64(input_tokens) - cached_input_tokens - cache_write_tokens, 0), offline)
         AS input,
       sumIf(cached_input_tokens, offline) AS cache_read,
       sumIf(cache_write_tokens, offline) AS cache_write,
       sumIf(greatest(toInt64(output_tokens) - reasoning_tokens, 0), offline) AS output,
       sumIf(reasoning_tokens, offline) AS reasoning
FROM (
  SELECT *, ttft_ms = 0 AND session_id = '' AND thread_id = '' AND is_batch = 0 AS offline
  FROM workload_events {where}
)
GROUP BY feature, model
ORDER BY feature, model
"""

_LATENCY = "asynchronous: results within 24 h"
_UNKNOWN = "skipped {feature}/{model}: model not in the price catalog"

# (test on (share, cheaper, args), reason): the first row whose test passes gives the reason
_REASONS = (
    (lambda share, cheaper, a: share < a.min_share,
     "only {share:.1%} of requests are non-interactive (need {min_share:.0%})"),
    (lambda share, cheaper, a: not cheaper, "{model} has no cheaper batch prices"),
    (lambda share, cheaper, a: True, "{share:.1%} of requests are non-interactive ({night:.0%} sent "
                                     "00:00-06:00 UTC); the Batch API saves ${month:.2f}/month"),
)

# figure name -> (unit, label)
_FIGURES = {
    "monthly_saving_usd": ("USD/month", "saving of moving the flagged pairs to the Batch API"),
    "batchable_requests": ("requests", "non-interactive requests not yet batched"),
    "flagged_pairs": ("pairs", "(feature, model) pairs to move to the Batch API"),
}


class BatchArgs(Scope):
    """Scope plus the share of non-interactive requests a pair needs to be flagged."""

    min_share: float = Field(0.9, ge=0, le=1, description="flag at or above this non-interactive share")


@apex_tool("batch_opportunity_finder",
           "Find non-interactive traffic that could use a Batch API, and price the batch discount",
           BatchArgs, family="optimization")
def batch_opportunity_finder(ctx: ToolContext, args: BatchArgs) -> ToolResult:
    """Find (feature, model) pairs whose traffic is non-interactive and could be batched."""
    days, span_evidence = span_days(ctx.store, args)
    pairs, evidence = _query(ctx, args)
    findings, notes = _findings(FinderRun(ctx, args, days), pairs)
    return findings_result("batch_opportunity_finder", _figures(pairs, findings), findings,
                           [span_evidence, evidence], notes)


def _query(ctx: ToolContext, scope: Scope) -> tuple[list[dict], Evidence]:
    """Run the per-pair query over the scope."""
    clause, params = where(scope)
    sql = PAIRS_SQL.replace("{where}", clause)
    return ctx.store.rows(sql, params), Evidence(sql=sql, params=params)


def _findings(run: FinderRun, pairs: list[dict]) -> tuple[list[Finding], list[str]]:
    """Return one finding per priced pair, and a note per pair whose model has no price."""
    findings, notes = [], []
    for stats in pairs:
        try:
            findings.append(_finding(run, stats))
        except UnknownModelError:
            notes.append(_UNKNOWN.format(**stats))
    return findings, notes


def _finding(run: FinderRun, stats: dict) -> Finding:
    """Price the batch discount for one pair and decide whether to flag it."""
    window, share, night, cheaper = _measure(run.ctx, stats)
    template = next(text for test, text in _REASONS if test(share, cheaper, run.args))
    fields = _fields(run, stats, window, share, night)
    reason = template.format(**stats, share=share, night=night, month=fields["monthly_saving_usd"],
                             min_share=run.args.min_share)
    return Finding(kind="batch_api", feature=stats["feature"], model=stats["model"], reason=reason,
                   flagged=template is _REASONS[-1][1], latency_impact=_LATENCY, quality_risk="low", **fields)


def _measure(ctx: ToolContext, stats: dict) -> tuple[float, float, float, bool]:
    """Return the window saving, non-interactive share, night share and whether batch is cheaper."""
    discount = _discount(ctx, stats["model"])
    window = sum(stats[k] * discount[k] for k in TOKEN_CLASSES)
    requests = stats["requests"]
    return window, stats["batchable"] / requests, stats["night_requests"] / requests, max(discount.values()) > 0


def _discount(ctx: ToolContext, model: str) -> dict[str, float]:
    """Return {token class: standard minus batch price} of `model`."""
    standard, batch = ctx.catalog.unit_prices(model, False), ctx.catalog.unit_prices(model, True)
    return {k: standard[k] - batch[k] for k in TOKEN_CLASSES}


def _confidence(requests: int, share: float, min_share: float) -> float:
    """Return min(1, requests / 1000), halved when the share is near the threshold."""
    margin = (1.0 - min_share) / 2
    return round(min(1.0, requests / 1000.0) * (0.5 if abs(share - min_share) < margin else 1.0), 6)


def _fields(run: FinderRun, stats: dict, window: float, share: float, night: float) -> dict[str, Any]:
    """Return the Finding fields of counts, money, confidence and params."""
    return {"requests": int(stats["requests"]), "affected_requests": int(stats["batchable"]),
            "window_cost_usd": round(stats["cost_usd"], 9), "window_saving_usd": window,
            "monthly_saving_usd": monthly(window, run.days),
            "confidence": _confidence(stats["requests"], share, run.args.min_share),
            "params": {"batchable_share": round(share, 6), "night_share": round(night, 6)}}


def _figures(pairs: list[dict], findings: list[Finding]) -> dict[str, Figure]:
    """Return the flagged monthly saving, the non-interactive requests and the flagged pairs."""
    flagged = [f for f in findings if f.flagged]
    values = {"monthly_saving_usd": sum(f.monthly_saving_usd for f in flagged),
              "batchable_requests": sum(p["batchable"] for p in pairs), "flagged_pairs": len(flagged)}
    return {name: fig(values[name], *spec) for name, spec in _FIGURES.items()}
