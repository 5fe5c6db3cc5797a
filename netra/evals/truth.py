"""The reference truth of one case: what its scope holds, and a verdict on each recommendation of the run.

    scope = scope_truth(case, events, reference)            # None for a plain question
    check_case(case, scope)                                 # CaseError: the workload does not hold what the case says
    truth = judge_case(scope, state["recommendations"])
    truth.missed(), truth.false_positives(), truth.savings_errors()

A recommendation is a true positive when the reference supports it (`reference.judges`), a
false positive otherwise; a plain question supports none. Its savings error is
|stated − reference| / |reference| (a one-cent floor on the denominator), where the stated saving
is the run's attributed (joint) monthly saving and the reference's is the policy's credit when the
run's recommendations are applied together, with their own parameters, in the documented order
(scaled by 30 / the days the question's window spans).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from netra.evals.dataset import Case
from netra.evals.reference import MIN_MONTHLY_SAVING_USD, ORDER, Opportunity, PolicySpec, ReferenceCatalog, \
    ScopeTruth, Verdict, Window

PARAMS = ("ttl_option", "target_model", "cap", "max_retries")  # the parameters a policy is applied with
QUESTION = "a plain question recommends nothing"
CENT = 0.01  # floor of the savings-error denominator: a true saving of 0 still gives a finite error


class CaseError(Exception):
    """The case's statement does not fit its workload (a finding it names is not there, or one it rules out is)."""


@dataclass(frozen=True)
class Recommendation:
    """A recommendation of the run, as the evaluation reads it."""

    policy: PolicySpec
    quality_risk: str
    stated_monthly_usd: float

    @classmethod
    def of(cls, rec: Mapping[str, Any]) -> Recommendation:
        """Read a state recommendation: its policy, stated risk and attributed (else its own) monthly saving."""
        params = {k: v for k, v in (rec.get("params") or {}).items() if k in PARAMS}
        stated = (rec.get("simulated") or {}).get("attributed_monthly_saving_usd", rec.get("monthly_saving_usd"))
        policy = PolicySpec.of(rec.get("kind", ""), str(rec.get("feature", "")), str(rec.get("model", "")), **params)
        return cls(policy, str(rec.get("quality_risk") or ""), float(stated or 0.0))

    @property
    def label(self) -> str:
        """Return `kind` on `feature` (model), for sentences."""
        return f"`{self.policy.kind}` on `{self.policy.feature}` ({self.policy.model})"


@dataclass(frozen=True)
class Judged:
    """One recommendation with the reference's verdict and saving."""

    recommendation: Recommendation
    verdict: Verdict
    reference_monthly_usd: float | None

    @property
    def error(self) -> float | None:
        """Return the relative savings error of a supported recommendation (None otherwise)."""
        if not self.verdict.supported or self.reference_monthly_usd is None:
            return None
        reference = self.reference_monthly_usd
        return abs(self.recommendation.stated_monthly_usd - reference) / max(abs(reference), CENT)


@dataclass(frozen=True)
class CaseTruth:
    """The opportunities a case's scope holds and its run's recommendations judged."""

    expected: tuple[Opportunity, ...]
    judged: tuple[Judged, ...]
    seconds: float = 0.0  # how long the reference took for this case (0 when its scope's truth was reused)

    def recommended(self) -> set[tuple[str, str, str]]:
        """Return the (kind, feature, model) of every recommendation."""
        return {j.recommendation.policy.key for j in self.judged}

    def missed(self) -> list[Opportunity]:
        """Return the expected opportunities the run did not recommend."""
        return [o for o in self.expected if o.policy.key not in self.recommended()]

    def false_positives(self) -> list[Judged]:
        """Return the recommendations the reference does not support."""
        return [j for j in self.judged if not j.verdict.supported]

    def savings_errors(self) -> list[Judged]:
        """Return the supported recommendations (each has a savings error)."""
        return [j for j in self.judged if j.error is not None]

    def document(self) -> dict[str, list[dict[str, Any]]]:
        """Return the truth as results.json holds it: expected opportunities and judged recommendations."""
        return {"seconds": self.seconds, "expected": [opportunity_row(o) for o in self.expected],
                "recommendations": [judged_row(j) for j in self.judged]}


def _policy_row(policy: PolicySpec) -> dict[str, Any]:
    return {"kind": policy.kind, "feature": policy.feature, "model": policy.model, "params": dict(policy.params)}


def opportunity_row(opportunity: Opportunity) -> dict[str, Any]:
    """Return an expected opportunity as a results row."""
    return {**_policy_row(opportunity.policy), "monthly_saving_usd": opportunity.monthly_saving_usd,
            "reason": opportunity.verdict.reason}


def judged_row(judged: Judged) -> dict[str, Any]:
    """Return a judged recommendation as a results row."""
    rec = judged.recommendation
    return {**_policy_row(rec.policy), "quality_risk": rec.quality_risk, "stated_monthly_usd": rec.stated_monthly_usd,
            "supported": judged.verdict.supported, "reason": judged.verdict.reason,
            "reference_monthly_usd": judged.reference_monthly_usd, "error": judged.error}


def case_window(case: Case, events: Sequence[Mapping]) -> Window:
    """Return the window of the case's scope: its look-back ending at the newest event, and its filters."""
    scope = case.scope
    return Window.last_days(events, scope.days, feature=scope.feature, model=scope.model, user_id=scope.user_id)


def scope_truth(case: Case, events: Sequence[Mapping], reference: ReferenceCatalog) -> ScopeTruth | None:
    """Return the reference's truth of the case's scope (None for a plain question: it recommends nothing)."""
    return None if case.intent == "question" else ScopeTruth(events, case_window(case, events), reference)


def _verdict(truth: ScopeTruth, rec: Recommendation) -> Verdict:
    if rec.policy.kind not in ORDER:
        return Verdict(False, f"`{rec.policy.kind}` is not a policy kind")
    return truth.verdict(rec.policy, rec.quality_risk)


def judge_case(truth: ScopeTruth | None, recs: Sequence[Mapping[str, Any]]) -> CaseTruth:
    """Return the case's expected opportunities and each recommendation judged against the reference."""
    recommendations = [Recommendation.of(r) for r in recs]
    if truth is None:
        return CaseTruth((), tuple(Judged(r, Verdict(False, QUESTION), None) for r in recommendations))
    known = [r for r in recommendations if r.policy.kind in ORDER]
    credits = truth.credits([r.policy for r in known])
    judged = (Judged(r, _verdict(truth, r), credits.get(r.policy.key, 0.0)) for r in recommendations)
    return CaseTruth(tuple(truth.expected()), tuple(judged))


def _named(truth: ScopeTruth, pair: str) -> list[Opportunity]:
    """Return the opportunities of `kind@feature` on every model of the feature in scope."""
    kind, feature = pair.split("@", 1)
    return [truth.opportunity(kind, f, m) for f, m in truth.pairs if f == feature]


def check_case(case: Case, truth: ScopeTruth | None) -> None:
    """Raise `CaseError` unless the scope holds every finding the case names and supports none it rules out."""
    missing = [p for p in case.expected.findings if truth and not any(o.expected for o in _named(truth, p))]
    present = [p for p in case.expected.absent if truth and any(o.verdict.supported for o in _named(truth, p))]
    if missing or present:
        raise CaseError(f"the workload does not hold what case {case.id} states: not expected by the reference "
                        f"{missing}, supported although ruled out {present} (a finding needs at least "
                        f"${MIN_MONTHLY_SAVING_USD:,.2f}/month)")
