"""Max-tokens optimizer: find oversized `max_tokens` that let runaway outputs run long.

Per (feature, model) that sets `max_tokens` (> 0): p = exact `percentile` of the output
tokens of requests that finished with `stop`; the suggested cap is p x `headroom` rounded up
to a multiple of `round_to`; the configured limit is the median `max_tokens`. A pair is
flagged when at least `min_length_share` of its requests finish with `length` and the
configured limit is at least twice the cap. The saving is every output token above the cap,
priced as output by the one pricing function (`pricing.price_classes`) in its request's pricing
key: the output price of its mode (batch, priority, flex) and long-context tier.

Confidence is the house rule (`evidence.confidence`): the stability of the cap's saving over the
pair's UTC days, times an evidence factor of 1 (every request's output tokens above the cap are
priced from its own logged counts; what a cap risks is `quality_risk`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from netra.tools._sql import PRICE_GROUP_SQL, GroupCosts, Queries
from netra.tools.base import Figure, ToolContext, ToolResult
from netra.tools.evidence import DailySavings, confidence
from netra.tools.findings import Finding, FinderRun, findings_result
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, fig, monthly
from netra.workloads.catalog import PriceCatalog
from netra.workloads.pricing import PRICE_KEY_SQL

# per pair: the p-quantile of `stop` outputs and the cap it gives, joined back to the pair's
# requests to count the output tokens above the cap
_CAPS_SQL = """
FROM workload_events
INNER JOIN (
  SELECT feature, model, countIf(finish_reason = 'stop') AS p_stop,
         quantileExactIf({percentile:Float64})(output_tokens, finish_reason = 'stop') AS p_output,
         quantileExact(0.5)(max_tokens) AS p_configured,
         toUInt64(greatest(ceil(p_output * {headroom:Float64} / {round_to:UInt32}), 1))
           * {round_to:UInt32} AS p_cap
  FROM workload_events {where}
  GROUP BY feature, model
) AS pairs USING (feature, model)
{where}"""
_EXCESS = "sumIf(toInt64(output_tokens) - toInt64(p_cap), output_tokens > p_cap)"
# One scan, two grouping sets: per pair its totals (`whole_pair` 1), and per pair, pricing key and
# UTC day the output tokens above the cap (`output`, to price as output; `whole_pair` 0)
CAPS_SQL = f"""
SELECT feature, model, {PRICE_KEY_SQL}, toString(toDate(timestamp)) AS day, grouping(is_batch) AS whole_pair,
       count() AS requests, countIf(finish_reason = 'length') AS length_requests,
       any(p_stop) AS stop_requests, any(p_output) AS p_output, any(p_configured) AS configured,
       any(p_cap) AS cap, {_EXCESS} AS excess_tokens, excess_tokens AS output,
       countIf(output_tokens > p_cap) AS affected,
       countIf(output_tokens > p_cap AND finish_reason = 'length') AS affected_length,
       sum(cost_usd) AS cost_usd{_CAPS_SQL}
GROUP BY GROUPING SETS ((feature, model), (feature, model, {PRICE_GROUP_SQL}, day))
ORDER BY feature, model, whole_pair DESC, {PRICE_GROUP_SQL}, day
"""

_HAS_LIMIT = "max_tokens > 0"
_LATENCY = "shorter tail latency"
_UNKNOWN = "skipped {feature}/{model}: model not in the price catalog"
EXACT = 1.0  # the evidence factor: each request's tokens above the cap are priced from its own counts

# (test on (pair totals, length share, args), reason): the first row whose test passes
_REASONS = (
    (lambda s, share, a: s["stop_requests"] == 0, "no request finished with 'stop' to size a cap from"),
    (lambda s, share, a: share < a.min_length_share,
     "only {share:.1%} of requests end at the max_tokens limit"),
    (lambda s, share, a: s["configured"] < 2 * s["cap"],
     "max_tokens {configured} is already under twice the suggested cap {cap}"),
    (lambda s, share, a: True, "{share:.1%} of requests end at max_tokens {configured}; capping at "
                               "{cap} (p_output {p_output} x headroom) saves ${month:.2f}/month"),
)

# figure name -> (unit, label)
_FIGURES = {
    "monthly_saving_usd": ("USD/month", "saving of the flagged max-tokens caps"),
    "flagged_pairs": ("pairs", "(feature, model) pairs with an oversized max_tokens"),
    "length_finish_share": ("ratio", "requests that ended at their max_tokens limit"),
}


class MaxTokensArgs(Scope):
    """Scope plus the rule that sizes the cap and the share of `length` finishes to act on."""

    percentile: float = Field(0.99, gt=0, le=1, description="output percentile of 'stop' finishes")
    headroom: float = Field(1.25, ge=1, description="multiplier on the percentile")
    round_to: int = Field(64, ge=1, description="round the cap up to a multiple of this")
    min_length_share: float = Field(0.01, ge=0, le=1, description="flag at or above this share of 'length'")

    def cap_rule(self) -> dict[str, Any]:
        """Return the bound parameters of the rule that sizes the cap (`CAPS_SQL`)."""
        return {"percentile": self.percentile, "headroom": self.headroom, "round_to": self.round_to}


@apex_tool("max_tokens_optimizer",
           "Find oversized max_tokens limits that let runaway outputs run long, and price a cap",
           MaxTokensArgs, family="optimization")
def max_tokens_optimizer(ctx: ToolContext, args: MaxTokensArgs) -> ToolResult:
    """Suggest a `max_tokens` cap per (feature, model) and price the tokens above it."""
    q = Queries(ctx.store)
    days = q.span(args)
    found = q.rows(CAPS_SQL, args, _HAS_LIMIT, args.cap_rule(), kind="max_tokens_caps")
    pairs = [r for r in found if r["whole_pair"]]
    savings = _savings(ctx.catalog, found)
    findings, notes = _findings(FinderRun(ctx, args, days), pairs, savings)
    return findings_result("max_tokens_optimizer", _figures(pairs, findings), findings, q.evidence, notes)


def _savings(catalog: PriceCatalog, found: list[dict]) -> DailySavings:
    """Return per (feature, model) and UTC day the cost of its output tokens above the cap (each in its pricing key).

    `found` holds the rows of `CAPS_SQL`: only those per pricing key and day (`whole_pair` 0) are priced.
    """
    rows = [r for r in found if not r["whole_pair"]]
    return DailySavings(rows, GroupCosts(catalog, rows).cost())


def _findings(run: FinderRun, pairs: list[dict], savings: DailySavings) -> tuple[list[Finding], list[str]]:
    """Return one finding per priced pair, and a note per pair whose model has no price."""
    known = [p for p in pairs if run.ctx.catalog.resolve(p["model"]) is not None]
    notes = [_UNKNOWN.format(**p) for p in pairs if run.ctx.catalog.resolve(p["model"]) is None]
    return [_finding(run, p, savings.series((p["feature"], p["model"]))) for p in known], notes


def _finding(run: FinderRun, stats: dict, per_day: np.ndarray) -> Finding:
    """Decide whether to flag one pair whose cap saves `per_day` on each of its days."""
    share = stats["length_requests"] / stats["requests"]
    fields, template = _fields(run, stats, per_day), _reason(stats, share, run.args)
    return Finding(kind="cap_max_tokens", feature=stats["feature"], model=stats["model"],
                   flagged=template is _REASONS[-1][1], quality_risk=_quality_risk(stats), latency_impact=_LATENCY,
                   reason=template.format(**stats, share=share, month=fields["monthly_saving_usd"]), **fields)


def _reason(stats: dict, share: float, args: MaxTokensArgs) -> str:
    """Return the reason template of the first row of `_REASONS` whose test passes."""
    return next(text for test, text in _REASONS if test(stats, share, args))


def _quality_risk(stats: dict) -> str:
    """Return "low" when every request above the cap already ended at its limit (the cap cuts no complete
    answer), else "medium"."""
    return "low" if stats["affected_length"] == stats["affected"] else "medium"


def _fields(run: FinderRun, stats: dict, per_day: np.ndarray) -> dict[str, Any]:
    """Return the Finding fields of counts, money, confidence and params."""
    window = float(per_day.sum())
    return {"requests": int(stats["requests"]), "affected_requests": int(stats["affected"]),
            "window_cost_usd": round(stats["cost_usd"], 9), "window_saving_usd": window,
            "monthly_saving_usd": monthly(window, run.days), "confidence": confidence(per_day, EXACT),
            "params": {"cap": int(stats["cap"]), "current_max_tokens": int(stats["configured"]),
                       "p_output": int(stats["p_output"])}}


def _figures(pairs: list[dict], findings: list[Finding]) -> dict[str, Figure]:
    """Return the flagged monthly saving, how many pairs were flagged, and the length share."""
    requests = sum(p["requests"] for p in pairs)
    flagged = [f for f in findings if f.flagged]
    values = {"monthly_saving_usd": sum(f.monthly_saving_usd for f in flagged),
              "flagged_pairs": len(flagged),
              "length_finish_share": sum(p["length_requests"] for p in pairs) / requests if requests else 0.0}
    return {name: fig(values[name], *spec) for name, spec in _FIGURES.items()}
