"""The team's quality scores, as the reference reads them for a route (docs/quality.md).

    scores = QualityScores(events)                     # events of the scope's window, any model
    scores.drop("faq", "gpt-4o", "gpt-4o-mini")        # 0.004, or None when not measured on both

A route's quality is measured when the feature has 2 or more scored requests (`quality_score`
not null) on both the current and the target model (the `quality_scores` evidence of
docs/tools.md); the drop is the difference of the two means. A route keeps quality when the
drop is at most the quality budget (`QUALITY_BUDGET`, the documented default of
`quality_budget`).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Mapping, Sequence

MIN_SCORED = 2  # scored requests needed on each model (docs/tools.md, `quality_scores` evidence)
QUALITY_BUDGET = 0.02  # the default `quality_budget` of docs/tools.md


class QualityScores:
    """The present `quality_score` values of each (feature, model)."""

    def __init__(self, events: Sequence[Mapping]) -> None:
        self.scores: dict[tuple[str, str], list[float]] = defaultdict(list)
        for event in (e for e in events if e.get("quality_score") is not None):
            self.scores[(str(event["feature"]), str(event["model"]))].append(float(event["quality_score"]))

    def measured(self, feature: str, model: str) -> bool:
        """Return whether the feature has enough scores on the model."""
        return len(self.scores.get((feature, model), ())) >= MIN_SCORED

    def mean(self, feature: str, model: str) -> float:
        """Return the mean score of the feature on the model."""
        return float(statistics.fmean(self.scores[(feature, model)]))

    def drop(self, feature: str, model: str, target: str) -> float | None:
        """Return mean(current) - mean(target), or None when either is not measured."""
        if not (self.measured(feature, model) and self.measured(feature, target)):
            return None
        return self.mean(feature, model) - self.mean(feature, target)

    def scored_models(self, feature: str, model: str) -> list[str]:
        """Return the other models the feature is measured on, sorted."""
        return sorted(m for f, m in self.scores if f == feature and m != model and self.measured(f, m))
