"""Apex tool (reporting): total saving of a set of policies, by kind and by feature, without double counting.

`savings_summarizer` runs `policy_simulator` in-process on the policies (given, or
`optimal_policy_proposer`'s chosen set), so savings on one feature combine as
C × (1 − Π(1 − sᵢ/C)) and each policy gets its proportional share of the combined saving.
It totals those attributed savings by policy kind and by feature, per 30-day month and per
365-day year (annual = monthly × 365 / 30), with each total's share of the spend.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import Field

from netra.tools._sql import Queries, empty, finish, ratio
from netra.tools.base import ToolContext, ToolResult
from netra.tools.dispatcher import ToolDispatcher
from netra.tools.findings import Policy
from netra.tools.policies import SIMULATOR
from netra.tools.policy_optimal import optimal_set
from netra.tools.registry import apex_tool
from netra.tools.scope import DAYS_PER_MONTH, Scope, monthly

TOOL = "savings_summarizer"
ANNUAL = 365.0 / DAYS_PER_MONTH  # months of 30 days in a 365-day year

_FEATURE_SQL = """SELECT feature, sum(cost_usd) AS cost
FROM workload_events {where} GROUP BY feature ORDER BY feature"""

FIGURES = {
    "policies": ("policies", "policies totalled"),
    "baseline_monthly_cost_usd": ("USD/month", "scoped cost per 30-day month"),
    "monthly_saving_usd": ("USD/month", "combined saving, overlap on a feature removed"),
    "annual_saving_usd": ("USD/year", "combined saving per 365-day year"),
    "saving_share_pct": ("%", "combined saving, percent of baseline spend"),
    "standalone_sum_monthly_usd": ("USD/month", "simple sum of the policies' standalone monthly savings"),
    "overlap_removed_monthly_usd": ("USD/month", "standalone sum minus combined saving")}


class SavingsArgs(Scope):
    """Arguments of `savings_summarizer`."""

    policies: list[Policy] | None = Field(None, description="policies to total (default: the optimal set)")


def _policies(ctx: ToolContext, args: SavingsArgs) -> tuple[list[Policy], list[str]]:
    """Return the given policies, or optimal_policy_proposer's chosen set (with a note saying so)."""
    if args.policies is not None:
        return args.policies, []
    chosen, _ = optimal_set(ctx, args)
    return chosen, [f"no policies given: totalling optimal_policy_proposer's chosen set ({len(chosen)})"]


def _simulate(ctx: ToolContext, q: Queries, args: SavingsArgs, policies: list[Policy]) -> ToolResult:
    """Run policy_simulator in-process on the scope and the policies; keep its evidence."""
    scope = Scope.model_validate(args.model_dump(include=set(Scope.model_fields)))
    sim = ToolDispatcher(ctx).run(SIMULATOR, scope.model_dump(mode="json", exclude_none=True) | {
        "policies": [p.model_dump(mode="json") for p in policies]})
    q.evidence += [e for e in sim.evidence if e not in q.evidence]
    return sim


def _group(rows: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    """Return the simulator's policy rows grouped by `key`, keys sorted."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row[key]].append(row)
    return dict(sorted(groups.items()))


def _total(rows: list[dict[str, Any]], spend: float, saved: float) -> dict[str, Any]:
    """Return a group's policy count, monthly and annual saving, and its shares of spend and of the saving."""
    month = sum(r["attributed_monthly_saving_usd"] for r in rows)
    return {"policies": len(rows), "monthly_saving_usd": month, "annual_saving_usd": month * ANNUAL,
            "share_of_spend_pct": 100 * ratio(month, spend), "share_of_saving_pct": 100 * ratio(month, saved)}


def _rows(sim: ToolResult, spend: dict[str, float]) -> list[dict[str, Any]]:
    """Return `kind` rows (shares of all spend) then `feature` rows (shares of the feature's own spend)."""
    total, saved = sim.value("baseline_monthly_cost_usd"), sim.value("combined_monthly_saving_usd")
    kinds = [{"table": "kind", "kind": k, **_total(rs, total, saved)} for k, rs in _group(sim.rows, "kind").items()]
    return kinds + [{"table": "feature", "feature": f, "baseline_monthly_cost_usd": spend.get(f, 0.0),
                     **_total(rs, spend.get(f, 0.0), saved)} for f, rs in _group(sim.rows, "feature").items()]


def _values(sim: ToolResult) -> dict[str, float]:
    """Return the summary figures from the simulator's result."""
    base, saved = sim.value("baseline_monthly_cost_usd"), sim.value("combined_monthly_saving_usd")
    alone = sum(r["standalone_monthly_saving_usd"] for r in sim.rows)
    return {"policies": len(sim.rows), "baseline_monthly_cost_usd": base, "monthly_saving_usd": saved,
            "annual_saving_usd": saved * ANNUAL, "saving_share_pct": 100 * ratio(saved, base),
            "standalone_sum_monthly_usd": alone, "overlap_removed_monthly_usd": alone - saved}


@apex_tool(TOOL, "Total the saving of a set of policies without double counting (policy_simulator's "
                 "combination): monthly and annual, by policy kind and by feature, and as a share of spend.",
           SavingsArgs, family="reporting")
def savings_summarizer(ctx: ToolContext, args: SavingsArgs) -> ToolResult:
    """Summarise the combined saving of the policies (module docstring).

    Args:
        ctx: The analytics store and price catalog.
        args: The scope and optional policies (default: the optimal set).

    Returns:
        Rows with a `table` key: `kind` and `feature` totals.
    """
    q = Queries(ctx.store)
    costs = {r["feature"]: float(r["cost"]) for r in q.rows(_FEATURE_SQL, args)}
    if not costs:
        return empty(TOOL, FIGURES, q)
    policies, notes = _policies(ctx, args)
    sim, spend = _simulate(ctx, q, args, policies), _monthly(costs, q.span(args))
    return finish(TOOL, FIGURES, _values(sim), _rows(sim, spend), q, notes + [f"{SIMULATOR}: {n}" for n in sim.notes])


def _monthly(costs: dict[str, float], days: float) -> dict[str, float]:
    """Return each feature's window cost scaled to a 30-day month."""
    return {feature: monthly(cost, days) for feature, cost in costs.items()}
