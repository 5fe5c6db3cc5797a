"""Apex tools (cost simulation): reprice the window under policies; keep those quality allows.

`cost_impact_simulator` applies the policies to the scoped events with the joint simulator
(`_joint`): kind by kind in one order (prompt cache, route, cap, batch, retries), each event of a
policy's (feature, model) changed and re-priced by the rule of `price_events`, and each policy
credited with the cost drop of its events at its step, so the policies' savings add up to the
joint saving. One policy per (kind, feature, model) applies (the first; repeats are noted).
`cost_reduction_quality_preservation` keeps the policies whose expected quality drop
(`expected_drop`) is at most `quality_budget` and reprices the window under those.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from netra.tools._joint import ORDER, JointResult, JointSimulator, scope_of
from netra.tools._sql import Queries, empty, finish, ratio
from netra.tools.base import ToolContext, ToolResult
from netra.tools._joint_steps import whole
from netra.tools.evidence import CapDrop, cap_drop, route_quality
from netra.tools.findings import Policy
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, monthly
from netra.workloads.quality import QualityEvidence

SIMULATOR, PRESERVER = "cost_impact_simulator", "cost_reduction_quality_preservation"

# expected quality drop: fixed by kind (the served answers do not change: a cache or the Batch API gives the
# model's own output, a retry budget drops failed attempts only); a route's from its quality evidence
# (`quality.quality_evidence`); a cap's measured from the answers it cuts (`evidence.cap_drop`); else unknown
FIXED_DROP: dict[str, float] = {"prompt_cache": 0.0, "batch_api": 0.0, "retry_budget": 0.0}

SIM_FIGURES = {
    "baseline_window_cost_usd": ("USD", "scoped cost over the window"),
    "repriced_window_cost_usd": ("USD", "window cost under the policies"),
    "baseline_monthly_cost_usd": ("USD/month", "scoped cost per 30-day month"),
    "repriced_monthly_cost_usd": ("USD/month", "monthly cost under the policies"),
    "window_saving_usd": ("USD", "baseline minus repriced window cost"),
    "monthly_saving_usd": ("USD/month", "baseline minus repriced monthly cost"),
    "saving_pct": ("%", "saving, percent of baseline cost"), "policies_applied": ("policies", "policies applied")}
KEEP_FIGURES = {
    "kept_policies": ("policies", "within the quality budget"), "rejected_policies": ("policies", "over the budget"),
    "kept_window_saving_usd": ("USD", "window saving of the kept policies, repriced together"),
    "kept_monthly_saving_usd": ("USD/month", "monthly saving of the kept policies, repriced together"),
    "kept_saving_pct": ("%", "kept saving, percent of baseline cost")}

class SimulationArgs(Scope):
    """Arguments of `cost_impact_simulator`."""

    policies: list[Policy] = Field(description="the policies to apply together")


class PreservationArgs(SimulationArgs):
    """Arguments of `cost_reduction_quality_preservation`."""

    quality_budget: float = Field(0.02, ge=0, le=1, description="max allowed expected quality drop (0..1)")


_ID_FIELDS = {"policy_id", "kind", "feature", "model"}


def _policy_rows(sim: JointSimulator, result: JointResult) -> list[dict[str, Any]]:
    """Return one row per policy tried, in the order applied: its saving and whether it applied."""
    return [{"table": "policy", **o.policy.model_dump(include=_ID_FIELDS), "window_saving_usd": o.saving,
             "monthly_saving_usd": monthly(o.saving, sim.days), "applied": o.applied,
             "skipped_because": o.skipped_because} for o in result.outcomes]


def _feature_rows(sim: JointSimulator, result: JointResult) -> list[dict[str, Any]]:
    """Return one row per feature in scope: baseline, repriced, saving and its percent."""
    base, saved = sim.features, {f: result.saving_of(f) for f in sim.features}
    return [{"table": "feature", "feature": f, "baseline_window_cost_usd": base[f],
             "repriced_window_cost_usd": base[f] - saved[f], "window_saving_usd": saved[f],
             "saving_pct": 100 * ratio(saved[f], base[f])} for f in sorted(base, key=lambda f: (-saved[f], f))]


def _rows(sim: JointSimulator, result: JointResult) -> list[dict[str, Any]]:
    """Return the policy rows, then the feature rows."""
    return _policy_rows(sim, result) + _feature_rows(sim, result)


def _sim_values(sim: JointSimulator, result: JointResult) -> dict[str, float]:
    """Return the simulator's figure values."""
    base, saved, days = sim.baseline_window, result.saving, sim.days
    return {"baseline_window_cost_usd": base, "repriced_window_cost_usd": base - saved,
            "baseline_monthly_cost_usd": monthly(base, days), "repriced_monthly_cost_usd": monthly(base - saved, days),
            "window_saving_usd": saved, "monthly_saving_usd": monthly(saved, days),
            "saving_pct": 100 * ratio(saved, base), "policies_applied": sum(o.applied for o in result.outcomes)}


def _load(ctx: ToolContext, args: SimulationArgs) -> tuple[Queries, JointSimulator]:
    """Return a recorder and the joint simulator over the scope and the events its policies target."""
    q = Queries(ctx.store)
    return q, JointSimulator(ctx, args, args.policies, q)


@apex_tool(SIMULATOR, "Reprice the window under a set of policies, applied to each event together in one order "
                      "(prompt cache, route, cap, batch, retries): baseline, repriced and saved cost, each policy's "
                      "share of the saving.", SimulationArgs, family="optimization")
def cost_impact_simulator(ctx: ToolContext, args: SimulationArgs) -> ToolResult:
    """Reprice the window under `args.policies` (module docstring); rows: `table` "policy" and "feature"."""
    q, sim = _load(ctx, args)
    if not sim.features:
        return empty(SIMULATOR, SIM_FIGURES, q)
    result = sim.run(args.policies)
    return finish(SIMULATOR, SIM_FIGURES, _sim_values(sim, result), _rows(sim, result), q, result.notes)


def route_evidence(q: Queries, scope: Scope, policies: list[Policy], budget: float,
                   category: str | None = None) -> dict[str, QualityEvidence | CapDrop]:
    """Return the quality evidence of every route (the scope's scores, read without its model) and every cap
    with a whole `cap` (the answers it cuts), by policy_id."""
    routes = {p.policy_id: route_quality(q, scope, (p.feature, p.model, str(p.params.get("target_model", ""))),
                                         category, budget) for p in policies if p.kind == "route_model"}
    caps = [(p, whole(p.params.get("cap"))) for p in policies if p.kind == "cap_max_tokens"]
    return routes | {p.policy_id: cap_drop(q, scope, p.feature, p.model, cap) for p, cap in caps
                     if cap is not None and cap >= 0}


def expected_drop(policy: Policy, evidence: dict[str, QualityEvidence | CapDrop]) -> tuple[float | None, str]:
    """Return a policy's expected quality drop (None: unknown) and its basis: fixed, the route's or cap's evidence."""
    if policy.kind in FIXED_DROP:
        return FIXED_DROP[policy.kind], "fixed: the served answers do not change"
    found = evidence.get(policy.policy_id)
    if found is not None:
        return found.drop, found.source
    return None, "unknown: no evidence of the quality drop"


def _verdict(policy: Policy, evidence: dict[str, QualityEvidence | CapDrop], budget: float) -> dict[str, Any]:
    """Return the kept/rejected row of one policy (an unknown drop is never within the budget)."""
    drop, basis = expected_drop(policy, evidence)
    kept = drop is not None and drop <= budget + 1e-12
    shown = "unknown" if drop is None else f"{drop:.4f}"
    return {"table": "decision", **policy.model_dump(include=_ID_FIELDS), "decision": "kept" if kept else "rejected",
            "expected_quality_drop": drop,
            "reason": f"expected drop {shown} {'<=' if kept else '>'} budget {budget:.4f} ({basis})",
            "stated_monthly_saving_usd": policy.monthly_saving_usd}


def _decide(q: Queries, args: PreservationArgs) -> list[dict[str, Any]]:
    """Return each policy's kept/rejected row."""
    evidence = route_evidence(q, scope_of(args), args.policies, args.quality_budget)
    return [_verdict(p, evidence, args.quality_budget) for p in args.policies]


@apex_tool(PRESERVER, "Keep only the policies whose expected quality drop fits a budget (measured from quality "
                      "scores where possible); reprice the window under them.", PreservationArgs,
           family="optimization")
def cost_reduction_quality_preservation(ctx: ToolContext, args: PreservationArgs) -> ToolResult:
    """Keep the policies within the quality budget, reprice them; rows: "decision", then the simulator's."""
    q, sim = _load(ctx, args)
    if not sim.features:
        return empty(PRESERVER, KEEP_FIGURES, q)
    decisions = _decide(q, args)
    result = sim.run([p for p, d in zip(args.policies, decisions) if d["decision"] == "kept"])
    return finish(PRESERVER, KEEP_FIGURES, _keep_values(sim, result, decisions), decisions + _rows(sim, result), q,
                  result.notes)


def _keep_values(sim: JointSimulator, result: JointResult, decisions: list[dict[str, Any]]) -> dict[str, float]:
    """Return the kept/rejected counts and the simulator's figures of the kept set, prefixed `kept_`."""
    kept = sum(d["decision"] == "kept" for d in decisions)
    values = {f"kept_{name}": value for name, value in _sim_values(sim, result).items()}
    return values | {"kept_policies": kept, "rejected_policies": len(decisions) - kept}


__all__ = ["FIXED_DROP", "KEEP_FIGURES", "ORDER", "PRESERVER", "SIMULATOR", "SIM_FIGURES",
           "cost_impact_simulator", "cost_reduction_quality_preservation", "expected_drop", "route_evidence"]
