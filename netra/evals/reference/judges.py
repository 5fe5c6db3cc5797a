"""The reference's rule per policy kind: when it supports a policy, and its own best parameters.

    JUDGES["batch_api"].opportunity(truth, "nightly_export", "gpt-4.1")   # Opportunity(...)
    JUDGES["route_model"].verdict(truth, policy, "unknown")                # Verdict(...)

| kind | supported when |
|---|---|
| `prompt_cache` | the cache replay saves money for the (feature, model) under its best TTL option |
| `route_model` | the target costs less, and the team's scores show no drop beyond the quality budget on it, or, not measured on both models, the recommendation says its quality risk is `unknown` (shadow-test first) |
| `cap_max_tokens` | some output reached its `max_tokens`, and the cap saves money |
| `batch_api` | a positive signal says the requests can wait (`batch_evidence`), and batch prices save money |
| `retry_budget` | billed retried failures exist, and the budget saves money |

The reference's own parameters: the best TTL option; the cheapest scored model that keeps
quality; a cap at the longest output that finished with `stop` (no finished answer is cut); no
retry of a failed attempt (what the billed retried failures cost).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Protocol, Sequence

from netra.evals.reference.joint import PolicyKind, PolicySpec
from netra.evals.reference.quality import QUALITY_BUDGET
from netra.evals.reference.retries import retried
from netra.evals.reference.verdicts import Opportunity, Verdict

if TYPE_CHECKING:
    from netra.evals.reference.truth import ScopeTruth


def usd(monthly: float) -> str:
    """Return a monthly amount in words."""
    return f"${monthly:,.2f}/month"


class Judge(Protocol):
    """The reference's rule for one policy kind."""

    def opportunity(self, truth: ScopeTruth, feature: str, model: str) -> Opportunity:
        """Return the kind's opportunity on a pair, with the reference's own parameters."""

    def verdict(self, truth: ScopeTruth, policy: PolicySpec, risk: str) -> Verdict:
        """Return whether the reference supports a recommended policy with its parameters."""


UNHASHED = "no prefix hashes are logged: there is no prompt to replay"


class CacheJudge:
    """`prompt_cache`: the replay saves money under the best TTL option."""

    choices = ("5m", "1h")

    def opportunity(self, truth: ScopeTruth, feature: str, model: str) -> Opportunity:
        """Return the best TTL option of the pair and what it saves (nothing to replay without prefix hashes)."""
        if not any(e.get("prefix_hashes") for e in truth.pair_events(feature, model)):
            return Opportunity(PolicySpec.of("prompt_cache", feature, model), Verdict(False, UNHASHED), 0.0)
        options = {c: truth.monthly(PolicySpec.of("prompt_cache", feature, model, ttl_option=c)) for c in self.choices}
        best = max(options, key=options.__getitem__)
        return Opportunity(PolicySpec.of("prompt_cache", feature, model, ttl_option=best),
                           self.judged(best, options[best]), options[best])

    @staticmethod
    def judged(choice: str, saving: float) -> Verdict:
        """Return the verdict of the best option's saving."""
        if saving > 0:
            return Verdict(True, f"the replay saves {usd(saving)} with the {choice} TTL")
        if saving < 0:
            return Verdict(False, f"caching costs more: the best TTL ({choice}) loses {usd(-saving)}")
        return Verdict(False, "caching changes nothing: no prefix of the provider's minimum is shared within the "
                              "model, the model has no caching rule, or the requests already read what it would")

    def verdict(self, truth: ScopeTruth, policy: PolicySpec, risk: str) -> Verdict:
        """Return the pair's verdict: supported whatever TTL the recommendation chose."""
        return truth.opportunity("prompt_cache", policy.feature, policy.model).verdict


class RouteJudge:
    """`route_model`: cheaper, and quality kept by the team's scores or honestly marked unknown."""

    @staticmethod
    def route(feature: str, model: str, target: str | None) -> PolicySpec:
        """Return the route of a pair to `target`."""
        return PolicySpec.of("route_model", feature, model, target_model=target)

    def opportunity(self, truth: ScopeTruth, feature: str, model: str) -> Opportunity:
        """Return the cheapest scored model that keeps quality, if it saves money."""
        kept = [t for t in truth.quality.scored_models(feature, model) if self.keeps(truth, feature, model, t)]
        saving, target = max(((truth.monthly(self.route(feature, model, t)), t) for t in kept), default=(0.0, None))
        if saving <= 0:
            return Opportunity(self.route(feature, model, None), Verdict(False, self.no_route(kept)), 0.0)
        return Opportunity(self.route(feature, model, target), Verdict(True, f"`{target}` keeps quality and saves "
                                                                            f"{usd(saving)}"), saving)

    @staticmethod
    def keeps(truth: ScopeTruth, feature: str, model: str, target: str) -> bool:
        """Return whether the team's scores show no drop beyond the budget on `target`."""
        drop = truth.quality.drop(feature, model, target)
        return drop is not None and drop <= QUALITY_BUDGET

    @staticmethod
    def no_route(kept: Sequence[str]) -> str:
        """Return why no route is expected."""
        if kept:
            return "no model that keeps quality costs less"
        return "no other model is scored on the feature within the quality budget: a route is unproven"

    def verdict(self, truth: ScopeTruth, policy: PolicySpec, risk: str) -> Verdict:
        """Return whether the recommended target saves money and keeps (or honestly leaves unknown) quality."""
        target = str(policy.param("target_model"))
        if truth.monthly(policy) <= 0:
            return Verdict(False, f"routing to `{target}` saves nothing")
        return self.quality_verdict(truth.quality.drop(policy.feature, policy.model, target), target, risk)

    @staticmethod
    def quality_verdict(drop: float | None, target: str, risk: str) -> Verdict:
        """Return the verdict of the measured drop, or of the stated risk when nothing is measured."""
        if drop is None:
            return Verdict(risk == "unknown", f"quality on `{target}` is not measured: supported only as "
                                              f"'shadow-test first' (risk `unknown`); this one says `{risk}`")
        return Verdict(drop <= QUALITY_BUDGET, f"the team's scores drop {drop:.3f} on `{target}` "
                                               f"(budget {QUALITY_BUDGET})")


def reached_cap(event: Mapping) -> bool:
    """Return whether an output reached the request's `max_tokens`."""
    limit = int(event.get("max_tokens") or 0)
    return limit > 0 and int(event.get("output_tokens") or 0) >= limit


def natural_cap(events: Sequence[Mapping]) -> int | None:
    """Return the longest output that finished with `stop` on a request that sets `max_tokens`."""
    finished = [int(e.get("output_tokens") or 0) for e in events
                if e.get("finish_reason") == "stop" and int(e.get("max_tokens") or 0) > 0]
    return max(finished, default=None)


class CapJudge:
    """`cap_max_tokens`: outputs reach the configured limit, and the cap saves money."""

    def opportunity(self, truth: ScopeTruth, feature: str, model: str) -> Opportunity:
        """Return a cap at the longest finished output and what it saves."""
        events = truth.pair_events(feature, model)
        policy = PolicySpec.of("cap_max_tokens", feature, model, cap=natural_cap(events))
        saving = truth.monthly(policy)
        return Opportunity(policy, self.judged(events, saving), saving)

    @staticmethod
    def judged(events: Sequence[Mapping], saving: float) -> Verdict:
        """Return the verdict of a cap's saving on a pair's events."""
        hits = sum(reached_cap(e) for e in events)
        if not hits:
            return Verdict(False, "no output reached its max_tokens")
        return Verdict(saving > 0, f"{hits} outputs reached their max_tokens; the cap saves {usd(saving)}")

    def verdict(self, truth: ScopeTruth, policy: PolicySpec, risk: str) -> Verdict:
        """Return the verdict of the recommended cap."""
        return self.judged(truth.pair_events(policy.feature, policy.model), truth.monthly(policy))


class BatchJudge:
    """`batch_api`: a positive signal says nobody waits, and batch prices save money."""

    def opportunity(self, truth: ScopeTruth, feature: str, model: str) -> Opportunity:
        """Return the pair's batch opportunity (its saving is computed only with evidence)."""
        policy = PolicySpec.of("batch_api", feature, model)
        signals = truth.batch.signals(feature, truth.pair_events(feature, model))
        saving = truth.monthly(policy) if signals else 0.0
        return Opportunity(policy, self.judged(signals, saving), saving)

    @staticmethod
    def judged(signals: Sequence[str], saving: float) -> Verdict:
        """Return the verdict of the signals found and the saving."""
        if not signals:
            return Verdict(False, "nothing says these requests can wait (no interactive=false or batch_eligible=true "
                                  "attribute, no batched majority, no slow first tokens, no schedule)")
        return Verdict(saving > 0, f"evidence: {', '.join(signals)}; batch prices save {usd(saving)}")

    def verdict(self, truth: ScopeTruth, policy: PolicySpec, risk: str) -> Verdict:
        """Return the pair's verdict."""
        return truth.opportunity("batch_api", policy.feature, policy.model).verdict


class RetryJudge:
    """`retry_budget`: billed retried failures exist, and the budget saves money."""

    def opportunity(self, truth: ScopeTruth, feature: str, model: str) -> Opportunity:
        """Return what the billed retried failures of the pair cost (no retry at all)."""
        policy = PolicySpec.of("retry_budget", feature, model, max_retries=0)
        failures = len(retried(truth.pair_events(feature, model)))
        saving = truth.monthly(policy) if failures else 0.0
        return Opportunity(policy, self.judged(failures, saving), saving)

    @staticmethod
    def judged(failures: int, saving: float) -> Verdict:
        """Return the verdict of the billed retried failures and the budget's saving."""
        if not failures:
            return Verdict(False, "no retried failure was billed (a refused attempt costs nothing)")
        return Verdict(saving > 0, f"{failures} billed retried failures; the budget saves {usd(saving)}")

    def verdict(self, truth: ScopeTruth, policy: PolicySpec, risk: str) -> Verdict:
        """Return the verdict of the recommended budget."""
        failures = len(retried(truth.pair_events(policy.feature, policy.model)))
        return self.judged(failures, truth.monthly(policy))


JUDGES: dict[PolicyKind, Judge] = {"prompt_cache": CacheJudge(), "route_model": RouteJudge(),
                                   "cap_max_tokens": CapJudge(), "batch_api": BatchJudge(),
                                   "retry_budget": RetryJudge()}
