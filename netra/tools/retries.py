"""Apex tools (retries): find money spent on failed attempts that were retried.

Events of one (feature, model) that share a `prompt_hash` are attempts of one logical request.
A retried failure is an attempt with status other than 'ok' that is not the last attempt of its
group (ordered by timestamp, then request_id): something retried it. Its cost is the waste a
retry budget with backoff would cut. Only billed failed attempts cost money: one that reports no
output was refused by the provider and is not billed (`pricing.billed`, docs/pricing.md), so it
counts as a retried failure but wastes $0. Events with `prompt_hash` 0 (not recorded) are left out.
Confidence is the house rule (`evidence.confidence`): the stability of the pair's waste over its
UTC days with retried failures, times an evidence factor of 1 (the waste is measured, not modelled).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from netra.tools._sql import Queries
from netra.tools.base import Evidence, Figure, ToolContext, ToolResult
from netra.tools.evidence import DailySavings, confidence
from netra.tools.findings import Finding, findings_result
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, fig, monthly
from netra.workloads.pricing import BILLED_SQL

TOOL = "retry_waste_analyzer"
MEASURED = 1.0  # the evidence factor: the waste is each retried failure's own logged cost
_FIX = {"max_retries": 1, "backoff": "exponential with jitter"}
_EFFECTS = {"quality_risk": "low", "latency_impact": "fewer timeouts"}
_HASHED = "prompt_hash != 0"

_PAIRS_SQL = """SELECT feature, model, count() AS requests,
    uniqExact(prompt_hash) AS prompts,
    sum(cost_usd) AS window_cost,
    countIf(priced = 0) AS unpriced
FROM workload_events {where}
GROUP BY feature, model
ORDER BY feature, model"""

# The hashed (feature, model, prompt_hash) keys of the scope's failed attempts: only their events
# can hold a retried failure, so the window sorts these few instead of every event (a hash
# collision only adds a key whose events the window then ranks exactly as before).
_KEY = "cityHash64(feature, model, prompt_hash)"
_FAILED_KEYS = f"{_KEY} IN (SELECT {_KEY} FROM workload_events {{where}} AND status != 'ok')"

# retried failures per error type (`per_type` 1) and per UTC day (`per_type` 0); only the billed
# ones (`BILLED_SQL`) waste money
_RETRIED_SQL = f"""SELECT feature, model, error_type, day, grouping(day) AS per_type, count() AS failures,
    countIf({BILLED_SQL}) AS billed_failures, sumIf(cost_usd, {BILLED_SQL}) AS wasted
FROM (
    SELECT feature, model, error_type, status, output_tokens, cost_usd, toString(toDate(timestamp)) AS day,
        row_number() OVER (PARTITION BY feature, model, prompt_hash
                           ORDER BY timestamp DESC, request_id DESC) AS from_last
    FROM workload_events {{where}} AND {_FAILED_KEYS}
)
WHERE status != 'ok' AND from_last > 1
GROUP BY GROUPING SETS ((feature, model, error_type), (feature, model, day))
ORDER BY feature, model, per_type, error_type, day"""


class RetryArgs(Scope):
    """Arguments of `retry_waste_analyzer`."""

    min_retry_rate: float = Field(0.05, ge=0, description="flag pairs whose retried failures per "
                                                          "distinct prompt reach this rate")


def _retried(rows: list[dict]) -> dict[tuple[str, str], dict[str, Any]]:
    """Sum retried failures per (feature, model) and pick the most common error type."""
    by_pair: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        by_pair.setdefault((row["feature"], row["model"]), []).append(row)
    return {pair: _summary(group) for pair, group in by_pair.items()}


def _summary(group: list[dict]) -> dict[str, Any]:
    """Return failures, billed failures, waste and top error of one pair's retried-failure rows."""
    top = min(group, key=lambda r: (-int(r["failures"]), r["error_type"]))
    return {"failures": sum(int(r["failures"]) for r in group),
            "billed_failures": sum(int(r["billed_failures"]) for r in group),
            "wasted": sum(float(r["wasted"]) for r in group), "top_error": top["error_type"]}


def _reason(rate: float, stats: dict[str, Any], args: RetryArgs) -> str:
    """Return a one-line reason for the finding."""
    if rate < args.min_retry_rate:
        return f"retry rate {rate:.1%} < {args.min_retry_rate:.1%}"
    if stats["wasted"] <= 0:
        return f"{stats['failures']} retried failures billed nothing (refused requests are not billed)"
    return (f"retry rate {rate:.1%}: {stats['failures']} failed attempts were retried "
            f"(mostly {stats['top_error'] or 'unknown'}); the {stats['billed_failures']} billed ones "
            f"wasted ${stats['wasted']:.4f}")


def _amounts(pair: dict, stats: dict[str, Any], kept: float, days: float, per_day: np.ndarray) -> dict[str, Any]:
    """Return the request and money fields of a pair's Finding, and its confidence (the house rule over `per_day`)."""
    return {"requests": int(pair["requests"]), "affected_requests": stats["failures"],
            "window_cost_usd": float(pair["window_cost"]), "window_saving_usd": kept,
            "monthly_saving_usd": monthly(kept, days), "confidence": confidence(per_day, MEASURED)}


@dataclass(frozen=True)
class Retried:
    """The scope's retried failures: per (feature, model) their summary, and their waste per UTC day."""

    stats: dict[tuple[str, str], dict[str, Any]]
    daily: DailySavings

    @classmethod
    def of(cls, rows: list[dict]) -> Retried:
        """Read the rows of `_RETRIED_SQL`: per error type (`per_type` 1) and per day."""
        per_day = [r for r in rows if not r["per_type"]]
        return cls(_retried([r for r in rows if r["per_type"]]), DailySavings(per_day, (r["wasted"] for r in per_day)))

    def of_pair(self, pair: dict) -> tuple[dict[str, Any], np.ndarray]:
        """Return a pair's summary and its waste per day (no retried failure: zeros, no day)."""
        key = (pair["feature"], pair["model"])
        return self.stats.get(key, _no_retries()), self.daily.series(key)


def _finding(pair: dict, retried: Retried, args: RetryArgs, days: float) -> Finding:
    """Build the Finding of one (feature, model)."""
    stats, per_day = retried.of_pair(pair)
    rate = stats["failures"] / max(int(pair["prompts"]), 1)
    kept = stats["wasted"] if rate >= args.min_retry_rate and stats["wasted"] > 0 else 0.0
    return Finding(kind="retry_budget", feature=pair["feature"], model=pair["model"], flagged=kept > 0,
                   reason=_reason(rate, stats, args), **_EFFECTS, **_amounts(pair, stats, kept, days, per_day),
                   params={**_FIX, "retry_rate": round(rate, 6), "top_error": stats["top_error"],
                           "billed_failures": stats["billed_failures"]})


def _no_retries() -> dict[str, Any]:
    """Return the stats of a pair with no retried failure."""
    return {"failures": 0, "billed_failures": 0, "wasted": 0.0, "top_error": ""}


def _notes(pairs: list[dict], stats: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    """Return a note per pair whose events were partly unpriced, then per pair with refused retried failures."""
    unpriced = [f"{p['feature']}/{p['model']}: {p['unpriced']} events have no catalog price; their cost "
                "counts as 0" for p in pairs if int(p["unpriced"]) > 0]
    return unpriced + [f"{f}/{m}: {s['failures'] - s['billed_failures']} retried failures reported no output: "
                       "refused, not billed, so they waste $0 (only billed failed attempts count)"
                       for (f, m), s in stats.items() if s["failures"] > s["billed_failures"]]


def _figures(findings: list[Finding], stats: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Figure]:
    """Return the tool's figures: flagged monthly saving, and retried failures and waste of all pairs."""
    flagged = sum(f.monthly_saving_usd for f in findings if f.flagged)
    failures = sum(f.affected_requests for f in findings)
    wasted = sum(s["wasted"] for s in stats.values())
    return {"monthly_saving_usd": fig(flagged, "USD/month", "monthly cost of retried failures in flagged pairs"),
            "retried_failures": fig(failures, "requests", "failed attempts that were retried (all pairs)"),
            "wasted_usd": fig(wasted, "USD", "window cost of billed retried failures (all pairs)")}


def _result(findings: list[Finding], pairs: list[dict], stats: dict, evidence: list[Evidence]) -> ToolResult:
    """Assemble the tool result from the findings and the per-pair retry stats."""
    return findings_result(TOOL, _figures(findings, stats), findings, evidence, _notes(pairs, stats))


@apex_tool(TOOL, "Find money wasted on failed attempts that were retried (retry storms), per feature "
                 "and model, with the retry budget that cuts it.", RetryArgs, family="optimization")
def retry_waste_analyzer(ctx: ToolContext, args: RetryArgs) -> ToolResult:
    """Measure retried failures and their cost per (feature, model).

    Args:
        ctx: The analytics store and price catalog.
        args: The scope and the retry rate worth flagging.

    Returns:
        One `Finding` row per (feature, model) with recorded prompt hashes, flagged or not.
    """
    queries = Queries(ctx.store)
    days = queries.span(args)
    pairs = queries.rows(_PAIRS_SQL, args, _HASHED, kind="retry_pairs")
    retried = Retried.of(queries.rows(_RETRIED_SQL, args, _HASHED, kind="retried"))
    findings = [_finding(p, retried, args, days) for p in pairs]
    return _result(findings, pairs, retried.stats, queries.evidence)
