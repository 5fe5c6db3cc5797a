"""Apex tool (reporting): total saving of a set of policies, by kind and by feature, without double counting.

`savings_summarizer` applies the policies (given, or `optimal_policy_proposer`'s chosen set) to
the scoped events with the joint simulator (`_joint`, as `policy_simulator` does): each
policy's saving is the cost drop of its events at its step, so the savings add up to the joint
saving and no dollar counts twice. It totals those attributed savings by policy kind and by
feature, per 30-day month and per 365-day year (annual = monthly × 365 / 30), with each total's
share of the spend, and the sum of the policies' savings when each is applied alone.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

from pydantic import Field

from netra.tools._joint import JointSimulator, Savings, unique_ids
from netra.tools._sql import Queries, empty, finish, ratio
from netra.tools.base import ToolContext, ToolResult
from netra.tools.findings import Policy
from netra.tools.policy_optimal import optimal_set
from netra.tools.registry import apex_tool
from netra.tools.scope import DAYS_PER_MONTH, Scope, monthly

TOOL = "savings_summarizer"
ANNUAL = 365.0 / DAYS_PER_MONTH  # months of 30 days in a 365-day year

FIGURES = {
    "policies": ("policies", "policies totalled"),
    "baseline_monthly_cost_usd": ("USD/month", "scoped cost per 30-day month"),
    "monthly_saving_usd": ("USD/month", "joint saving: the policies applied to each event together"),
    "annual_saving_usd": ("USD/year", "joint saving per 365-day year"),
    "saving_share_pct": ("%", "joint saving, percent of baseline spend"),
    "standalone_sum_monthly_usd": ("USD/month", "sum of the policies' monthly savings, each applied alone"),
    "overlap_removed_monthly_usd": ("USD/month", "standalone sum minus the joint saving")}
# row table -> the policy field its totals group by
GROUPS: dict[str, Callable[[Policy], str]] = {"kind": lambda p: p.kind, "feature": lambda p: p.feature}


class SavingsArgs(Scope):
    """Arguments of `savings_summarizer`."""

    policies: list[Policy] | None = Field(None, description="policies to total (default: the optimal set)")


def _policies(ctx: ToolContext, args: SavingsArgs) -> tuple[list[Policy], list[str]]:
    """Return the given policies, or optimal_policy_proposer's chosen set (with a note saying so)."""
    if args.policies is not None:
        return unique_ids(args.policies), []
    chosen, _ = optimal_set(ctx, args)
    return chosen, [f"no policies given: totalling optimal_policy_proposer's chosen set ({len(chosen)})"]


def _grouped(saving: Savings, table: str) -> dict[str, list[float]]:
    """Return the monthly attributed savings of the policies grouped by `table`'s field, keys sorted."""
    groups: dict[str, list[float]] = defaultdict(list)
    for policy in saving.policies:
        groups[GROUPS[table](policy)].append(monthly(saving.attributed(policy), saving.days))
    return dict(sorted(groups.items()))


def _total(amounts: list[float], spend: float, saved: float) -> dict[str, Any]:
    """Return a group's policy count, monthly and annual saving, and its shares of spend and of the saving."""
    month = sum(amounts)
    return {"policies": len(amounts), "monthly_saving_usd": month, "annual_saving_usd": month * ANNUAL,
            "share_of_spend_pct": 100 * ratio(month, spend), "share_of_saving_pct": 100 * ratio(month, saved)}


def _rows(saving: Savings) -> list[dict[str, Any]]:
    """Return `kind` rows (shares of all spend) then `feature` rows (shares of the feature's own spend)."""
    total, saved = monthly(saving.baseline, saving.days), monthly(saving.joint.saving, saving.days)
    spend = {f: monthly(cost, saving.days) for f, cost in saving.sim.features.items()}
    kinds = [{"table": "kind", "kind": k, **_total(a, total, saved)} for k, a in _grouped(saving, "kind").items()]
    return kinds + [{"table": "feature", "feature": f, "baseline_monthly_cost_usd": spend.get(f, 0.0),
                     **_total(a, spend.get(f, 0.0), saved)} for f, a in _grouped(saving, "feature").items()]


def _values(saving: Savings) -> dict[str, float]:
    """Return the summary figures."""
    base, saved = monthly(saving.baseline, saving.days), monthly(saving.joint.saving, saving.days)
    alone = sum(monthly(o.saving, saving.days) for o in saving.alone)
    return {"policies": len(saving.policies), "baseline_monthly_cost_usd": base, "monthly_saving_usd": saved,
            "annual_saving_usd": saved * ANNUAL, "saving_share_pct": 100 * ratio(saved, base),
            "standalone_sum_monthly_usd": alone, "overlap_removed_monthly_usd": alone - saved}


@apex_tool(TOOL, "Total the saving of a set of policies applied together to each event (no dollar counted "
                 "twice): monthly and annual, by policy kind and by feature, and as a share of spend.",
           SavingsArgs, family="reporting")
def savings_summarizer(ctx: ToolContext, args: SavingsArgs) -> ToolResult:
    """Summarise the joint saving of the policies (module docstring).

    Args:
        ctx: The analytics store and price catalog.
        args: The scope and optional policies (default: the optimal set).

    Returns:
        Rows with a `table` key: `kind` and `feature` totals.
    """
    q = Queries(ctx.store)
    policies, notes = _policies(ctx, args)
    sim = JointSimulator(ctx, args, policies, q)
    if not sim.features:
        return empty(TOOL, FIGURES, q)
    saving = Savings.of(sim, policies)
    return finish(TOOL, FIGURES, _values(saving), _rows(saving), q, notes + saving.joint.notes)
