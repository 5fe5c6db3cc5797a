"""The evidence that a (feature, model)'s requests can wait for a Batch API (`evidence.EVIDENCE["batch_api"]`).

Per feature (all its models, the scope's window and user filter): the share of its requests
already sent with `is_batch` = 1, the share of its `ttft_ms`-logging requests whose first token
took more than `INTERACTIVE_BOUND_MS`, and the scheduled-job pattern (`_schedule`). A feature-level
signal counts when it describes the median request (its share is at least `MEDIAN`; the schedule
by its own rule), and then covers every request of the feature; its factor is that share (the
schedule's own factor). Per pair: how many unbatched requests declare `interactive=false` or
`batch_eligible=true` in their attributes.

A pair has evidence when a feature-level signal counts, or when every one of its unbatched
requests declares itself. Its evidence factor weighs its unbatched requests: a declared request
counts 1, any other the strongest feature-level factor F:

    E = (declared + (unbatched - declared) x F) / unbatched
"""

from __future__ import annotations

from dataclasses import dataclass

from netra.tools._schedule import Schedule
from netra.tools._sql import ratio
from netra.tools.evidence import INTERACTIVE_BOUND_MS

MEDIAN = 0.5  # a feature-level signal counts when it describes the median request

# a request that declares it needs no immediate answer (its attributes map; values lower-cased), and one
# that says either way
DECLARED_SQL = "(lower(attributes['interactive']) = 'false' OR lower(attributes['batch_eligible']) = 'true')"
LABELLED_SQL = "(mapContains(attributes, 'interactive') OR mapContains(attributes, 'batch_eligible'))"
# per feature, over all its models: requests, already batched, logging a first-token time, and slower than the bound
FEATURES_SQL = """SELECT feature, count() AS requests, countIf(is_batch = 1) AS batched,
    countIf(ttft_ms > 0) AS timed, countIf(ttft_ms > {bound:UInt32}) AS slow
FROM workload_events {where}
GROUP BY feature ORDER BY feature"""
BOUND = {"bound": INTERACTIVE_BOUND_MS}
_HALF = " (half needed)"


@dataclass(frozen=True)
class Check:
    """One signal of a feature or pair: its factor (0 when it does not count) and what was found."""

    name: str
    factor: float
    text: str
    absent: bool = False  # the data that would decide it is not logged


def _counted(name: str, share: float, text: str) -> Check:
    """Return a feature-level check that counts when `share` describes the median request."""
    counts = share >= MEDIAN
    return Check(name, share if counts else 0.0, text.format(share=share) + ("" if counts else _HALF))


def already_batched(stats: dict) -> Check:
    """Return the check of the feature's requests already sent through a Batch API."""
    return _counted("already_batched", ratio(stats["batched"], stats["requests"]),
                    "{share:.0%} of its requests are sent with is_batch=1")


def slow_first_token(stats: dict) -> Check:
    """Return the check of the feature's first-token waits beyond the interactive bound."""
    if not stats["timed"]:
        return Check("slow_first_token", 0.0, "no request logs a ttft_ms (0 is missing data, not evidence)", True)
    return _counted("slow_first_token", ratio(stats["slow"], stats["timed"]),
                    "{share:.0%} of its logged first-token waits exceed 10 s")


def feature_checks(stats: dict, schedule: Schedule) -> tuple[Check, ...]:
    """Return a feature's three feature-level checks, in `EVIDENCE` order."""
    return (already_batched(stats), slow_first_token(stats),
            Check("schedule", schedule.factor, schedule.text, schedule.absent))


@dataclass(frozen=True)
class PairEvidence:
    """A pair's unbatched and declared requests, and its feature's checks."""

    unbatched: int
    declared: int
    labelled: int  # unbatched requests that carry an `interactive` or `batch_eligible` attribute at all
    features: tuple[Check, ...]

    @property
    def strongest(self) -> float:
        """Return the largest feature-level factor (0 when none counts)."""
        return max((c.factor for c in self.features), default=0.0)

    @property
    def found(self) -> bool:
        """Whether the evidence covers every unbatched request of the pair."""
        return self.unbatched > 0 and (self.strongest > 0 or self.declared == self.unbatched)

    @property
    def factor(self) -> float:
        """Return E of the module docstring (0 without evidence)."""
        if not self.found:
            return 0.0
        return (self.declared + (self.unbatched - self.declared) * self.strongest) / self.unbatched

    def checks(self) -> tuple[Check, ...]:
        """Return the pair's declared check, then its feature's checks."""
        return (self._declared(), *self.features)

    def _declared(self) -> Check:
        """Return the check of the pair's declared requests (it counts only when they are all of them)."""
        if self.declared == 0:
            return Check("declared", 0.0, "no request declares interactive=false or batch_eligible=true",
                         self.labelled == 0)
        everyone = self.declared == self.unbatched
        return Check("declared", 1.0 if everyone else 0.0,
                     f"{self.declared} of {self.unbatched} unbatched requests declare interactive=false or "
                     f"batch_eligible=true" + ("" if everyone else " (all needed, or a feature name of their own)"))

    def counting(self) -> list[Check]:
        """Return the checks that count."""
        return [c for c in self.checks() if c.factor > 0]

    def absent(self) -> list[str]:
        """Return the names of the signals whose data is not logged."""
        return [c.name for c in self.checks() if c.absent]
