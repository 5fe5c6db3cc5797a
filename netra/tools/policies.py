"""Apex tools (policies): turn finder findings into policies, and simulate a set of policies.

`policy_proposer` runs the opportunity finders in-process and keeps every flagged finding
worth at least a minimum monthly saving as a `Policy`. `policy_simulator` applies the policies
to the scoped events with the joint simulator (`_joint`): together, kind by kind in one order,
each re-priced event's cost drop attributed to the policy whose step changed it, so the
attributions add up to the joint saving; and each policy alone, for its standalone saving. It
also gives each policy's effect alone -- cost, p50/p95 latency, expected quality drop -- and
bootstrap intervals of the monthly savings over the days of the events (`_policy_effects`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from pydantic import Field

from netra.errors import ToolNotFoundError
from netra.tools._joint import JointSimulator, Outcome, Savings, unique_ids
from netra.tools._policy_effects import effects
from netra.tools._sql import Queries, ratio
from netra.tools.base import Figure, ToolContext, ToolResult
from netra.tools.findings import Finding, Policy, PolicyKind
from netra.tools.dispatcher import ToolDispatcher
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, fig, monthly

PROPOSER = "policy_proposer"
SIMULATOR = "policy_simulator"
__all__ = ["FINDERS", "PROPOSER", "SIMULATOR", "describe", "policy_proposer", "policy_simulator", "to_policy"]

# policy kind -> the finder tool that proposes it
FINDERS: dict[str, str] = {
    "route_model": "model_routing_recommender",
    "prompt_cache": "prompt_cache_savings_calculator",
    "cap_max_tokens": "max_tokens_optimizer",
    "batch_api": "batch_opportunity_finder",
    "retry_budget": "retry_waste_analyzer",
}

# policy kind -> one-line imperative description ({feature}, {model} and the finding's params)
TEMPLATES: dict[str, str] = {
    "route_model": "Route {feature} requests from {model} to {target_model}.",
    "prompt_cache": "Enable prompt caching for the shared prompt prefix of {feature} on {model} "
                    "({ttl_option} TTL, the cheapest option of the exact replay).",
    "cap_max_tokens": "Cap max_tokens of {feature} on {model} at {cap}.",
    "batch_api": "Send {feature} requests on {model} through the Batch API.",
    "retry_budget": "Give {feature} on {model} a retry budget of {max_retries} and back off ({backoff}).",
}

# simulator figure -> (unit, label)
SIM_FIGURES: dict[str, tuple[str, str]] = {
    "baseline_window_cost_usd": ("USD", "scoped cost over the window"),
    "baseline_monthly_cost_usd": ("USD/month", "scoped cost per 30-day month"),
    "combined_monthly_saving_usd": ("USD/month", "joint saving: the policies applied to each event together"),
    "combined_window_saving_usd": ("USD", "joint saving over the window"),
    "window_days": ("days", "days of the window the saving was measured over"),
    "combined_saving_pct": ("%", "joint saving, percent of baseline monthly cost"),
}


class _Params(dict):
    """Template values; a parameter the finding lacks reads as a neutral phrase."""

    def __missing__(self, key: str) -> str:
        return "the recommended value"


class _Run(NamedTuple):
    """One finder run: its name, the call id the dispatcher would give it, and its result."""

    name: str
    call_id: str
    result: ToolResult


class ProposerArgs(Scope):
    """Arguments of `policy_proposer`."""

    min_monthly_saving_usd: float = Field(1.0, ge=0, description="drop findings saving less per month")
    kinds: list[PolicyKind] | None = Field(None, description="only these policy kinds (default: all)")


class SimulatorArgs(Scope):
    """Arguments of `policy_simulator`."""

    policies: list[Policy] = Field(description="the policies to apply together")
    target_saving_pct: float | None = Field(None, ge=0, le=100,
                                            description="saving target, percent of baseline monthly cost")
    bootstrap_samples: int = Field(500, ge=0, le=100_000,
                                   description="bootstrap resamples for the saving intervals (0: no intervals)")


# ---------------------------------------------------------------- proposer


def _scope(args: Scope) -> dict[str, Any]:
    """Return only the scope fields of `args`."""
    return {name: getattr(args, name) for name in Scope.model_fields}


def _finder_names(kinds: list[str] | None) -> list[str]:
    """Return the finders to run for `kinds` (all when None), in `FINDERS` order."""
    return [name for kind, name in FINDERS.items() if kinds is None or kind in kinds]


def _run(ctx: ToolContext, name: str, scope: dict[str, Any]) -> _Run | str:
    """Run finder `name` in-process on `scope`; return the run, or a note if it is not registered."""
    try:
        result = ToolDispatcher(ctx).run(name, scope)  # shares the context's cache
    except ToolNotFoundError:
        return f"finder {name} is not available; its policies were not proposed"
    return _Run(name, result.call_id, result)


def describe(finding: Finding) -> str:
    """Return the one-line imperative description of the policy a finding proposes."""
    values = _Params({**finding.params, "feature": finding.feature, "model": finding.model})
    return TEMPLATES[finding.kind].format_map(values)


def to_policy(finding: Finding, run_name: str, run_call_id: str) -> Policy:
    """Convert a flagged finding into a `Policy` that remembers which call found it."""
    shared = finding.model_dump(include=set(Policy.model_fields))
    return Policy(policy_id=f"{finding.kind}:{finding.feature}:{finding.model}", source_tool=run_name,
                  source_call_id=run_call_id, description=describe(finding), **shared)


def _is_finding(row: dict[str, Any]) -> bool:
    """Return whether a finder row is a `Finding` (finders may add other small tables)."""
    return "table" not in row and row.get("kind") in FINDERS and "flagged" in row


def _policies(run: _Run, minimum: float) -> list[Policy]:
    """Return the policies of one finder run's flagged findings worth at least `minimum` a month."""
    findings = [Finding.model_validate(row) for row in run.result.rows if _is_finding(row)]
    kept = [f for f in findings if f.flagged and f.monthly_saving_usd >= minimum]
    return [to_policy(f, run.name, run.call_id) for f in kept]


def _proposal_figures(policies: list[Policy]) -> dict[str, Figure]:
    """Return the proposer's figures."""
    total = sum(p.monthly_saving_usd for p in policies)
    return {"policies": fig(len(policies), "policies", "policies proposed"),
            "proposed_monthly_saving_usd": fig(total, "USD/month", "simple sum of the policies' standalone "
                                               "monthly savings (policies on one feature may overlap)")}


def _run_notes(runs: list[_Run | str]) -> list[str]:
    """Return unavailable-finder notes and each finder's own notes, prefixed with its name."""
    notes: list[str] = []
    for run in runs:
        notes += [run] if isinstance(run, str) else [f"{run.name}: {n}" for n in run.result.notes]
    return notes


@apex_tool(PROPOSER, "Run the opportunity finders and turn every flagged finding worth at least a minimum "
                     "monthly saving into a policy, largest saving first.", ProposerArgs, family="optimization")
def policy_proposer(ctx: ToolContext, args: ProposerArgs) -> ToolResult:
    """Propose policies from the finders' flagged findings.

    Args:
        ctx: The analytics store and price catalog.
        args: The scope, the minimum monthly saving and the policy kinds to consider.

    Returns:
        One row per policy (a `Policy` dump), sorted by monthly saving, largest first.
    """
    runs = [_run(ctx, name, _scope(args)) for name in _finder_names(args.kinds)]
    done = [r for r in runs if isinstance(r, _Run)]
    found = [p for r in done for p in _policies(r, args.min_monthly_saving_usd)]
    policies = sorted(found, key=lambda p: (-p.monthly_saving_usd, p.policy_id))
    return ToolResult(tool=PROPOSER, figures=_proposal_figures(policies), rows=[p.model_dump() for p in policies],
                      evidence=[e for r in done for e in r.result.evidence], notes=_run_notes(runs))


# ---------------------------------------------------------------- simulator


@dataclass(frozen=True)
class SimulatedMonth:
    """The joint simulation turned into monthly amounts: the rows and figures the simulator reports."""

    saving: Savings

    @property
    def base_monthly(self) -> float:
        """Return the baseline cost per month."""
        return monthly(self.saving.baseline, self.saving.days)

    @property
    def saved_monthly(self) -> float:
        """Return the combined saving per month."""
        return monthly(self.saving.joint.saving, self.saving.days)

    def rows(self) -> list[dict[str, Any]]:
        """Return one row per policy, sorted by attributed saving (largest first) with its rank from 1."""
        rows = [self.row(policy, alone) for policy, alone in zip(self.saving.policies, self.saving.alone)]
        ordered = sorted(rows, key=lambda r: (-r["attributed_monthly_saving_usd"], r["policy_id"]))
        return [{**row, "rank": i} for i, row in enumerate(ordered, start=1)]

    def row(self, policy: Policy, alone: Outcome) -> dict[str, Any]:
        """Return the row of one policy (monthly amounts; rank filled in by `rows`)."""
        attributed, days = monthly(self.saving.attributed(policy), self.saving.days), self.saving.days
        return {"policy_id": policy.policy_id, "kind": policy.kind, "feature": policy.feature, "model": policy.model,
                "standalone_monthly_saving_usd": monthly(alone.saving, days),
                "attributed_monthly_saving_usd": attributed, "pct_of_baseline": 100 * ratio(attributed, self.base_monthly),
                "quality_risk": policy.quality_risk, "latency_impact": policy.latency_impact,
                "confidence": policy.confidence, "applied": alone.applied, "skipped_because": alone.skipped_because}

    def figures(self, target: float | None) -> dict[str, Figure]:
        """Return the simulator's figures (target figures only when a target is given)."""
        base_monthly, saved_monthly = self.base_monthly, self.saved_monthly
        values = {"baseline_window_cost_usd": self.saving.baseline, "baseline_monthly_cost_usd": base_monthly,
                  "combined_monthly_saving_usd": saved_monthly, "combined_saving_pct": self.pct,
                  "combined_window_saving_usd": self.saving.joint.saving, "window_days": self.saving.days}
        figures = {name: fig(value, *SIM_FIGURES[name]) for name, value in values.items()}
        return figures | ({} if target is None else self.target_figures(target))

    @property
    def pct(self) -> float:
        """Return the combined saving as a percent of the baseline."""
        return 100 * ratio(self.saved_monthly, self.base_monthly)

    def target_figures(self, target: float) -> dict[str, Figure]:
        """Return the target figures: the target, whether it is met, and the monthly gap left."""
        met = self.pct + 1e-9 >= target
        gap = 0.0 if met else target / 100 * self.base_monthly - self.saved_monthly
        return {"target_saving_pct": fig(target, "%", "saving target, percent of baseline monthly cost"),
                "meets_target": fig(1 if met else 0, "bool", "1 when the combined saving meets the target"),
                "gap_monthly_usd": fig(gap, "USD/month", "monthly saving still missing to meet the target")}


def _duplicates(given: int, kept: int) -> list[str]:
    """Return the note on repeated policy_ids (none when there were none)."""
    return [f"{given - kept} duplicate policy_ids ignored"] if given > kept else []


@apex_tool(SIMULATOR, "Simulate applying a set of policies together, event by event in one order: the joint "
                      "monthly saving, each policy's attributed share (the shares add up to it) and its "
                      "standalone saving, whether a saving target is met, each policy's cost, latency and "
                      "quality effect alone, and bootstrap intervals of the monthly savings.",
           SimulatorArgs, family="optimization")
def policy_simulator(ctx: ToolContext, args: SimulatorArgs) -> ToolResult:
    """Evaluate a set of policies against the scoped events (module docstring).

    Args:
        ctx: The analytics store and price catalog.
        args: The scope, the policies, an optional saving target (percent) and the bootstrap resamples.

    Returns:
        One row per policy with its standalone and attributed monthly saving, its rank, its cost,
        latency and quality deltas alone and the interval of its monthly saving.
    """
    queries, policies = Queries(ctx.store), unique_ids(args.policies)
    saving = Savings.of(JointSimulator(ctx, args, policies, queries), policies)
    extra, month = effects(ctx, queries, args, saving, args.bootstrap_samples), SimulatedMonth(saving)
    figures = month.figures(args.target_saving_pct) | extra.figures
    notes = _duplicates(len(args.policies), len(policies)) + saving.joint.notes + extra.notes
    return ToolResult(tool=SIMULATOR, figures=figures, rows=extra.merged(month.rows()), evidence=queries.evidence,
                      notes=notes)
