"""Private helpers of `policy_simulator`: the savings it reports, each policy's effect alone, the intervals.

`Savings` (`_joint`) holds the joint simulation of the policies and each one alone. Per policy:
the cost delta (minus its standalone monthly saving); the p50/p95 latency delta of
`performance_gains_simulator` on that one policy (skipped with a note if it fails or leaves no
interactive request) -- run in-process in rounds that hold at most one policy per feature, each
policy's delta read from its feature's row: a policy only changes its own feature's requests, so
that row is what the policy alone gives; the expected quality drop by the rule of
`cost_reduction_quality_preservation` (`expected_drop`); and the 90% bootstrap interval of its
standalone monthly saving, from the per-day sums of what each of its events saved alone
(`_bootstrap.interval`). The combined interval bootstraps the per-day sums of what every event
saved in the joint simulation, so its days add up to `combined_monthly_saving_usd`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netra.tools._bootstrap import interval
from netra.tools._joint import Outcome, Savings, scope_of
from netra.tools._sql import Queries
from netra.tools.base import Figure, ToolContext, ToolResult
from netra.tools.cost_simulation import expected_drop, route_evidence
from netra.tools.dispatcher import ToolDispatcher
from netra.tools.findings import Policy
from netra.tools.performance import GAINS
from netra.tools.scope import Scope, fig, monthly

LATENCY_FIELDS = ("latency_p50_delta_ms", "latency_p95_delta_ms")
INTERVAL_FIELDS = ("saving_low_usd", "saving_high_usd")
NOTE_CHARS = 120  # of a failed gains run's error message kept in the note
# why a feature's gains row (None: no row) gives no latency delta, checked in order
_NO_LATENCY = ((lambda r: not r or not r["requests"], "no requests of its feature in scope"),
               (lambda r: r["async_requests"] >= r["requests"], "all its feature's requests leave the interactive path"))


@dataclass(frozen=True)
class Effects:
    """Extra row fields by policy_id, extra figures and notes."""

    fields: dict[str, dict[str, Any]]
    figures: dict[str, Figure]
    notes: list[str]

    def merged(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Return `rows` with each policy's extra fields appended."""
        return [row | self.fields[row["policy_id"]] for row in rows]


def effects(ctx: ToolContext, q: Queries, scope: Scope, saving: Savings, samples: int) -> Effects:
    """Return each policy's cost, latency and quality deltas and saving interval, and the combined interval.

    Args:
        ctx: the context the gains simulator runs in (its queries join `q`'s evidence).
        q: the simulator's recorder.
        scope: the events to read (a tool's arguments; only their scope is used).
        saving: the policies, simulated alone and together.
        samples: bootstrap resamples (0: no intervals, no interval figures).
    """
    scope = scope_of(scope)
    quality = _quality(q, scope, saving.policies)
    latency = _Latency(ctx, q, scope).of(saving.policies)
    bounds, figures, notes = Intervals(saving, samples).all()
    fields = {p.policy_id: {"cost_delta_monthly_usd": -monthly(o.saving, saving.days), **latency.fields[p.policy_id],
                            **quality[p.policy_id], **bound} for p, o, bound in zip(saving.policies, saving.alone, bounds)}
    return Effects(fields, figures, latency.notes + notes)


def _quality(q: Queries, scope: Scope, policies: list[Policy]) -> dict[str, dict[str, Any]]:
    """Return each policy's expected quality drop (None: unknown) and its basis, by policy_id."""
    evidence = route_evidence(q, scope, policies, budget=0.0)  # the drop and its source do not depend on a budget
    return {p.policy_id: dict(zip(("quality_drop", "quality_basis"), expected_drop(p, evidence))) for p in policies}


def rounds(policies: list[Policy]) -> list[list[Policy]]:
    """Split the policies into rounds, each holding at most one policy per feature, in order."""
    found: list[list[Policy]] = []
    for policy in policies:
        free = next((r for r in found if all(p.feature != policy.feature for p in r)), None)
        if free is None:
            found.append(free := [])
        free.append(policy)
    return found


class _Latency:
    """Each policy's p50/p95 latency delta alone, from gains runs over rounds of policies on distinct features."""

    def __init__(self, ctx: ToolContext, q: Queries, scope: Scope) -> None:
        self.ctx, self.q, self.scope = ctx, q, scope
        self.fields: dict[str, dict[str, Any]] = {}
        self.notes: list[str] = []

    def of(self, policies: list[Policy]) -> _Latency:
        """Simulate every round; return self holding each policy's fields and the notes."""
        for group in rounds(policies):
            self._round(group)
        return self

    def _round(self, group: list[Policy]) -> None:
        """Run the gains simulator on one round (a failed run only costs its policies their deltas, noted)."""
        try:
            result = ToolDispatcher(self.ctx).run(GAINS, self._args(group))
        except Exception as exc:  # noqa: BLE001 - noted per policy
            self._failed(group, exc)
            return
        self.q.evidence.extend(result.evidence)
        self._read(group, result)

    def _failed(self, group: list[Policy], exc: Exception) -> None:
        """Leave the round's policies without deltas, each with a note naming the error."""
        self.fields.update({p.policy_id: dict.fromkeys(LATENCY_FIELDS) for p in group})
        self.notes += [_failed(p, exc) for p in group]

    def _args(self, group: list[Policy]) -> dict[str, Any]:
        """Return the gains simulator's arguments: the scope and the round's policies."""
        return self.scope.model_dump(mode="json", exclude_none=True) | {
            "policies": [p.model_dump(mode="json") for p in group]}

    def _read(self, group: list[Policy], result: ToolResult) -> None:
        """Take each policy's deltas from its feature's row, and the run's notes."""
        rows = {r["feature"]: r for r in result.rows}
        for policy in group:
            self.fields[policy.policy_id], notes = _deltas(policy, rows.get(policy.feature))
            self.notes += notes
        self.notes += [f"{GAINS}: {n}" for n in result.notes]


def _failed(policy: Policy, exc: Exception) -> str:
    """Return the note of a gains run that failed: the error's type and the start of its message."""
    return f"{policy.policy_id}: latency not simulated: {GAINS} failed ({type(exc).__name__}: {str(exc)[:NOTE_CHARS]})"


def _deltas(policy: Policy, row: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """Return simulated minus baseline p50/p95 of the policy's feature, or None with a note saying why not."""
    why = next((text for skip, text in _NO_LATENCY if skip(row)), "")
    if why:
        return dict.fromkeys(LATENCY_FIELDS), [f"{policy.policy_id}: no latency delta: {why}"]
    return {f"latency_{p}_delta_ms": row[f"simulated_{p}_ms"] - row[f"baseline_{p}_ms"] for p in ("p50", "p95")}, []


@dataclass(frozen=True)
class Intervals:
    """The 90% bootstrap intervals of the savings: each policy's alone, and the combined one."""

    saving: Savings
    samples: int  # bootstrap resamples; 0: no intervals

    def all(self) -> tuple[list[dict[str, Any]], dict[str, Figure], list[str]]:
        """Return each policy's interval fields, the combined interval figures and notes (none when no samples)."""
        if not self.samples:
            return [dict.fromkeys(INTERVAL_FIELDS) for _ in self.saving.policies], {}, []
        notes = [f"{o.policy.policy_id}: no events of {o.policy.feature}/{o.policy.model} in scope; "
                 "no saving interval" for o in self.saving.alone if not len(o.rows)]
        return [self.bounds(o) for o in self.saving.alone], self.combined(), notes

    def bounds(self, alone: Outcome) -> dict[str, Any]:
        """Return one policy's interval fields (None when its pair has no events in scope)."""
        if not len(alone.rows):
            return dict.fromkeys(INTERVAL_FIELDS)
        return dict(zip(INTERVAL_FIELDS, interval(self.saving.per_day([alone]), self.samples, self.saving.days)))

    def combined(self) -> dict[str, Figure]:
        """Return the interval figures of the combined saving (the point itself when no policy has events)."""
        saving = self.saving
        per_day, point = saving.per_day(saving.joint.outcomes), monthly(saving.joint.saving, saving.days)
        low, high = interval(per_day, self.samples, saving.days) if len(per_day) else (point, point)
        what = "percentile of the bootstrapped combined saving"
        return {"combined_saving_low_usd": fig(low, "USD/month", f"5th {what}"),
                "combined_saving_high_usd": fig(high, "USD/month", f"95th {what}")}
