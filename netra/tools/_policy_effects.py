"""Private helpers of `policy_simulator`: each policy's effect alone, and the saving intervals.

Per policy: the cost delta (minus its standalone monthly saving); the p50/p95 latency delta of
`performance_gains_simulator` run in-process on that one policy (skipped with a note if it
fails or leaves no interactive request); the expected quality drop by the rule of
`cost_reduction_quality_preservation` (`expected_drop`); and the 90% bootstrap interval of its
standalone monthly saving (`_bootstrap`). The combined interval bootstraps the per-day sum of
the attributed savings, so it brackets `combined_monthly_saving_usd`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netra.tools._bootstrap import Weights, combined_series, interval, pair_weights, series
from netra.tools._sql import Queries
from netra.tools.base import Figure, ToolContext, ToolResult
from netra.tools.cost_simulation import expected_drop
from netra.tools.dispatcher import ToolDispatcher
from netra.tools.findings import Policy
from netra.tools.performance import GAINS
from netra.tools.scope import Scope, fig, monthly
from netra.workloads.quality import SCORED, SCORES_SQL

LATENCY_FIELDS = ("latency_p50_delta_ms", "latency_p95_delta_ms")
INTERVAL_FIELDS = ("saving_low_usd", "saving_high_usd")
NOTE_CHARS = 120  # of a failed gains run's error message kept in the note
# why a gains run gives no latency delta, checked in order
_NO_LATENCY = ((lambda r: not r.value("requests"), "no requests of its feature in scope"),
               (lambda r: r.value("async_requests") >= r.value("requests"),
                "all its feature's requests leave the interactive path"))


@dataclass(frozen=True)
class Amounts:
    """The policies (duplicates dropped), their standalone and attributed window savings, the span."""

    policies: list[Policy]
    savings: list[float]
    shares: list[float]
    days: float


@dataclass(frozen=True)
class Effects:
    """Extra row fields by policy_id, extra figures and notes."""

    fields: dict[str, dict[str, Any]]
    figures: dict[str, Figure]
    notes: list[str]

    def merged(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Return `rows` with each policy's extra fields appended."""
        return [row | self.fields[row["policy_id"]] for row in rows]


def scope_of(args: Scope) -> Scope:
    """Return only the scope of `args` (a tool's arguments extend it)."""
    return Scope.model_validate(args.model_dump(include=set(Scope.model_fields)))


def effects(ctx: ToolContext, q: Queries, scope: Scope, amounts: Amounts, samples: int) -> Effects:
    """Return each policy's cost, latency and quality deltas and saving interval, and the combined interval.

    Args:
        ctx: the context the gains simulator runs in (its queries join `q`'s evidence).
        q: the simulator's recorder.
        scope: the events to read (a tool's arguments; only their scope is used).
        amounts: the policies and their savings.
        samples: bootstrap resamples (0: no intervals, no interval figures).
    """
    scope = scope_of(scope)
    scores = _scores(q, scope)
    alone = [_alone(ctx, q, scope, p, scores) for p in amounts.policies]
    bounds, figures, notes = _intervals(q, scope, amounts, samples)
    fields = {p.policy_id: {"cost_delta_monthly_usd": -monthly(s, amounts.days), **effect, **bound}
              for p, s, (effect, _), bound in zip(amounts.policies, amounts.savings, alone, bounds)}
    return Effects(fields, figures, [n for _, more in alone for n in more] + notes)


def _scores(q: Queries, scope: Scope) -> dict[tuple[str, str], float]:
    """Return the mean quality score per (feature, model), read without the scope's model filter."""
    rows = q.rows(SCORES_SQL, scope.model_copy(update={"model": None}), SCORED)
    return {(r["feature"], r["model"]): float(r["mean_score"]) for r in rows}


def _alone(ctx: ToolContext, q: Queries, scope: Scope, policy: Policy,
           scores: dict[tuple[str, str], float]) -> tuple[dict[str, Any], list[str]]:
    """Return one policy's latency and quality fields, and its notes."""
    latency, notes = _latency(ctx, q, scope, policy)
    drop, basis = expected_drop(policy, scores)
    return {**latency, "quality_drop": drop, "quality_basis": basis}, notes


def _latency(ctx: ToolContext, q: Queries, scope: Scope, policy: Policy) -> tuple[dict[str, Any], list[str]]:
    """Run the gains simulator on the policy alone; return its p50/p95 deltas (None if skipped) and notes."""
    args = scope.model_dump(mode="json", exclude_none=True) | {"policies": [policy.model_dump(mode="json")]}
    try:
        result = ToolDispatcher(ctx).run(GAINS, args)
    except Exception as exc:  # noqa: BLE001 - a failed run only costs this policy its latency delta (noted)
        return dict.fromkeys(LATENCY_FIELDS), [_failed(policy, exc)]
    q.evidence.extend(result.evidence)
    return _deltas(policy, result)


def _failed(policy: Policy, exc: Exception) -> str:
    """Return the note of a gains run that failed: the error's type and the start of its message."""
    return f"{policy.policy_id}: latency not simulated: {GAINS} failed ({type(exc).__name__}: {str(exc)[:NOTE_CHARS]})"


def _deltas(policy: Policy, result: ToolResult) -> tuple[dict[str, Any], list[str]]:
    """Return simulated minus baseline p50/p95 of a gains run, or None with a note saying why not."""
    why = next((text for skip, text in _NO_LATENCY if skip(result)), "")
    if why:
        return dict.fromkeys(LATENCY_FIELDS), [f"{policy.policy_id}: no latency delta: {why}"]
    deltas = {f"latency_{p}_delta_ms": result.value(f"simulated_{p}_ms") - result.value(f"baseline_{p}_ms")
              for p in ("p50", "p95")}
    return deltas, [f"{GAINS}: {n}" for n in result.notes]


def _intervals(q: Queries, scope: Scope, amounts: Amounts,
               samples: int) -> tuple[list[dict[str, Any]], dict[str, Figure], list[str]]:
    """Return each policy's interval fields, the combined interval figures and notes (none when samples is 0)."""
    if not samples:
        return [dict.fromkeys(INTERVAL_FIELDS) for _ in amounts.policies], {}, []
    weights = pair_weights(q, scope, amounts.policies)
    per = [weights[(p.feature, p.model)] for p in amounts.policies]
    bounds = [_bounds(w, s, samples, amounts.days) for w, s in zip(per, amounts.savings)]
    return bounds, _combined(per, amounts, samples), _interval_notes(amounts.policies, per)


def _interval_notes(policies: list[Policy], weights: list[Weights]) -> list[str]:
    """Name the policies whose (feature, model) has no events in scope, so no saving interval."""
    return [f"{p.policy_id}: no events of {p.feature}/{p.model} in scope; no saving interval"
            for p, w in zip(policies, weights) if not w]


def _bounds(weights: Weights, saving: float, samples: int, days: float) -> dict[str, Any]:
    """Return one policy's interval fields (None when its pair has no events in scope)."""
    if not weights:
        return dict.fromkeys(INTERVAL_FIELDS)
    return dict(zip(INTERVAL_FIELDS, interval(series(weights, saving), samples, days)))


def _combined(weights: list[Weights], amounts: Amounts, samples: int) -> dict[str, Figure]:
    """Return the interval figures of the combined saving (the point itself when no pair has events)."""
    per_day, point = combined_series(weights, amounts.shares), monthly(sum(amounts.shares), amounts.days)
    low, high = interval(per_day, samples, amounts.days) if len(per_day) else (point, point)
    return {"combined_saving_low_usd": fig(low, "USD/month", "5th percentile of the bootstrapped combined saving"),
            "combined_saving_high_usd": fig(high, "USD/month", "95th percentile of the bootstrapped combined saving")}
