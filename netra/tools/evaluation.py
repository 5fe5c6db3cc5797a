"""Apex tool (reporting): measurable success criteria for each chosen policy, with targets from the data.

`evaluation_criteria_definer` reprices the window under all the policies together with
`cost_impact_simulator` (no dollar counted twice) and, per policy, sets:

- the expected monthly cost of its feature after the change (the feature's repriced cost),
- the policy's own monthly saving in that joint repricing (its marginal saving),
- the allowed quality floor (today's mean quality score of its (feature, model) − `quality_budget`;
  unknown when the pair has no scores),
- the p95 latency ceiling (today's p95 × (1 + `latency_tolerance_pct`/100)), or the 24 h
  completion window for Batch API policies,
- the error-rate ceiling (today's error rate + `error_rate_margin`).
"""

from __future__ import annotations

from typing import Any, Callable

from netra.tools._sql import Queries, empty, finish, ratio
from netra.tools.base import ToolContext, ToolResult
from netra.tools.cost_simulation import SIMULATOR
from netra.tools.dispatcher import ToolDispatcher
from netra.tools.findings import Policy
from netra.tools.registry import apex_tool
from netra.tools.rollout import WATCH, PlanArgs, pair_stats, planned, policy_stats, threshold_row
from netra.tools.scope import Scope, monthly

TOOL = "evaluation_criteria_definer"
_BASE = ("feature_monthly_cost_usd", "policy_monthly_saving_usd", "quality_score", "error_rate")
CRITERIA: dict[str, tuple[str, ...]] = {
    kind: _BASE + (("batch_completion_hours",) if kind == "batch_api" else ("p95_latency_ms",)) for kind in WATCH}

Money = dict[str, float]
# money criterion -> (unit, healthy comparison, baseline, target) from the policy's joint repricing
MONEY: dict[str, tuple[str, str, Callable[[Money], float], Callable[[Money], float]]] = {
    "feature_monthly_cost_usd": ("USD/month", "<=", lambda m: m["feature_before"], lambda m: m["feature_after"]),
    "policy_monthly_saving_usd": ("USD/month", ">=", lambda m: 0.0, lambda m: m["saving"]),
}

FIGURES = {
    "policies": ("policies", "policies with criteria"), "criteria": ("criteria", "criteria over all policies"),
    "baseline_monthly_cost_usd": ("USD/month", "scoped cost per 30-day month"),
    "expected_monthly_cost_usd": ("USD/month", "scoped monthly cost once every policy applies"),
    "expected_monthly_saving_usd": ("USD/month", "joint monthly saving of the policies"),
    "expected_saving_pct": ("%", "joint saving, percent of baseline monthly cost"),
    "unmeasured_criteria": ("criteria", "criteria without data for a target (e.g. no quality scores)")}


class EvaluationArgs(PlanArgs):
    """Arguments of `evaluation_criteria_definer` (the same as `rollout_planner`'s)."""


def _money_row(metric: str, money: Money) -> dict[str, Any]:
    """Return a money criterion's unit, baseline, target and comparison."""
    unit, healthy, base, target = MONEY[metric]
    return {"criterion": metric, "unit": unit, "baseline": base(money), "target": target(money),
            "comparison": healthy}


def _data_row(metric: str, args: EvaluationArgs, stats: dict[str, Any]) -> dict[str, Any]:
    """Return a criterion taken from the pair's baseline stats (the rollout threshold as the target)."""
    row = threshold_row(metric, args, stats)
    return {"criterion": metric, "unit": row["unit"], "baseline": row["baseline"], "target": row["threshold"],
            "comparison": row["comparison"]}


def _criteria(policy: Policy, args: EvaluationArgs, stats: dict[str, Any], money: Money) -> list[dict[str, Any]]:
    """Return one policy's criterion rows, in its kind's order."""
    ids = policy.model_dump(include={"policy_id", "kind", "feature", "model"})
    return [{**ids, **(_money_row(m, money) if m in MONEY else _data_row(m, args, stats))}
            for m in CRITERIA[policy.kind]]


def _money(sim: ToolResult, days: float) -> dict[str, Any]:
    """Return each feature's (before, after) monthly cost and each policy's monthly saving and applied flag."""
    features = {r["feature"]: (monthly(r["baseline_window_cost_usd"], days), monthly(r["repriced_window_cost_usd"],
                days)) for r in sim.rows if r["table"] == "feature"}
    policies = {r["policy_id"]: (r["monthly_saving_usd"], r["applied"]) for r in sim.rows if r["table"] == "policy"}
    return {"features": features, "policies": policies}


def _policy_money(policy: Policy, money: dict[str, Any]) -> Money:
    """Return the money values of one policy's criteria."""
    before, after = money["features"].get(policy.feature, (0.0, 0.0))
    return {"feature_before": before, "feature_after": after,
            "saving": money["policies"].get(policy.policy_id, (0.0, False))[0]}


def _rows(q: Queries, args: EvaluationArgs, policies: list[Policy], money: dict) -> tuple[list[dict], list[str]]:
    """Return every policy's criteria, and notes on policies without events in scope."""
    pairs, rows, notes = pair_stats(q, args), [], []
    for policy in policies:
        stats = policy_stats(q, args, policy, pairs)
        rows += _criteria(policy, args, stats, _policy_money(policy, money)) if stats else []
        notes += [] if stats else [f"{policy.policy_id}: no events of {policy.feature}/{policy.model} in scope"]
    return rows, notes


def _values(sim: ToolResult, rows: list[dict[str, Any]]) -> dict[str, float]:
    """Return the figure values: counts from the rows, money from the joint repricing."""
    base, after = sim.value("baseline_monthly_cost_usd"), sim.value("repriced_monthly_cost_usd")
    return {"policies": len({r["policy_id"] for r in rows}), "criteria": len(rows),
            "baseline_monthly_cost_usd": base, "expected_monthly_cost_usd": after,
            "expected_monthly_saving_usd": base - after, "expected_saving_pct": 100 * ratio(base - after, base),
            "unmeasured_criteria": sum(r["target"] is None for r in rows)}


@apex_tool(TOOL, "Define measurable success criteria per policy: expected monthly cost after the change, its "
                 "saving, the allowed quality floor, the p95 latency ceiling and the error-rate ceiling, all "
                 "derived from the scoped data.", EvaluationArgs, family="reporting")
def evaluation_criteria_definer(ctx: ToolContext, args: EvaluationArgs) -> ToolResult:
    """Set success criteria for the policies (module docstring).

    Args:
        ctx: The analytics store and price catalog.
        args: The scope, optional policies (default: the optimal set) and the tolerances.

    Returns:
        One row per (policy, criterion): baseline, target and the comparison the target needs.
    """
    q = Queries(ctx.store)
    if not q.one("SELECT count() AS n FROM workload_events {where}", args)["n"]:
        return empty(TOOL, FIGURES, q)
    policies, notes = planned(ctx, args)
    sim = _joint(ctx, q, args, policies)
    rows, more = _rows(q, args, policies, _money(sim, q.span(args)))
    return finish(TOOL, FIGURES, _values(sim, rows), rows, q, notes + more + [f"{SIMULATOR}: {n}" for n in sim.notes])


def _joint(ctx: ToolContext, q: Queries, args: EvaluationArgs, policies: list[Policy]) -> ToolResult:
    """Reprice the window under all the policies together (in-process); keep its evidence."""
    scope = Scope.model_validate(args.model_dump(include=set(Scope.model_fields)))
    sim = ToolDispatcher(ctx).run(SIMULATOR, scope.model_dump(mode="json", exclude_none=True) | {
        "policies": [p.model_dump(mode="json") for p in policies]})
    q.evidence += [e for e in sim.evidence if e not in q.evidence]
    return sim
