"""What the reference supports in one scope: the opportunities it expects, its verdict on a policy.

    truth = ScopeTruth(events, Window.last_days(events, 7.0, feature="support_bot"), catalog)
    [o.policy for o in truth.expected()]        # what a correct run recommends
    truth.verdict(policy, quality_risk="low")   # Verdict(supported=..., reason=...)
    truth.credits(policies)                     # each policy's monthly credit applied together

Everything is computed per event by the reference (pricing, cache replay, joint savings, batch
evidence, quality scores), never from the generator's rules or the tools. The rule of each kind
is in `judges`; supported and expected are defined in `verdicts`. Amounts are monthly: the
window total × 30 / the days the window spans (`Window.span`: every event of the window, whatever
the filters). Batch evidence reads the feature on every model (and the schedule the whole
window); quality scores read the feature on every model.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property
from typing import Mapping, Sequence

from netra.evals.reference.batch_evidence import BatchEvidence
from netra.evals.reference.judges import JUDGES
from netra.evals.reference.joint import ORDER, JointReplay, PolicySpec
from netra.evals.reference.pricing import ReferenceCatalog
from netra.evals.reference.quality import QualityScores
from netra.evals.reference.verdicts import Opportunity, Verdict
from netra.evals.reference.window import Window, monthly


class ScopeTruth:
    """The reference's view of one scope of a workload: its events, span, savings and evidence."""

    def __init__(self, events: Sequence[Mapping], window: Window, catalog: ReferenceCatalog) -> None:
        self.events, self.window, self.scoped = events, window, window.select(events)
        self.days = window.span(events)
        self.joint = JointReplay(self.scoped, catalog)
        self.savings: dict[PolicySpec, float] = {}
        self.found: dict[tuple[str, str, str], Opportunity] = {}

    @cached_property
    def batch(self) -> BatchEvidence:
        """Return the batch evidence: features on every model in the window and user filter, the whole window."""
        unfiltered = replace(self.window, feature=None, model=None)
        return BatchEvidence(replace(unfiltered, user_id=None).select(self.events), unfiltered.select(self.events))

    @cached_property
    def quality(self) -> QualityScores:
        """Return the team's scores of the scope's features on every model."""
        return QualityScores(replace(self.window, model=None).select(self.events))

    @cached_property
    def pairs(self) -> list[tuple[str, str]]:
        """Return the scope's (feature, model) pairs, sorted."""
        return sorted(self.joint.pairs)

    def pair_events(self, feature: str, model: str) -> list[Mapping]:
        """Return the scoped events of one pair, in replay order."""
        return list(self.joint.pairs.get((feature, model), ()))

    def monthly(self, policy: PolicySpec) -> float:
        """Return what a policy saves a month applied alone (computed once per policy)."""
        if policy not in self.savings:
            self.savings[policy] = monthly(self.joint.alone(policy), self.days)
        return self.savings[policy]

    def opportunity(self, kind: str, feature: str, model: str) -> Opportunity:
        """Return the reference's judgement of one (kind, feature, model) (computed once)."""
        if (kind, feature, model) not in self.found:
            self.found[(kind, feature, model)] = JUDGES[kind].opportunity(self, feature, model)
        return self.found[(kind, feature, model)]

    def opportunities(self) -> list[Opportunity]:
        """Return every (kind, pair) of the scope judged, pairs sorted, kinds in the joint order."""
        return [self.opportunity(kind, *pair) for pair in self.pairs for kind in ORDER]

    def expected(self) -> list[Opportunity]:
        """Return the opportunities a correct run recommends."""
        return [o for o in self.opportunities() if o.expected]

    def verdict(self, policy: PolicySpec, quality_risk: str = "") -> Verdict:
        """Return whether the reference supports a recommended policy, with its own parameters."""
        if (policy.feature, policy.model) not in self.pairs:
            return Verdict(False, f"no event of `{policy.feature}` on `{policy.model}` is in the question's scope")
        return JUDGES[policy.kind].verdict(self, policy, quality_risk)

    def credits(self, policies: Sequence[PolicySpec]) -> dict[tuple[str, str, str], float]:
        """Return each policy's monthly credit when all are applied together (0 when not applied)."""
        return {c.policy.key: monthly(c.window_saving_usd, self.days) for c in self.joint.run(policies)}
