"""Compare two evaluation runs: metric deltas, cases that changed, and whether B regressed.

    comparison = compare(load_results("runs/a"), load_results("runs/b"), Thresholds())
    print("\\n".join(render(comparison)))
    exit_code = 1 if comparison.regressions else 0

B regresses when a guarded metric moves the wrong way by more than its threshold
(`GUARDED`), or when a case that passed in A fails (or is missing) in B.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Thresholds:
    """How far each guarded metric may move the wrong way before B counts as a regression."""

    max_recall_drop: float = 0.02
    max_precision_drop: float = 0.02
    max_savings_error_rise: float = 0.02
    max_worst_savings_error_rise: float = 0.02
    max_grounding_drop: float = 0.01


# aggregate -> (threshold attribute, +1 when higher is better / -1 when lower is better)
GUARDED: dict[str, tuple[str, int]] = {
    "finding_recall_micro": ("max_recall_drop", 1),
    "finding_precision_micro": ("max_precision_drop", 1),
    "savings_error_median": ("max_savings_error_rise", -1),
    "savings_error_max": ("max_worst_savings_error_rise", -1),
    "grounding_mean": ("max_grounding_drop", 1),
}
SHOWN = ("cases", "pass_rate", "finding_recall_micro", "finding_recall_macro", "finding_precision_micro",
         "finding_precision_macro", "savings_error_median", "savings_error_max", "savings_checked", "grounding_mean",
         "trajectory_strict_rate", "trajectory_subset_rate", "intent_accuracy", "latency_p50_s", "latency_p95_s",
         "latency_total_s", "tokens_total")


@dataclass
class Comparison:
    """The metric rows (metric, before, after, delta), case changes and regressions found."""

    rows: list[tuple[str, Any, Any, float | None]] = field(default_factory=list)
    newly_failing: list[str] = field(default_factory=list)
    newly_passing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    regressions: list[str] = field(default_factory=list)


def _delta(before: Any, after: Any) -> float | None:
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (before, after))
    return float(after) - float(before) if numbers else None


def _row(a: dict, b: dict, metric: str) -> tuple[str, Any, Any, float | None]:
    before, after = a["aggregates"].get(metric), b["aggregates"].get(metric)
    return metric, before, after, _delta(before, after)


def metric_rows(a: dict, b: dict) -> list[tuple[str, Any, Any, float | None]]:
    """Return (metric, before, after, delta) for every shown aggregate."""
    return [_row(a, b, metric) for metric in SHOWN]


def metric_regressions(a: dict, b: dict, thresholds: Thresholds) -> list[str]:
    """Return a sentence for each guarded metric that moved the wrong way past its threshold."""
    found = []
    for metric, (limit_name, better) in GUARDED.items():
        before, after = a["aggregates"].get(metric), b["aggregates"].get(metric)
        worse, limit = _worsening(before, after, better), getattr(thresholds, limit_name)
        if worse is not None and worse > limit + 1e-12:
            found.append(f"{metric} worsened by {worse:.3f} ({before:.3f} → {after:.3f}; allowed {limit:.3f})")
    return found


def _worsening(before: Any, after: Any, better: int) -> float | None:
    delta = _delta(before, after)
    return None if delta is None else -delta * better


def _verdicts(doc: dict) -> dict[str, bool]:
    return {c["id"]: bool(c["passed"]) for c in doc["cases"]}


def case_changes(a: dict, b: dict, comparison: Comparison) -> None:
    """Fill in the cases that started failing or passing, and those only one run holds."""
    before, after = _verdicts(a), _verdicts(b)
    comparison.newly_failing = [c for c, ok in before.items() if ok and after.get(c) is False]
    comparison.newly_passing = [c for c, ok in before.items() if not ok and after.get(c)]
    comparison.added = [c for c in after if c not in before]
    comparison.removed = [c for c in before if c not in after]


def _case_regressions(a: dict, comparison: Comparison) -> list[str]:
    passed_before = {c for c, ok in _verdicts(a).items() if ok}
    failing = [f"case {c} passed in A and fails in B" for c in comparison.newly_failing]
    return failing + [f"case {c} passed in A and is missing from B" for c in comparison.removed if c in passed_before]


def compare(a: dict, b: dict, thresholds: Thresholds | None = None) -> Comparison:
    """Compare run B against run A; `regressions` is empty when B is no worse beyond the thresholds."""
    comparison = Comparison(rows=metric_rows(a, b))
    case_changes(a, b, comparison)
    comparison.regressions = metric_regressions(a, b, thresholds or Thresholds()) + _case_regressions(a, comparison)
    return comparison


def _shown(value: Any) -> str:
    if value is None:
        return "–"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else f"{value:.3f}"


def render(comparison: Comparison) -> list[str]:
    """Return the comparison as text lines: metric table, case changes, verdict."""
    width = max(len(m) for m, *_ in comparison.rows)
    table = [f"{'metric':<{width}}  {'before':>10}  {'after':>10}  {'delta':>10}"]
    table += [f"{m:<{width}}  {_shown(x):>10}  {_shown(y):>10}  {_signed(d):>10}" for m, x, y, d in comparison.rows]
    return table + [""] + _changes(comparison) + [""] + _verdict(comparison)


def _signed(delta: float | None) -> str:
    return "–" if delta is None else f"{delta:+.3f}"


def _changes(comparison: Comparison) -> list[str]:
    parts = [("newly failing", comparison.newly_failing), ("newly passing", comparison.newly_passing),
             ("only in A", comparison.removed), ("only in B", comparison.added)]
    return [f"{label}: {', '.join(ids) if ids else 'none'}" for label, ids in parts]


def _verdict(comparison: Comparison) -> list[str]:
    if not comparison.regressions:
        return ["no regression"]
    return [f"REGRESSION: {text}" for text in comparison.regressions]
