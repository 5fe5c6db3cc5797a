"""Apex tool (optimization): choose the best non-conflicting set of policies under quality and latency limits.

Policies (given, or `policy_proposer`'s) are screened alone -- expected quality drop within
`quality_budget` (the rule of `cost_reduction_quality_preservation`; with `category`, benchmark
priors judge an unmeasured route), asynchronous ones only with `allow_async`, and applied alone
by the joint simulator (`_joint`, the events of every candidate loaded once) they must save
money -- then added greedily, largest standalone saving first: a second policy of one kind on
one (feature, model) conflicts; the chosen set plus the policy is simulated together (a prompt
cache and a route on one pair: the cache is replayed first, then the routed events, hits
included, are priced at the target's prices) and must add saving; `performance_gains_simulator`
(when registered) must keep every feature's p95 rise within `max_p95_latency_increase_pct`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import Field

from netra.tools._joint import JointSimulator, scope_of, unique_ids
from netra.tools._sql import Queries, empty, finish, ratio
from netra.tools.base import Evidence, ToolContext, ToolResult
from netra.tools.cost_simulation import expected_drop, route_evidence
from netra.tools.dispatcher import ToolDispatcher
from netra.tools.evidence import CapDrop
from netra.tools.findings import Policy, PolicyKind
from netra.tools.policies import PROPOSER
from netra.tools.registry import ToolRegistry, apex_tool
from netra.tools.scope import Scope, monthly
from netra.workloads.quality import QualityEvidence

TOOL, GAINS = "optimal_policy_proposer", "performance_gains_simulator"
ASYNC_WORDS = ("async", "batch")
EPS = 1e-9
COUNT_SQL = "SELECT count() AS n FROM workload_events {where}"
_INTERACTING = {"route_model", "prompt_cache"}

FIGURES = {
    "candidate_policies": ("policies", "policies considered"),
    "chosen_policies": ("policies", "policies chosen"),
    "rejected_policies": ("policies", "policies rejected (the reason is in their row)"),
    "baseline_monthly_cost_usd": ("USD/month", "scoped cost per 30-day month"),
    "combined_monthly_saving_usd": ("USD/month", "saving of the chosen set, applied together"),
    "combined_saving_pct": ("%", "combined saving, percent of baseline monthly cost"),
    "standalone_sum_monthly_saving_usd": ("USD/month", "sum of the chosen policies' savings, each applied alone"),
    "overlap_monthly_usd": ("USD/month", "standalone sum minus combined saving (dollars counted once)"),
    "max_p95_change_pct": ("%", "largest per-feature p95 latency change of the chosen set (0 if not simulated)"),
}


class OptimalArgs(Scope):
    """Arguments of `optimal_policy_proposer`."""

    policies: list[Policy] | None = Field(None, description="policies to choose from (default: policy_proposer's)")
    quality_budget: float = Field(0.02, ge=0, le=1, description="max expected quality drop of a policy (0..1)")
    max_p95_latency_increase_pct: float = Field(10.0, ge=0, description="max p95 latency rise of any feature, %")
    allow_async: bool = Field(False, description="allow policies that move requests off the interactive path")
    min_monthly_saving_usd: float = Field(1.0, ge=0, description="policy_proposer's minimum monthly saving")
    kinds: list[PolicyKind] | None = Field(None, description="policy_proposer's policy kinds (default: all)")
    category: str | None = Field(None, description="task category whose benchmark priors judge unmeasured routes")


@dataclass
class _Pick:
    """One choice in progress: context, arguments, quality scores, the set chosen so far, the joint simulator."""

    ctx: ToolContext
    args: OptimalArgs
    scope: dict[str, Any]
    quality: dict[str, QualityEvidence | CapDrop] = field(default_factory=dict)  # by policy_id
    chosen: list[Policy] = field(default_factory=list)
    saving: float = 0.0
    p95: float = 0.0
    evidence: list[Evidence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sim: JointSimulator = field(init=False)

    def monthly_saving(self, policies: list[Policy]) -> float:
        """Return the monthly saving of `policies` applied together."""
        return monthly(self.sim.run(policies).saving, self.sim.days)


Row = dict[str, Any]
Step = Callable[[_Pick, Policy, Row], str]


def _call(pick: _Pick, name: str, args: dict[str, Any]) -> ToolResult:
    """Run tool `name` in-process on the scope; keep its evidence (each query once)."""
    result = ToolDispatcher(pick.ctx).run(name, {**pick.scope, **args})
    pick.evidence += [e for e in result.evidence if e not in pick.evidence]
    return result


def _dump(policies: list[Policy]) -> list[dict[str, Any]]:
    """Return policies as the dispatcher receives them."""
    return [p.model_dump(mode="json") for p in policies]


def _target(policy: Policy) -> str:
    """Return a route policy's target model ('' when none)."""
    return str(policy.params.get("target_model", ""))


def _quality(pick: _Pick, policy: Policy, row: Row) -> str:
    """Reject a policy whose expected quality drop exceeds the budget."""
    value, basis = expected_drop(policy, pick.quality)
    row.update(expected_quality_drop=value, quality_basis=basis)
    budget = pick.args.quality_budget
    if value is None:
        return f"expected quality drop unknown ({basis})"
    return "" if value <= budget + EPS else f"expected quality drop {value:.4f} > budget {budget:.4f} ({basis})"


def is_async(policy: Policy) -> bool:
    """Return whether a policy moves requests off the interactive path."""
    return policy.kind == "batch_api" or any(w in policy.latency_impact.lower() for w in ASYNC_WORDS)


def _async(pick: _Pick, policy: Policy, row: Row) -> str:
    """Reject an asynchronous policy unless `allow_async`."""
    if is_async(policy) and not pick.args.allow_async:
        return f"moves requests off the interactive path ({policy.latency_impact}); allow_async is false"
    return ""


def _alone(pick: _Pick, policy: Policy, row: Row) -> str:
    """Apply the policy alone; reject it if it cannot apply or saves nothing."""
    mine = pick.sim.run([policy]).outcomes[0]
    row["standalone_monthly_saving_usd"] = monthly(mine.saving, pick.sim.days)
    if not mine.applied:
        return f"not applicable: {mine.skipped_because}"
    return "" if row["standalone_monthly_saving_usd"] > EPS else "saves nothing when applied alone"


def _conflict(pick: _Pick, policy: Policy, row: Row) -> str:
    """Reject a second policy of one kind on one (feature, model) (e.g. two routes of one pair)."""
    same = (policy.kind, policy.feature, policy.model)
    other = next((c for c in pick.chosen if (c.kind, c.feature, c.model) == same), None)
    return f"conflicts with chosen {other.policy_id}: one {policy.kind} per (feature, model)" if other else ""


def _interplay(pick: _Pick, policy: Policy) -> str:
    """Say how a route and a prompt cache on the same pair were priced together ('' when not)."""
    pair = [c for c in pick.chosen if (c.feature, c.model) == (policy.feature, policy.model)]
    other = next((c for c in pair if {c.kind, policy.kind} == _INTERACTING), None)
    if other is None:
        return ""
    target = _target(policy if policy.kind == "route_model" else other)
    return (f"; simulated with {other.policy_id}: the prompt cache is replayed on the {policy.model} traffic "
            f"first, then the routed events, cache hits included, are priced at {target}'s prices")


def _joint(pick: _Pick, policy: Policy, row: Row) -> str:
    """Apply the chosen set plus the policy together; reject it if it adds no saving."""
    joint = pick.monthly_saving(pick.chosen + [policy])
    row.update(marginal_monthly_saving_usd=joint - pick.saving, joint=joint)
    if joint - pick.saving > EPS:
        return ""
    return "adds no saving on top of the chosen set" + _interplay(pick, policy)


def _latency(pick: _Pick, policy: Policy, row: Row) -> str:
    """Replay the chosen set plus the policy; reject it if a feature's p95 rises too much."""
    if GAINS not in ToolRegistry().names():
        return ""
    result = _call(pick, GAINS, {"policies": _dump(pick.chosen + [policy])})
    change = row["p95_change_pct"] = max((float(r["p95_change_pct"]) for r in result.rows), default=0.0)
    limit = pick.args.max_p95_latency_increase_pct
    return "" if change <= limit + EPS else f"a feature's p95 latency would change by {change:+.1f}% > +{limit:g}%"


SCREEN: tuple[Step, ...] = (_quality, _async, _alone)
GREEDY: tuple[Step, ...] = (_conflict, _joint, _latency)


def _passes(steps: tuple[Step, ...], pick: _Pick, policy: Policy, row: Row) -> bool:
    """Run `steps` in order until one rejects the policy (its reason goes in the row)."""
    for step in steps:
        row["reason"] = step(pick, policy, row)
        if row["reason"]:
            return False
    return True


def _accept(pick: _Pick, policy: Policy, row: Row) -> None:
    """Add the policy to the chosen set and mark its row."""
    reason = f"adds {row['marginal_monthly_saving_usd']:.2f} USD/month to the set" + _interplay(pick, policy)
    pick.chosen.append(policy)
    pick.saving, pick.p95 = row.pop("joint"), row.get("p95_change_pct") or 0.0  # the set as it now stands
    row.update(decision="chosen", reason=reason, rank=len(pick.chosen))


def _row(policy: Policy) -> Row:
    """Return a policy's row before it is judged."""
    return {**policy.model_dump(include={"policy_id", "kind", "feature", "model"}), "decision": "rejected",
            "reason": "", "rank": None, "expected_quality_drop": None, "quality_basis": "",
            "standalone_monthly_saving_usd": None, "marginal_monthly_saving_usd": None, "p95_change_pct": None,
            "policy": policy.model_dump(mode="json")}


def _choose(pick: _Pick, policies: list[Policy]) -> list[Row]:
    """Screen every policy, then add the survivors greedily, largest standalone saving first."""
    rows = [_row(p) for p in policies]
    alive = [(p, r) for p, r in zip(policies, rows) if _passes(SCREEN, pick, p, r)]
    for policy, row in sorted(alive, key=lambda a: (-a[1]["standalone_monthly_saving_usd"], a[0].policy_id)):
        if _passes(GREEDY, pick, policy, row):
            _accept(pick, policy, row)
        row.pop("joint", None)
    return sorted(rows, key=lambda r: (r["rank"] is None, r["rank"] or 0, r["policy_id"]))


def _unique(pick: _Pick, policies: list[Policy]) -> list[Policy]:
    """Return the policies with repeated policy_ids dropped (the first kept; noted)."""
    kept = unique_ids(policies)
    if len(kept) < len(policies):
        pick.notes.append(f"{len(policies) - len(kept)} repeated policy_ids ignored")
    return kept


def _candidates(pick: _Pick) -> list[Policy]:
    """Return the given policies, or policy_proposer's (its notes kept)."""
    if pick.args.policies is not None:
        return _unique(pick, pick.args.policies)
    extra = {"min_monthly_saving_usd": pick.args.min_monthly_saving_usd, "kinds": pick.args.kinds}
    result = _call(pick, PROPOSER, {k: v for k, v in extra.items() if v is not None})
    pick.notes += [f"{PROPOSER}: {n}" for n in result.notes]
    return _unique(pick, [Policy.model_validate(r) for r in result.rows])


def _values(pick: _Pick, rows: list[Row], baseline: float) -> dict[str, float]:
    """Return the figure values of a finished choice."""
    alone = sum(r["standalone_monthly_saving_usd"] for r in rows if r["decision"] == "chosen")
    return {"candidate_policies": len(rows), "chosen_policies": len(pick.chosen),
            "rejected_policies": len(rows) - len(pick.chosen), "baseline_monthly_cost_usd": baseline,
            "combined_monthly_saving_usd": pick.saving, "combined_saving_pct": 100 * ratio(pick.saving, baseline),
            "standalone_sum_monthly_saving_usd": alone, "overlap_monthly_usd": alone - pick.saving,
            "max_p95_change_pct": pick.p95}


@apex_tool(TOOL, "Choose the best non-conflicting set of proposed policies within a quality budget and a p95 "
                 "latency limit, pricing the set jointly (no dollar counted twice); chosen and rejected "
                 "policies with reasons.", OptimalArgs, family="optimization")
def optimal_policy_proposer(ctx: ToolContext, args: OptimalArgs) -> ToolResult:
    """Choose the policies to apply together (module docstring).

    Args:
        ctx: The analytics store and price catalog.
        args: The scope, optional policies, the quality budget, the latency limit and async permission.

    Returns:
        One row per policy considered: chosen ones first in the order they joined, then rejected ones.
    """
    q = Queries(ctx.store)
    if not q.one(COUNT_SQL, args)["n"]:
        return empty(TOOL, FIGURES, q)
    pick = _Pick(ctx, args, scope_of(args).model_dump(mode="json", exclude_none=True))
    candidates = _candidates(pick)
    _prepare(pick, q, candidates)
    return _finish(pick, q, _choose(pick, candidates))


def _prepare(pick: _Pick, q: Queries, candidates: list[Policy]) -> None:
    """Read the candidates' quality evidence and their events (one joint simulator for every candidate)."""
    pick.quality = route_evidence(q, scope_of(pick.args), candidates, pick.args.quality_budget, pick.args.category)
    pick.sim = JointSimulator(pick.ctx, pick.args, candidates, q)


def _finish(pick: _Pick, q: Queries, rows: list[Row]) -> ToolResult:
    """Build the result: figures, rows, every query run (here and in the nested tools), notes."""
    baseline = monthly(pick.sim.baseline_window, pick.sim.days)
    q.evidence += [e for e in pick.evidence if e not in q.evidence]
    notes = pick.notes + ([] if rows else ["no policies to choose from"])
    if GAINS not in ToolRegistry().names():
        notes.append(f"{GAINS} is not available: latency judged from latency_impact only")
    return finish(TOOL, FIGURES, _values(pick, rows, baseline), rows, q, notes)


def optimal_set(ctx: ToolContext, scope: Scope, **extra: Any) -> tuple[list[Policy], ToolResult]:
    """Run `optimal_policy_proposer` in-process on `scope`; return its chosen policies and its result."""
    args = scope_of(scope).model_dump(mode="json", exclude_none=True) | extra
    result = ToolDispatcher(ctx).run(TOOL, args)
    return [Policy.model_validate(r["policy"]) for r in result.rows if r["decision"] == "chosen"], result
