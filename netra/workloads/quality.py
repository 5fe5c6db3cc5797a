"""Quality: published benchmark priors per model and task category, and the team's own scores.

`data/quality_priors.json` holds, per model and category (`knowledge`, `code`, `reasoning`,
`math`), the figure its vendor published in the model's announcement, scaled to 0..1, with
the benchmark, its setting and the announcement it comes from. A model or category missing
there has no prior: its quality is unknown (never guessed). A model name is matched the way
the price catalog matches names: as given, lower-cased, without a provider prefix, then
without a date suffix, so `openai/gpt-4o-2024-08-06` takes the `gpt-4o` entry.

The team's own `quality_score`s (`observed`) always take precedence over priors. Two priors
are only compared when they report the same benchmark (`prior_drop`). See docs/quality.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from netra.persistence.analytics import AnalyticsStore
from netra.workloads.catalog import _candidates  # the price catalog's own name fallbacks

PRIORS_FILE = Path(__file__).resolve().with_name("data") / "quality_priors.json"

# the team's mean quality score per (feature, model); `{where}` is a scope's bound-parameter clause
SCORES_SQL = """SELECT feature, model, avg(quality_score) AS mean_score, count() AS scored
FROM workload_events {where}
GROUP BY feature, model ORDER BY feature, model"""
SCORED = "quality_score IS NOT NULL"

_OBSERVED_SQL = """SELECT avg(quality_score) AS mean_score FROM workload_events
WHERE feature = {feature:String} AND model = {model:String} AND quality_score IS NOT NULL"""


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


@lru_cache(maxsize=1)
def load_priors() -> dict[str, dict[str, QualityPrior]]:
    """Return {model entry: {category: prior}} from the packaged priors file."""
    doc = json.loads(PRIORS_FILE.read_text())
    return {model: {cat: _prior(model, cat, entry, doc["sources"]) for cat, entry in cats.items()}
            for model, cats in doc["models"].items()}


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


def observed(store: AnalyticsStore, feature: str, model: str) -> float | None:
    """Return the mean `quality_score` of the feature's events on `model`, or None when none is scored."""
    value = store.scalar(_OBSERVED_SQL, {"feature": feature, "model": model})
    return None if value is None else float(value)


__all__ = ["PRIORS_FILE", "SCORED", "SCORES_SQL", "QualityPrior", "load_priors", "observed", "prior",
           "prior_drop", "prior_key", "priors_for"]
