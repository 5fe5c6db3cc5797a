"""The joint simulator: apply a set of policies to the events they target, in one order, and re-price.

    sim = JointSimulator(ctx, scope, candidates, queries)   # loads the targeted events once
    joint = sim.run(policies)        # together: joint.saving, joint.outcomes[i].saving
    alone = sim.run([policy])        # one policy alone

The policies are applied kind by kind in `ORDER` (prompt cache, route, cap, batch, retries).
At each step every policy of that kind changes the columns of the events of its (feature,
model) as logged (`_joint_steps`), those events are re-priced by the rule of `price_events`
(`_event_frame.Pricer`), and the policy is attributed their cost before its step minus after.
The attributions telescope: they add up to the cost as logged minus the cost under all the
policies, which is the joint saving (`JointResult.saving` is their sum). Nothing is scaled or
compounded: a route then a batch on one feature prices the routed events at the target's batch
prices.

One policy per (kind, feature, model) applies, the first given (repeats are noted). A policy
whose pair has no events in scope, whose model or target the catalog does not know, or whose
parameter is missing is not applied: its row says why and it saves 0.

The scope's cost per feature comes from one grouped query priced by the one pricing function
(`_sql.GroupCosts`); the events come from one more (`_event_frame.load_frame`), and monthly
figures scale the window by 30 / span days (`Queries.span`). Both are loaded once per scope
and data version and shared by the simulators of an analysis (`_joint_data`): the events of a
set of pairs whose pairs were all read before are joined from those loads, without a query;
so are the exact cache replays (`_cache_replay.memo`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Hashable

import numpy as np

from netra.tools._cache_replay import PRICING_EXTRA, CacheReplay, ScopedEvents, scoped_events
from netra.tools._event_frame import Pricer
from netra.tools._joint_data import ScopeCost, Shape, pair_events, shared
from netra.tools._joint_steps import NO_EVENTS, STEPS, UNKNOWN_MODEL, CacheWrites
from netra.tools._sql import Queries
from netra.tools.base import ToolContext
from netra.tools.findings import Policy, PolicyKind
from netra.tools.scope import Scope
from netra.workloads.caching import Choice

ORDER: tuple[PolicyKind, ...] = ("prompt_cache", "route_model", "cap_max_tokens", "batch_api", "retry_budget")


def scope_of(args: Scope) -> Scope:
    """Return only the scope of `args` (a tool's arguments extend it)."""
    return Scope.model_validate(args.model_dump(include=set(Scope.model_fields)))


def first_per(policies: list[Policy], key: Callable[[Policy], Hashable]) -> list[Policy]:
    """Return the first policy of each `key`, in the order given."""
    seen: dict[Hashable, Policy] = {}
    for policy in policies:
        seen.setdefault(key(policy), policy)
    return list(seen.values())


def unique_ids(policies: list[Policy]) -> list[Policy]:
    """Return the policies with repeated policy_ids dropped (the first kept)."""
    return first_per(policies, lambda p: p.policy_id)


@dataclass(frozen=True)
class Outcome:
    """One policy in a simulation: its pair's events, what each saved at its step, why it did not apply."""

    policy: Policy
    rows: np.ndarray
    saved: np.ndarray
    skipped_because: str = ""

    @property
    def applied(self) -> bool:
        """Return whether the policy changed its events (it may still save 0)."""
        return not self.skipped_because

    @property
    def saving(self) -> float:
        """Return the window saving attributed to the policy (USD)."""
        return float(self.saved.sum())


@dataclass(frozen=True)
class JointResult:
    """The outcome of every policy that applied or was tried, in the order applied, and the notes."""

    outcomes: list[Outcome]
    repeats: int = 0
    by_id: dict[str, Outcome] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {o.policy.policy_id: o for o in self.outcomes})

    @property
    def saving(self) -> float:
        """Return the joint window saving: the sum of the attributions."""
        return math.fsum(o.saving for o in self.outcomes)

    def saving_of(self, feature: str) -> float:
        """Return the joint window saving on one feature."""
        return math.fsum(o.saving for o in self.outcomes if o.policy.feature == feature)

    @property
    def notes(self) -> list[str]:
        """Return a note per policy not applied, and one on repeats."""
        skipped = [f"{o.policy.policy_id}: not applied: {o.skipped_because}" for o in self.outcomes if not o.applied]
        return skipped + ([f"{self.repeats} policies repeat a (kind, feature, model); ignored"] if self.repeats else [])


class JointSimulator:
    """The scope's cost and the events of the pairs some policies target, loaded once.

    `run` simulates any subset of those policies (a policy on a pair not loaded finds no events).
    """

    def __init__(self, ctx: ToolContext, scope: Scope, policies: list[Policy], queries: Queries) -> None:
        self.ctx, self.scope, self.queries = ctx, scope_of(scope), queries
        self.cost = shared(ctx, queries, Shape("joint_scope", self.scope, []), lambda: ScopeCost.load(ctx, self.scope))
        pairs = sorted({(p.feature, p.model) for p in policies}) if self.features else []
        loaded = pair_events(ctx, queries, self.scope, pairs)
        self.frame, self.baseline = loaded.frame, loaded.baseline
        self.pricer, self.joins = Pricer(ctx.catalog), {}

    @property
    def features(self) -> dict[str, float]:
        """Return the window cost of each feature in scope (USD)."""
        return self.cost.features

    @property
    def days(self) -> float:
        """Return the days the scope's window spans."""
        return self.cost.days

    @property
    def baseline_window(self) -> float:
        """Return the scope's window cost (USD)."""
        return math.fsum(self.features.values())

    def run(self, policies: list[Policy]) -> JointResult:
        """Apply `policies` together (module docstring) and return each one's outcome."""
        return _Run(self, policies).result()

    @cached_property
    def prefixes(self) -> ScopedEvents:
        """Return the scope's events with prefix hashes (loaded at the first prompt-cache policy).

        With the pricing columns, as `prompt_cache_savings_calculator` loads them: the two share
        one load and its replays (`_cache_replay.memo`).
        """
        return scoped_events(self.ctx, self.scope, self.queries, PRICING_EXTRA)

    def replay(self, choice: Choice) -> CacheReplay:
        """Return the exact prompt-cache replay of the scope under TTL option `choice` (once per choice)."""
        return self.prefixes.replay(choice)

    def cache_writes(self, choice: Choice, policy: Policy, rows: np.ndarray) -> CacheWrites:
        """Return the replay's reads and writes of a pair's events (`rows`) under `choice` (joined once)."""
        key = (choice, policy.feature, policy.model)
        if key not in self.joins:
            self.joins[key] = CacheWrites.joined(self.replay(choice), self.frame, policy, rows)
        return self.joins[key]


@dataclass(frozen=True)
class Savings:
    """The policies (policy_ids unique), each simulated alone, and all simulated together."""

    sim: JointSimulator
    policies: list[Policy]
    alone: list[Outcome]
    joint: JointResult

    @classmethod
    def of(cls, sim: JointSimulator, policies: list[Policy]) -> Savings:
        """Simulate each policy alone and all of them together (one policy alone is the joint run: run once)."""
        runs = [sim.run([p]) for p in policies]
        joint = runs[0] if len(runs) == 1 else sim.run(policies)
        return cls(sim, policies, [run.outcomes[0] for run in runs], joint)

    @property
    def days(self) -> float:
        """Return the days the scope spans."""
        return self.sim.days

    @property
    def baseline(self) -> float:
        """Return the scope's window cost."""
        return self.sim.baseline_window

    def attributed(self, policy: Policy) -> float:
        """Return the window saving the joint simulation attributes to `policy` (0 when it did not apply)."""
        found = self.joint.by_id.get(policy.policy_id)
        return found.saving if found else 0.0

    def per_day(self, outcomes: list[Outcome]) -> np.ndarray:
        """Return the per-day sums of what the outcomes' events saved, over the days those events ran."""
        rows = np.concatenate([o.rows for o in outcomes]) if outcomes else np.zeros(0, np.int64)
        saved = np.concatenate([o.saved for o in outcomes]) if outcomes else np.zeros(0)
        _, day = np.unique(self.sim.frame.day[rows], return_inverse=True)
        return np.bincount(day.reshape(-1), weights=saved)


class _Run:
    """One simulation: the events as the policies change them and the cost of every event."""

    def __init__(self, sim: JointSimulator, policies: list[Policy]) -> None:
        self.sim, self.events, self.cost = sim, sim.frame.events.changed(), sim.baseline.copy()
        self.policies = first_per(policies, lambda p: (p.kind, p.feature, p.model))
        self.repeats = len(policies) - len(self.policies)

    def result(self) -> JointResult:
        """Apply the policies kind by kind in `ORDER` (pairs in name order within a kind)."""
        ordered = sorted(self.policies, key=lambda p: (ORDER.index(p.kind), p.feature, p.model))
        return JointResult([self._apply(p) for p in ordered], self.repeats)

    def _apply(self, policy: Policy) -> Outcome:
        """Change the policy's events, re-price them, and attribute it their cost drop."""
        rows = self.sim.frame.rows_of(policy.feature, policy.model)
        why = self._blocked(policy, rows) or STEPS[policy.kind](self.sim, self.events, policy, rows)
        if why:
            return Outcome(policy, rows, np.zeros(len(rows)), why)
        return Outcome(policy, rows, self._reprice(rows))

    def _blocked(self, policy: Policy, rows: np.ndarray) -> str:
        """Return why no policy can apply to this pair ('' when one can)."""
        if not len(rows):
            return NO_EVENTS
        return UNKNOWN_MODEL if self.sim.ctx.catalog.resolve(policy.model) is None else ""

    def _reprice(self, rows: np.ndarray) -> np.ndarray:
        """Re-price the events at `rows`; return what each saved."""
        after = self.sim.pricer.cost(self.events, rows)
        saved = self.cost[rows] - after
        self.cost[rows] = after
        return saved


__all__ = ["JointResult", "JointSimulator", "ORDER", "Outcome", "Savings", "first_per", "scope_of", "unique_ids"]
