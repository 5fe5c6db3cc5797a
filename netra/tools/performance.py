"""Apex tools (performance): how each feature performs, and what policies do to latency.

`function_performance_analyzer` summarises each feature (quantiles exact, as `quantileExact`).

`performance_gains_simulator` replays the affected features' requests. Latency is end-to-end
per logical request: the sum of its attempts' latencies (chains of attempts as in
`error_rates`; backoff waits are not recorded and are left out). Each attempt is split into
TTFT and generation as in `latency_bottleneck_identifier`; an unstreamed attempt has no
measured split and counts as all generation, so TTFT effects never reach it. Policy effects
multiply, so their order does not matter; a repeated policy_id is applied once. The replay
engine is `_gains` (policy effects, requests, figures); the attempts come from `_attempts`,
read once per scope and data version.

Both use the events that carry a figure's field (`coverage.HAS`): latency quantiles over
events with `latency_ms`, error rates over those with a `status`; the simulator replays the
attempts that logged latency only, and a feature none of whose attempts did gets no row. When
no event in scope carries the field, the figures are None (not in the telemetry), with a note.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from netra.tools._attempts import AttemptTable, Chosen, attempt_table
from netra.tools._gains import Replay, speeds, unique
from netra.tools._sql import Queries, clean, empty, finish, ratio
from netra.tools.base import Figure, ToolContext, ToolResult
from netra.tools.coverage import HAS, Coverage, CoveredFigures, needing
from netra.tools.findings import Policy
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, fig

FUNCTIONS = "function_performance_analyzer"
GAINS = "performance_gains_simulator"

_FEATURES_SQL = f"""SELECT feature AS name, count() AS calls, countIf(status != 'ok') AS errors,
    countIf({HAS['status']}) AS with_status, countIf({HAS['latency_ms']}) AS timed,
    quantilesExactIf(0.5, 0.95)(latency_ms, {HAS['latency_ms']}) AS latency, sum(cost_usd) AS cost,
    sum(toUInt64(input_tokens) + output_tokens) AS tokens, countIf(priced = 0) AS unpriced
FROM workload_events {{where}}
GROUP BY name ORDER BY calls DESC, name ASC"""

FUNCTION_FIGURES = {
    "features": ("features", "features in scope"),
    "calls": ("requests", "calls in scope"),
    "worst_error_rate": ("ratio", "highest error rate of a feature"),
    "slowest_p95_ms": ("ms", "slowest p95 latency of a feature"),
}

GAINS_FIGURES = {
    "requests": ("requests", "logical requests of the affected features"),
    "async_requests": ("requests", "requests moved off the interactive path (Batch API)"),
    "baseline_p50_ms": ("ms", "median end-to-end latency now"),
    "baseline_p95_ms": ("ms", "95th percentile end-to-end latency now"),
    "simulated_p50_ms": ("ms", "median end-to-end latency with the policies (interactive requests)"),
    "simulated_p95_ms": ("ms", "95th percentile end-to-end latency with the policies"),
    "p95_change_pct": ("%", "change of the p95 latency, percent of baseline"),
}

# figure or row column -> the fields it is computed from (None when no event carries them)
FUNCTION_NEEDS = needing("status", "worst_error_rate") | needing("latency_ms", "slowest_p95_ms")
FEATURE_NEEDS = needing("status", "errors", "error_rate") | needing("latency_ms", "latency_p50_ms", "latency_p95_ms")
FUNCTION_RESULT = CoveredFigures(FUNCTIONS, FUNCTION_FIGURES, FUNCTION_NEEDS)
GAINS_NEEDS = needing("latency_ms", *(name for name in GAINS_FIGURES if "_ms" in name or "pct" in name))


class GainsArgs(Scope):
    """Arguments of `performance_gains_simulator`."""

    policies: list[Policy] = Field(description="the policies whose latency effect to simulate")


def _feature_row(row: dict) -> dict[str, Any]:
    """Return one feature's performance row (None where none of its calls carries a column's field)."""
    calls = int(row["calls"])
    found = {"feature": row["name"], "calls": calls, "errors": int(row["errors"]),
             "error_rate": ratio(row["errors"], row["with_status"]), "latency_p50_ms": row["latency"][0],
             "latency_p95_ms": row["latency"][1], "cost_usd": float(row["cost"]),
             "cost_per_call_usd": ratio(row["cost"], calls), "tokens_per_call": ratio(row["tokens"], calls)}
    lacking = {"status": calls - int(row["with_status"]), "latency_ms": calls - int(row["timed"])}
    return Coverage(calls, lacking).blank(found, FEATURE_NEEDS)


def _highest(rows: list[dict[str, Any]], column: str) -> tuple[float, str]:
    """Return the highest `column` of a feature and ': feature' for the label; (0, '') when no feature has one."""
    top = min((r for r in rows if r[column] is not None), key=lambda r: (-r[column], r["feature"]), default=None)
    return (top[column], f": {top['feature']}") if top else (0.0, "")


def _function_figures(rows: list[dict[str, Any]]) -> dict[str, Figure]:
    """Return the feature count, the worst error rate and the slowest p95 (labels name the feature)."""
    values = {"features": (len(rows), ""), "calls": (sum(r["calls"] for r in rows), ""),
              "worst_error_rate": _highest(rows, "error_rate"), "slowest_p95_ms": _highest(rows, "latency_p95_ms")}
    return {k: fig(v, FUNCTION_FIGURES[k][0], FUNCTION_FIGURES[k][1] + who) for k, (v, who) in values.items()}


@apex_tool(FUNCTIONS, "Per feature: calls, errors, error rate, p50/p95 latency, cost and tokens per call; "
                      "the worst error rate and the slowest p95.", Scope)
def function_performance_analyzer(ctx: ToolContext, args: Scope) -> ToolResult:
    """Summarise each feature's performance.

    Args:
        ctx: The analytics store and price catalog.
        args: The scope.

    Returns:
        One row per feature, most called first.
    """
    q = Queries(ctx.store)
    found = q.rows(_FEATURES_SQL, args, kind="gains_features")
    if not found:
        return empty(FUNCTIONS, FUNCTION_FIGURES, q)
    rows = [clean(_feature_row(r)) for r in found]
    result = ToolResult(tool=FUNCTIONS, figures=_function_figures(rows), rows=rows, notes=_unpriced(found))
    return FUNCTION_RESULT.marked(q, args, result)


def _unpriced(found: list[dict]) -> list[str]:
    """Name the features some of whose calls have no catalog price."""
    return [f"{r['name']}: {r['unpriced']} calls have no catalog price (cost 0)" for r in found if r["unpriced"]]


@apex_tool(GAINS, "Simulate the latency effect of policies (route model, cap max_tokens, prompt cache, Batch "
                  "API, retry budget): baseline vs simulated p50/p95 end-to-end latency of affected features.",
           GainsArgs, family="optimization")
def performance_gains_simulator(ctx: ToolContext, args: GainsArgs) -> ToolResult:
    """Replay the affected features' requests with the policies applied.

    Args:
        ctx: The analytics store and price catalog.
        args: The scope and the policies.

    Returns:
        Pooled figures and one row per affected feature.
    """
    q = Queries(ctx.store)
    table = attempt_table(ctx, q, args)
    chosen = table.chosen(sorted({p.feature for p in args.policies}))
    if not chosen.attempts:
        return empty(GAINS, GAINS_FIGURES, q)
    result = _simulate(ctx, q, args, table, chosen) if chosen.timed else _untimed(q, table, chosen)
    return chosen.coverage().mark(result, GAINS_NEEDS)


def _simulate(ctx: ToolContext, q: Queries, args: GainsArgs, table: AttemptTable, chosen: Chosen) -> ToolResult:
    """Replay the attempts that logged latency with the policies applied; name the features left out."""
    sim = Replay.of(table, table.rows(chosen, timed_only=True), speeds(ctx, q, args), ctx.catalog)
    applied = [n for n in (sim.apply(p) for p in unique(args.policies)) if n]
    untimed = [f"{f}: its events lack latency_ms; not simulated" for f in chosen.untimed_features]
    requests = sim.requests()
    return finish(GAINS, GAINS_FIGURES, requests.gains(), requests.rows(table.feature.values), q, untimed + applied)


def _untimed(q: Queries, table: AttemptTable, chosen: Chosen) -> ToolResult:
    """Return the result of attempts none of which logged latency: the requests counted, no latency figure."""
    values = dict.fromkeys(GAINS_FIGURES, 0.0) | {"requests": len(np.unique(table.request[table.rows(chosen)]))}
    return finish(GAINS, GAINS_FIGURES, values, [], q, [])
