"""Quality: published benchmark priors per model and task category, and the team's own scores.

`data/quality_priors.json` holds, per model and category (`knowledge`, `code`, `reasoning`,
`math`), the figure its vendor published in the model's announcement, scaled to 0..1, with
the benchmark, its setting and the announcement it comes from. A model or category missing
there has no prior: its quality is unknown (never guessed). A model name is matched the way
the price catalog matches names: as given, lower-cased, without a provider prefix, then
without a date suffix, so `openai/gpt-4o-2024-08-06` takes the `gpt-4o` entry.

The team's own `quality_score`s (`observed`) always take precedence over priors. Two priors
are only compared when they report the same benchmark (`prior_drop`). A prior whose source is
missing (no `sources` entry with a URL) is dropped on load: a figure without its source is no prior.

`quality_evidence` judges a route from the current model to a target: measured from the team's
scores on both models (difference of means, 90% Welch interval, computed by ClickHouse over
`COMPARE_SQL`), else the benchmark priors of both models stated as priors, else unknown ("shadow-test
first"). See docs/quality.md.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Literal, Mapping

from netra.persistence.analytics import AnalyticsStore
from netra.tenancy import LOCAL_WORKSPACE
from netra.workloads.catalog import _candidates  # the price catalog's own name fallbacks

PRIORS_FILE = Path(__file__).resolve().with_name("data") / "quality_priors.json"

# the team's mean quality score per (feature, model); `{where}` is a scope's bound-parameter clause
SCORES_SQL = """SELECT feature, model, avg(quality_score) AS mean_score, count() AS scored
FROM workload_events {where}
GROUP BY feature, model ORDER BY feature, model"""
SCORED = "quality_score IS NOT NULL"

_OBSERVED_SQL = """SELECT avg(quality_score) AS mean_score FROM workload_events
WHERE workspace_id = {workspace_id:String} AND feature = {feature:String} AND model = {model:String}
  AND quality_score IS NOT NULL"""


@dataclass(frozen=True)
class QualityPrior:
    """One published figure: the model entry it belongs to, its category and 0..1 score, and its source."""

    model: str
    category: str
    score: float
    benchmark: str
    setting: str
    figure: str
    source: str
    url: str

    def cite(self) -> str:
        """Return a one-line citation: benchmark, figure, setting and publication."""
        return f"{self.benchmark} {self.figure} ({self.setting}; {self.source})"


def _source_text(source: dict) -> str:
    """Return 'Publisher, "Title", date' of a source entry."""
    return f'{source["publisher"]}, "{source["title"]}", {source["date"]}'


def _prior(model: str, category: str, entry: dict, sources: dict) -> QualityPrior:
    """Build one prior from its JSON entry."""
    source = sources[entry["source"]]
    return QualityPrior(model, category, float(entry["score"]), entry["benchmark"], entry["setting"],
                        entry["figure"], _source_text(source), source["url"])


def sourced(entry: dict, sources: dict) -> bool:
    """Return whether a prior names a source that exists and has a URL."""
    return bool(sources.get(entry.get("source", ""), {}).get("url"))


def priors_from(doc: dict) -> dict[str, dict[str, QualityPrior]]:
    """Return {model entry: {category: prior}} of a priors document, leaving out priors without a source."""
    sources = doc["sources"]
    return {model: {cat: _prior(model, cat, entry, sources) for cat, entry in cats.items() if sourced(entry, sources)}
            for model, cats in doc["models"].items()}


@lru_cache(maxsize=1)
def load_priors() -> dict[str, dict[str, QualityPrior]]:
    """Return {model entry: {category: prior}} from the packaged priors file."""
    return priors_from(json.loads(PRIORS_FILE.read_text()))


def prior_key(model: str) -> str | None:
    """Return the priors entry `model` matches (the catalog's name fallbacks, in order), or None."""
    priors = load_priors()
    return next((name for name in _candidates(model) if name in priors), None)


def priors_for(model: str) -> dict[str, QualityPrior]:
    """Return every category's prior of `model` (empty when it has none)."""
    key = prior_key(model)
    return dict(load_priors()[key]) if key else {}


def prior(model: str, category: str) -> QualityPrior | None:
    """Return the prior of `model` for `category`, or None when unknown."""
    return priors_for(model).get(category)


def prior_drop(source: str, target: str, category: str) -> tuple[float, str] | None:
    """Return (max(source − target score, 0), basis) when both priors exist on the same benchmark."""
    old, new = prior(source, category), prior(target, category)
    if old is None or new is None or old.benchmark != new.benchmark:
        return None
    return max(old.score - new.score, 0.0), f"benchmark prior ({category}): {old.cite()} -> {new.cite()}"


def observed(store: AnalyticsStore, feature: str, model: str, workspace_id: str = LOCAL_WORKSPACE) -> float | None:
    """Return the mean `quality_score` of the workspace's feature events on `model`, or None when none is scored."""
    value = store.scalar(_OBSERVED_SQL, {"feature": feature, "model": model, "workspace_id": workspace_id})
    return None if value is None else float(value)


# ---------------------------------------------------------------- evidence for a route

Basis = Literal["measured", "prior", "unknown"]
Risk = Literal["low", "medium", "high", "unknown"]
MIN_SCORED = 2  # a sample variance, and so an interval, needs two scores on each model

# One feature's scores on the current and the target model (the scope's WHERE plus `COMPARED`):
# counts, means, Welch's 90% interval of mean(current) - mean(target) (the drop), and Welch's test of
# the drop against the budget (the target's scores shifted up by `q_budget`). ClickHouse `welchTTest`.
COMPARE_SQL = """SELECT countIf(model = {q_current:String}) AS n_current,
    countIf(model = {q_target:String}) AS n_target,
    avgIf(quality_score, model = {q_current:String}) AS mean_current,
    avgIf(quality_score, model = {q_target:String}) AS mean_target,
    welchTTest(0.9)(quality_score, toUInt8(model = {q_target:String})) AS welch,
    welchTTest(quality_score + if(model = {q_target:String}, {q_budget:Float64}, 0),
               toUInt8(model = {q_target:String})) AS shifted
FROM workload_events {where}"""
COMPARED = ("feature = {q_feature:String} AND model IN ({q_current:String}, {q_target:String}) "
            "AND quality_score IS NOT NULL")


def _number(value: Any) -> float:
    """Return `value` as a float, NaN when it is missing."""
    return math.nan if value is None else float(value)


@dataclass(frozen=True)
class Comparison:
    """The team's scores of one feature on the current and the target model (one `COMPARE_SQL` row)."""

    n_current: int
    n_target: int
    mean_current: float
    mean_target: float
    welch: Mapping[str, Any]  # the 90% interval of the drop (NaN when neither side varies)
    shifted: Mapping[str, Any]  # Welch's test of drop = budget

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Comparison:
        """Read a `COMPARE_SQL` row."""
        return cls(int(row["n_current"]), int(row["n_target"]), _number(row["mean_current"]),
                   _number(row["mean_target"]), row.get("welch") or {}, row.get("shifted") or {})

    @property
    def measured(self) -> bool:
        """Whether both models have enough scores for an interval."""
        return min(self.n_current, self.n_target) >= MIN_SCORED

    def interval(self) -> tuple[float, float]:
        """Return the 90% interval of mean(target) - mean(current); the point itself when neither side varies."""
        low, high = (_number(self.welch.get(f"confidence_interval_{end}")) for end in ("low", "high"))
        delta = self.mean_target - self.mean_current
        return (delta, delta) if math.isnan(low) else (-high, -low)

    def within(self, budget: float) -> float:
        """Return P(true drop <= budget) under Welch's t with a flat prior on the difference of means."""
        drop, p = self.mean_current - self.mean_target, _number(self.shifted.get("p_value"))
        inside = drop <= budget + 1e-12
        if math.isnan(p):
            return 1.0 if inside else 0.0
        return 1 - p / 2 if inside else p / 2


@dataclass(frozen=True)
class QualityEvidence:
    """What is known of a route's quality: its basis, the change of the mean score and where it comes from.

    `delta` is mean(target) - mean(current) (negative: a drop); `interval` its 90% interval (measured
    only); `within` the probability that the drop is within the budget (measured only, else 0).
    """

    basis: Basis
    delta: float | None
    interval: tuple[float, float] | None
    n_current: int
    n_target: int
    source: str
    within: float = 0.0

    @property
    def drop(self) -> float | None:
        """Return the expected drop, max(-delta, 0), or None when unknown."""
        return None if self.delta is None else max(-self.delta, 0.0)

    def risk(self, budget: float) -> Risk | None:
        """Return the quality risk of the route under `budget`; None when the measured interval lies beyond it."""
        return _RISK[self.basis](self, budget)


# (test on (smallest drop, largest drop, estimated drop, budget), risk) of a measured route: the first
# passing row decides. None: the whole interval lies beyond the budget, so the data shows the drop.
_MEASURED_RISK: tuple[tuple[Callable[[float, float, float, float], bool], Risk | None], ...] = (
    (lambda least, most, drop, budget: least > budget, None),
    (lambda least, most, drop, budget: most <= budget, "low"),
    (lambda least, most, drop, budget: drop <= budget, "medium"),
    (lambda least, most, drop, budget: True, "high"),
)


def _measured_risk(found: QualityEvidence, budget: float) -> Risk | None:
    """Return the risk of a measured route by `_MEASURED_RISK`."""
    low, high = found.interval
    return next(risk for test, risk in _MEASURED_RISK if test(-high, -low, -found.delta, budget + 1e-12))


_RISK = {"measured": _measured_risk,
         "prior": lambda found, budget: "medium" if found.drop <= budget + 1e-12 else "high",
         "unknown": lambda found, budget: "unknown"}


def quality_evidence(comparison: Comparison | None, current: str, target: str, category: str | None = None,
                     budget: float = 0.0) -> QualityEvidence:
    """Return the evidence on moving a feature from `current` to `target`: measured, else prior, else unknown.

    Args:
        comparison: the team's scores of the feature on both models (`COMPARE_SQL`), or None.
        current: the model the feature runs on.
        target: the model it would move to.
        category: the task category whose benchmark priors may stand in (docs/quality.md), or None.
        budget: the allowed drop of the mean score; sets `within` of a measured comparison.
    """
    counts = (comparison.n_current, comparison.n_target) if comparison else (0, 0)
    if comparison is not None and comparison.measured:
        return _measured(comparison, current, target, budget)
    return _prior_evidence(current, target, category, counts) or _unknown(current, target, category, counts)


def _measured(found: Comparison, current: str, target: str, budget: float) -> QualityEvidence:
    """Return measured evidence from the team's scores on both models."""
    low, high = found.interval()
    source = (f"measured: quality_score {found.mean_current:.4f} on {current} (n={found.n_current}) -> "
              f"{found.mean_target:.4f} on {target} (n={found.n_target}); 90% Welch interval of the change "
              f"{low:+.4f}..{high:+.4f}")
    return QualityEvidence("measured", found.mean_target - found.mean_current, (low, high), found.n_current,
                           found.n_target, source, found.within(budget))


def _prior_evidence(current: str, target: str, category: str | None, counts: tuple[int, int]) -> QualityEvidence | None:
    """Return prior evidence when both models have a prior of `category` on the same benchmark."""
    old, new = (prior(current, category), prior(target, category)) if category else (None, None)
    if old is None or new is None or old.benchmark != new.benchmark:
        return None
    source = f"prior, not a measurement ({category}): {old.cite()} -> {new.cite()}"
    return QualityEvidence("prior", new.score - old.score, None, *counts, source)


def _unknown(current: str, target: str, category: str | None, counts: tuple[int, int]) -> QualityEvidence:
    """Return unknown evidence, saying what is missing."""
    why = f"no {category} prior of both on one benchmark" if category else "no task category for a prior"
    source = (f"unknown: {counts[0]} scored requests on {current} and {counts[1]} on {target} "
              f"({MIN_SCORED} needed on each), {why}: shadow-test first")
    return QualityEvidence("unknown", None, None, *counts, source)


__all__ = ["COMPARED", "COMPARE_SQL", "MIN_SCORED", "PRIORS_FILE", "SCORED", "SCORES_SQL", "Basis", "Comparison",
           "QualityEvidence", "QualityPrior", "Risk", "load_priors", "observed", "prior", "prior_drop", "prior_key",
           "priors_for", "priors_from", "quality_evidence", "sourced"]
