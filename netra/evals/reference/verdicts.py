"""The reference's judgement of a policy: a verdict in words, and an opportunity with its saving.

An opportunity is *supported* when its evidence holds and the reference saving is above 0; it
is *expected* when it is also worth at least `MIN_MONTHLY_SAVING_USD` a month, the smallest
saving the policy proposer turns into a policy (`min_monthly_saving_usd`, default 1.0,
docs/tools.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from netra.evals.reference.joint import PolicySpec

MIN_MONTHLY_SAVING_USD = 1.0


@dataclass(frozen=True)
class Verdict:
    """Whether the reference supports a policy, and why (not), in words."""

    supported: bool
    reason: str


@dataclass(frozen=True)
class Opportunity:
    """A (kind, feature, model) as the reference judges it, with its own parameters and monthly saving."""

    policy: PolicySpec
    verdict: Verdict
    monthly_saving_usd: float

    @property
    def expected(self) -> bool:
        """Return whether a correct run must recommend it: supported and worth the proposer's minimum."""
        return self.verdict.supported and self.monthly_saving_usd >= MIN_MONTHLY_SAVING_USD
