"""Apex tools (performance): how each feature performs, and what policies do to latency.

`function_performance_analyzer` summarises each feature (quantiles exact, as `quantileExact`).

`performance_gains_simulator` replays the affected features' requests. Latency is end-to-end
per logical request: the sum of its attempts' latencies (chains of attempts as in
`error_rates`; backoff waits are not recorded and are left out). Each attempt is split into
TTFT and generation as in `latency_bottleneck_identifier`; an unstreamed attempt has no
measured split and counts as all generation, so TTFT effects never reach it. Policy effects
multiply, so their order does not matter; a repeated policy_id is applied once.

Both use the events that carry a figure's field (`coverage.HAS`): latency quantiles over
events with `latency_ms`, error rates over those with a `status`; the simulator replays the
attempts that logged latency only, and a feature none of whose attempts did gets no row. When
no event in scope carries the field, the figures are None (not in the telemetry), with a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from netra.tools._attempts import scoped_attempts
from netra.tools._sql import Queries, clean, empty, finish, ratio
from netra.tools.base import Figure, ToolContext, ToolResult
from netra.tools.coverage import HAS, Coverage, CoveredFigures, needing
from netra.tools.findings import Policy
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, fig
from netra.tools.throughput import GEN_SQL, SPLIT, exact_quantile
from netra.workloads.catalog import PriceCatalog
from netra.workloads.tiers import cheaper_sibling

FUNCTIONS = "function_performance_analyzer"
GAINS = "performance_gains_simulator"
CACHE_TTFT_FACTOR = 0.8  # assumed share of TTFT that is prefill, and so shrinks with cached input
# route target not observed -> (generation speed multiplier, TTFT multiplier); planning assumptions
ASSUMED_ROUTE: dict[str, tuple[float, float]] = {"smaller_sibling": (1.5, 0.8), "other": (1.0, 1.0)}

_FEATURES_SQL = f"""SELECT feature AS name, count() AS calls, countIf(status != 'ok') AS errors,
    countIf({HAS['status']}) AS with_status, countIf({HAS['latency_ms']}) AS timed,
    quantilesExactIf(0.5, 0.95)(latency_ms, {HAS['latency_ms']}) AS latency, sum(cost_usd) AS cost,
    sum(toUInt64(input_tokens) + output_tokens) AS tokens, countIf(priced = 0) AS unpriced
FROM workload_events {{where}}
GROUP BY name ORDER BY calls DESC, name ASC"""

_SPEED_SQL = f"""SELECT model AS name, quantileExact(0.5)(ttft_ms) AS ttft_p50,
    sum(output_tokens) AS out_tokens, sum({GEN_SQL}) AS gen_ms
FROM workload_events {{where}} GROUP BY name"""

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
    found = q.rows(_FEATURES_SQL, args)
    if not found:
        return empty(FUNCTIONS, FUNCTION_FIGURES, q)
    rows = [clean(_feature_row(r)) for r in found]
    result = ToolResult(tool=FUNCTIONS, figures=_function_figures(rows), rows=rows, notes=_unpriced(found))
    return FUNCTION_RESULT.marked(q, args, result)


def _unpriced(found: list[dict]) -> list[str]:
    """Name the features some of whose calls have no catalog price."""
    return [f"{r['name']}: {r['unpriced']} calls have no catalog price (cost 0)" for r in found if r["unpriced"]]


@dataclass
class _Sim:
    """Attempt columns (`a`) and the simulated TTFT, generation, dropped and offline flags."""

    a: dict[str, np.ndarray]
    ttft: np.ndarray
    gen: np.ndarray
    dropped: np.ndarray
    offline: np.ndarray
    speeds: dict[str, dict]
    catalog: PriceCatalog


def _speeds(q: Queries, args: Scope) -> dict[str, dict]:
    """Return each model's streamed TTFT median and generation totals over the scope's time window."""
    window = Scope(start=args.start, end=args.end)
    return {r["name"]: r for r in q.rows(_SPEED_SQL, window, SPLIT)}


def _state(a: dict[str, np.ndarray], speeds: dict[str, dict], catalog: PriceCatalog) -> _Sim:
    """Split each attempt into TTFT and generation (unstreamed: all generation)."""
    ttft = np.minimum(a["ttft"], a["lat"])
    flags = np.zeros(len(ttft), dtype=bool)
    return _Sim(a, ttft, a["lat"] - ttft, flags, flags.copy(), speeds, catalog)


def _observed(row: dict | None) -> bool:
    """Return whether a model's streamed stats can give a speed and a TTFT."""
    return bool(row) and row["ttft_p50"] > 0 and row["gen_ms"] > 0 and row["out_tokens"] > 0


def _route_ratios(sim: _Sim, source: str, target: str) -> tuple[float, float, str]:
    """Return (generation speed multiplier, TTFT multiplier, how they were found) for a route."""
    src, dst = sim.speeds.get(source), sim.speeds.get(target)
    if _observed(src) and _observed(dst):
        speed = (dst["out_tokens"] / dst["gen_ms"]) / (src["out_tokens"] / src["gen_ms"])
        return speed, dst["ttft_p50"] / src["ttft_p50"], f"observed speed and TTFT of {target}"
    sibling = cheaper_sibling(sim.catalog, source)
    key = "smaller_sibling" if sibling and sibling == sim.catalog.resolve(target) else "other"
    return (*ASSUMED_ROUTE[key], f"{target or 'no target'} not observed; assumed {key} ratios")


def _route(sim: _Sim, mask: np.ndarray, policy: Policy) -> str:
    """Give the routed attempts the target's generation speed and TTFT."""
    speed, ttft, how = _route_ratios(sim, policy.model, str(policy.params.get("target_model", "")))
    sim.gen[mask] /= speed
    sim.ttft[mask] *= ttft
    return f"{policy.policy_id}: {how}"


def _cap(sim: _Sim, mask: np.ndarray, policy: Policy) -> str:
    """Shorten outputs above the cap; their generation time shrinks in proportion."""
    cap, out = float(policy.params.get("cap", 0)), sim.a["out_n"]
    hit = mask & (out > cap) & (cap > 0)
    sim.gen[hit] *= cap / out[hit]
    return "" if cap > 0 else f"{policy.policy_id}: no cap parameter; no effect"


def _cache(sim: _Sim, mask: np.ndarray, policy: Policy) -> str:
    """Cut TTFT by CACHE_TTFT_FACTOR × the share of input the cached prefix newly covers."""
    prefix = float(policy.params.get("prefix_tokens", 0))
    share = np.minimum(prefix, np.maximum(sim.a["in_n"] - sim.a["cached_n"], 0)) / np.maximum(sim.a["in_n"], 1)
    sim.ttft[mask] *= 1 - CACHE_TTFT_FACTOR * share[mask]
    return "" if prefix > 0 else f"{policy.policy_id}: no prefix_tokens parameter; no effect"


def _batch(sim: _Sim, mask: np.ndarray, policy: Policy) -> str:
    """Move the attempts off the interactive path."""
    sim.offline |= mask
    return ""


def _retry(sim: _Sim, mask: np.ndarray, policy: Policy) -> str:
    """Remove retried failed attempts from their request's end-to-end time."""
    sim.dropped |= mask & (sim.a["retried"] > 0)
    return ""


_APPLY: dict[str, Callable[[_Sim, np.ndarray, Policy], str]] = {
    "route_model": _route, "cap_max_tokens": _cap, "prompt_cache": _cache, "batch_api": _batch, "retry_budget": _retry}


def _unique(policies: list[Policy]) -> list[Policy]:
    """Return the policies with repeated policy_ids dropped (the first one kept)."""
    seen: dict[str, Policy] = {}
    for policy in policies:
        seen.setdefault(policy.policy_id, policy)
    return list(seen.values())


def _apply(sim: _Sim, policy: Policy) -> str:
    """Apply one policy to its (feature, model) attempts; return a note ('' when none)."""
    mask = (sim.a["f"] == policy.feature) & (sim.a["m"] == policy.model)
    if not mask.any():
        return f"{policy.policy_id}: no requests of {policy.feature}/{policy.model} in scope; no effect"
    return _APPLY[policy.kind](sim, mask, policy)


def _requests(sim: _Sim) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return per logical request: feature, baseline and simulated end-to-end ms, and offline flag."""
    _, first, inverse = np.unique(sim.a["request"], return_index=True, return_inverse=True)
    new = np.where(sim.dropped, 0.0, sim.ttft + sim.gen)
    offline = np.bincount(inverse, weights=sim.offline) > 0
    return sim.a["f"][first], np.bincount(inverse, weights=sim.a["lat"]), np.bincount(inverse, weights=new), offline


def _gains(base: np.ndarray, new: np.ndarray, offline: np.ndarray) -> dict[str, float]:
    """Return baseline and simulated p50/p95 (interactive requests) and the p95 change."""
    kept = new[~offline]
    b95, s95 = exact_quantile(base, 0.95), exact_quantile(kept, 0.95)
    return {"requests": len(base), "async_requests": int(offline.sum()), "baseline_p50_ms": exact_quantile(base, 0.5),
            "baseline_p95_ms": b95, "simulated_p50_ms": exact_quantile(kept, 0.5), "simulated_p95_ms": s95,
            "p95_change_pct": 100 * ratio(s95 - b95, b95)}


def _rows(features: np.ndarray, base: np.ndarray, new: np.ndarray, offline: np.ndarray) -> list[dict[str, Any]]:
    """Return the gains of each affected feature (its requests found by one hash table, kept in order)."""
    encoded = pc.dictionary_encode(pa.array(features, pa.string()))
    code, names = encoded.indices.to_numpy(), encoded.dictionary.to_pylist()
    parts = np.split(np.argsort(code, kind="stable"), np.cumsum(np.bincount(code, minlength=len(names)))[:-1])
    return [{"feature": f, **_gains(base[at], new[at], offline[at])} for f, at in sorted(zip(names, parts))]


def _gains_result(q: Queries, per_request: tuple[np.ndarray, ...], notes: list[str]) -> ToolResult:
    """Return the pooled figures and per-feature rows of (features, baseline, simulated, offline)."""
    features, base, new, offline = per_request
    return finish(GAINS, GAINS_FIGURES, _gains(base, new, offline), _rows(features, base, new, offline), q, notes)


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
    found = scoped_attempts(ctx, q, args, sorted({p.feature for p in args.policies}))
    if not len(found["lat"]):
        return empty(GAINS, GAINS_FIGURES, q)
    cov = Coverage(len(found["lat"]), {"latency_ms": int((found["timed"] == 0).sum())})
    result = _simulate(ctx, q, args, found) if found["timed"].any() else _untimed(q, found)
    return cov.mark(result, GAINS_NEEDS)


def _simulate(ctx: ToolContext, q: Queries, args: GainsArgs, found: dict[str, np.ndarray]) -> ToolResult:
    """Replay the attempts that logged latency with the policies applied; name the features left out."""
    timed = found["timed"] > 0
    sim = _state({k: v[timed] for k, v in found.items()}, _speeds(q, args), ctx.catalog)
    applied = [n for n in (_apply(sim, p) for p in _unique(args.policies)) if n]
    untimed = [f"{f}: its events lack latency_ms; not simulated" for f in sorted(set(found["f"]) - set(sim.a["f"]))]
    return _gains_result(q, _requests(sim), untimed + applied)


def _untimed(q: Queries, found: dict[str, np.ndarray]) -> ToolResult:
    """Return the result of attempts none of which logged latency: the requests counted, no latency figure."""
    values = dict.fromkeys(GAINS_FIGURES, 0.0) | {"requests": len(np.unique(found["request"]))}
    return finish(GAINS, GAINS_FIGURES, values, [], q, [])
