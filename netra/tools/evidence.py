"""What evidence each policy kind needs before a finder recommends it, and the confidence it earns.

`EVIDENCE` is the one table of it (docs/tools.md, "Evidence each policy needs", shows the same
rows): per policy kind, the signals that can support it, how each is read from the events, what
to log when it is missing, and where the rule comes from. Absence is never evidence: `ttft_ms` 0,
an empty `session_id` or `thread_id`, a null `quality_score` are missing data. A finder whose
evidence is missing returns an unflagged finding whose reason names what to log (a finding, not a
recommendation); a route with no quality evidence is flagged only as "shadow-test first".

Confidence of a finding (`confidence`) = stability x evidence factor, both in 0..1:

- stability: the share of `SAMPLES` bootstrap resamples of the pair's UTC days (drawn with
  replacement from the fixed seed `_bootstrap.SEED`) in which the saving summed over the drawn days
  stays above 0. It falls when the saving rests on few days or some days lose money; one day of
  data gives one possible resample, so it says nothing about persistence there.
- evidence factor: how much of the change the evidence speaks for; each finder states its own
  (batch: the request-weighted strength of the signals, `_batch_evidence.py`; route: the probability
  that the quality drop is within the budget, 0 when quality is not measured, `routing.py`; prompt
  cache: 1, the exact replay re-prices every eligible request, `prompt_cache.py`; max tokens: 1, each request's
  own tokens above the cap, `max_tokens.py`; retries: 1, the measured waste, `retries.py`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Literal

import numpy as np

from netra.tools._bootstrap import SEED
from netra.tools._sql import Queries
from netra.tools.findings import PolicyKind
from netra.tools.scope import Scope
from netra.workloads.quality import COMPARE_SQL, COMPARED, Comparison, QualityEvidence, quality_evidence

SAMPLES = 1000  # resamples: the standard error of a share estimated from them is at most 0.5/sqrt(1000) = 0.016

# Interactive bound: 10 s is "about the limit for keeping the user's attention focused on the dialogue"
# (J. Nielsen, "Response Times: The 3 Important Limits", NN/g 1993, after Miller 1968 and Card et al. 1991).
INTERACTIVE_BOUND_MS = 10_000
NIELSEN = "https://www.nngroup.com/articles/response-times-3-important-limits/"


@dataclass(frozen=True)
class Signal:
    """One piece of evidence: how it is read from the events, what to log without it, and its source."""

    name: str
    reads: str
    log: str
    source: str


@dataclass(frozen=True)
class Requirement:
    """What a policy kind needs: `any` or `all` of its signals, what happens without them, and who checks."""

    needs: Literal["any", "all"]
    signals: tuple[Signal, ...]
    without: str
    checked_by: str

    def signal(self, name: str) -> Signal:
        """Return the signal called `name`."""
        return next(s for s in self.signals if s.name == name)


DECLARED = Signal(
    "declared", "the request's `attributes` map has `interactive` = `false` or `batch_eligible` = `true` "
    "(values compared lower-cased); the declared requests of a pair must be all its unbatched requests",
    "attributes.interactive=false (or batch_eligible=true) on the requests nobody waits for",
    "the caller's own declaration")
ALREADY_BATCHED = Signal(
    "already_batched", "`is_batch` = 1 on at least half of the feature's requests (the median request "
    "already waits for a batch); factor = that share",
    "is_batch=1 on requests sent through a Batch API", "the caller already accepts a Batch API's completion window")
SLOW_FIRST_TOKEN = Signal(
    "slow_first_token", "`ttft_ms` above 10,000 on at least half of the feature's requests that log a "
    "`ttft_ms` above 0 (the median wait for a first token is beyond the interactive bound); factor = that share",
    "ttft_ms of streamed requests", f"10 s interactive bound: Nielsen, Response Times ({NIELSEN})")
SCHEDULE = Signal(
    "schedule", "none of the feature's requests has a `user_id` while other features' requests do; it fires on "
    "2 or more UTC days, in hours of the day that each recur on 2 or more of them; and on those days the rest of "
    "the workload also runs outside those hours (`_schedule.py`); factor = the share of the rest's requests on "
    "those days that fall outside them",
    "user_id on user-facing requests, and two or more days of traffic",
    "a job started by a clock recurs at the same hours with no end user (stated rule, docs/tools.md)")
QUALITY_SCORES = Signal(
    "quality_scores", "`quality_score` of the feature on both the current and the target model, 2 or more "
    "scored requests on each: difference of means with its 90% Welch interval (`quality.quality_evidence`)",
    "quality_score on a sample of the feature's requests on both models (a shadow run of the target)",
    "the team's own measurement (docs/quality.md)")
BENCHMARK_PRIOR = Signal(
    "benchmark_prior", "both models' published figures for the task `category` on the same benchmark "
    "(`data/quality_priors.json`), stated as a prior", "the task category of the feature (argument `category`)",
    "the vendors' announcements (docs/quality.md)")
PREFIX_HASHES = Signal(
    "prefix_hashes", "`prefix_hashes` (chained prefix block hashes) and `block_size` of billed requests",
    "prefix_hashes and block_size of each prompt", "the exact replay (docs/caching.md)")
MAX_TOKENS_SET = Signal("max_tokens_set", "`max_tokens` above 0", "the max_tokens each request sets",
                        "the cap replaces a configured limit (max_tokens_optimizer)")
FINISH_REASON = Signal("finish_reason", "`finish_reason` `stop` or `length`", "finish_reason of each response",
                       "the cap comes from the outputs that finished with `stop` (max_tokens_optimizer)")
PROMPT_HASH = Signal("prompt_hash", "`prompt_hash` other than 0, grouping the attempts of one prompt",
                     "prompt_hash of each request", "retries are attempts of one prompt (retry_waste_analyzer)")
FAILED_STATUS = Signal("failed_status", "`status` other than `ok` on failed attempts", "status and error_type",
                       "only failed attempts are retried (retry_waste_analyzer)")

# policy kind -> what it needs
EVIDENCE: dict[PolicyKind, Requirement] = {
    "batch_api": Requirement("any", (DECLARED, ALREADY_BATCHED, SLOW_FIRST_TOKEN, SCHEDULE),
                             "unflagged finding whose reason names what to log", "batch_opportunity_finder"),
    "route_model": Requirement("any", (QUALITY_SCORES, BENCHMARK_PRIOR),
                               "flagged only as 'shadow-test first', quality_risk 'unknown', confidence 0",
                               "model_routing_recommender"),
    "prompt_cache": Requirement("all", (PREFIX_HASHES,), "not replayed: no finding, a note",
                                "prompt_cache_savings_calculator"),
    "cap_max_tokens": Requirement("all", (MAX_TOKENS_SET, FINISH_REASON), "the pair is not examined",
                                  "max_tokens_optimizer"),
    "retry_budget": Requirement("all", (PROMPT_HASH, FAILED_STATUS), "no retried failures are counted",
                                "retry_waste_analyzer"),
}


def to_log(kind: PolicyKind, missing: list[str]) -> str:
    """Return what to log to decide a finding of `kind`: the `log` of each missing signal, in table order."""
    return "; ".join(s.log for s in EVIDENCE[kind].signals if s.name in missing)


def stability(per_day: np.ndarray) -> float:
    """Return the share of `SAMPLES` day-resamples whose summed saving stays above 0 (0 with no days)."""
    if not len(per_day):
        return 0.0
    draws = np.random.default_rng(SEED).integers(0, len(per_day), size=(SAMPLES, len(per_day)))
    return float(np.mean(per_day[draws].sum(axis=1) > 0))


def confidence(per_day: np.ndarray, factor: float) -> float:
    """Return stability x evidence factor (module docstring), rounded to 6 places."""
    return round(stability(per_day) * factor, 6)


class DailySavings:
    """What a change saves on each (feature, model), per UTC day: from grouped rows (with `feature`, `model` and
    `day`) and each row's saving."""

    def __init__(self, rows: Iterable[dict[str, Any]], saved: Iterable[float]) -> None:
        self.days: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for row, value in zip(rows, saved):
            self.days[(row["feature"], row["model"])][row["day"]] += float(value)

    def series(self, pair: tuple[str, str]) -> np.ndarray:
        """Return the pair's per-day savings, in day order (empty when it has none)."""
        days = self.days.get(pair, {})
        return np.array([days[d] for d in sorted(days)], dtype=float)


def route_quality(q: Queries, scope: Scope, pair: tuple[str, str, str], category: str | None,
                  budget: float) -> QualityEvidence:
    """Return the quality evidence of routing (feature, model, target): the scope's scores, read without its model."""
    feature, model, target = pair
    params = {"q_feature": feature, "q_current": model, "q_target": target, "q_budget": budget}
    row = q.rows(COMPARE_SQL, scope.model_copy(update={"model": None}), COMPARED, params, kind="route_quality")[0]
    return quality_evidence(Comparison.of(row), model, target, category, budget)


# What a cap of `cap` output tokens cuts in one pair: its requests that set max_tokens and answered
# longer than the cap (the rule of `_joint_steps._over_cap`), but for runaways that already ended at
# their limit ('length'); an answer whose finish is not logged counts as cut (an upper bound)
CUT_SQL = """SELECT count() AS requests,
    countIf(max_tokens > 0 AND output_tokens > {cap:UInt32} AND finish_reason != 'length') AS cut
FROM workload_events {where}"""


@dataclass(frozen=True)
class CapDrop:
    """A cap's expected quality drop, measured: the share of the pair's requests whose answer it cuts."""

    drop: float
    source: str


def cap_drop(q: Queries, scope: Scope, feature: str, model: str, cap: int) -> CapDrop:
    """Return what capping (feature, model) at `cap` output tokens costs in quality, each cut answer counted as lost."""
    row = q.rows(CUT_SQL, scope.model_copy(update={"feature": feature, "model": model}), "", {"cap": cap},
                 kind="cap_cut")[0]
    share = row["cut"] / row["requests"] if row["requests"] else 0.0
    return CapDrop(share, f"measured: the cap of {cap} tokens cuts {row['cut']} of {row['requests']} answers "
                          "(not counting runaways that ended at their limit), each counted as lost")
