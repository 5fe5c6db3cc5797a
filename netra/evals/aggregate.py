"""Aggregates over an evaluation run's cases (the `aggregates` of results.json).

    aggregates(cases)["finding_recall_micro"]   # Σ found / Σ expected over the cases

Micro figures pool every finding of every case; macro figures average the per-case scores
of the cases where the figure is defined (recall: cases the reference expects findings in;
precision: cases with recommendations). The savings error is taken per supported
recommendation over the whole run: its median and its worst. Crashed cases count in `cases`,
`failed` and `crashed` only. A figure with nothing to measure is None. `goals` says whether
each figure meets the goal of the "Evals that can fail" issue (`GOALS`).
"""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _mean(values: list[float]) -> float | None:
    return float(statistics.fmean(values)) if values else None


def _details(cases: list[dict], name: str) -> list[dict[str, Any]]:
    return [c["evaluators"][name]["details"] for c in cases if name in c["evaluators"]]


def _scores(cases: list[dict], name: str) -> list[float]:
    scores = [c["evaluators"][name]["score"] for c in cases if name in c["evaluators"]]
    return [float(s) for s in scores if s is not None]


def _rate(cases: list[dict], name: str, key: str | None = None) -> float | None:
    """Share of cases whose evaluator `name` passed (or whose `details[key]` is true)."""
    flags = [c["evaluators"][name]["details"][key] if key else c["evaluators"][name]["passed"]
             for c in cases if name in c["evaluators"]]
    return _mean([float(bool(f)) for f in flags])


def counts(cases: list[dict]) -> dict[str, Any]:
    """Return how many cases ran, passed, failed and crashed, and the pass rate."""
    passed = sum(1 for c in cases if c["passed"])
    return {"cases": len(cases), "passed": passed, "failed": len(cases) - passed,
            "crashed": sum(1 for c in cases if c.get("error")), "pass_rate": _ratio(passed, len(cases))}


def findings(cases: list[dict]) -> dict[str, Any]:
    """Return finding recall and precision, micro and macro."""
    recall, precision = _details(cases, "finding_recall"), _details(cases, "finding_precision")
    return {"finding_recall_micro": _ratio(sum(d["found"] for d in recall), sum(d["expected"] for d in recall)),
            "finding_recall_macro": _mean([d["found"] / d["expected"] for d in recall if d["expected"]]),
            "finding_precision_micro": _ratio(sum(d["correct"] for d in precision),
                                              sum(d["recommended"] for d in precision)),
            "finding_precision_macro": _mean([d["correct"] / d["recommended"] for d in precision if d["recommended"]])}


def savings(cases: list[dict]) -> dict[str, Any]:
    """Return the median and the worst savings error over every supported recommendation of the run."""
    errors = [e["error"] for d in _details(cases, "savings_error") for e in d.get("errors", [])]
    return {"savings_error_median": float(statistics.median(errors)) if errors else None,
            "savings_error_max": max(errors) if errors else None, "savings_checked": len(errors)}


# aggregate -> (goal, +1: at least the goal / -1: at most), from the issue "Evals that can fail"
GOALS: dict[str, tuple[float, int]] = {"cases": (40, 1), "finding_precision_micro": (0.95, 1),
                                       "finding_recall_micro": (0.95, 1), "savings_error_median": (0.02, -1),
                                       "savings_error_max": (0.10, -1)}


def goals(figures: dict[str, Any]) -> dict[str, bool | None]:
    """Return, per goal, whether the figure meets it (None when the figure is not measured)."""
    return {key: None if figures.get(key) is None else (figures[key] - goal) * side >= 0
            for key, (goal, side) in GOALS.items()}


def quality(cases: list[dict]) -> dict[str, Any]:
    """Return grounding, trajectory, intent and agent-error rates."""
    return {"grounding_mean": _mean(_scores(cases, "grounding")), "grounded_rate": _rate(cases, "grounding"),
            "trajectory_strict_rate": _rate(cases, "trajectory", "strict"),
            "trajectory_subset_rate": _rate(cases, "trajectory", "subset"),
            "intent_accuracy": _rate(cases, "intent"), "run_error_free_rate": _rate(cases, "run_errors")}


def timing(cases: list[dict]) -> dict[str, Any]:
    """Return run latency p50 / p95 / total (seconds, loads excluded), the reference's time and model token use."""
    seconds = _scores(cases, "latency")
    p50, p95 = (float(v) for v in np.percentile(seconds, [50, 95])) if seconds else (None, None)
    usage = _details(cases, "token_cost")
    reference = sum(float((c.get("truth") or {}).get("seconds", 0.0)) for c in cases)
    return {"latency_p50_s": p50, "latency_p95_s": p95, "latency_total_s": float(sum(seconds)),
            "reference_total_s": reference, "tokens_total": int(sum(d.get("total_tokens", 0) for d in usage)),
            "cost_usd_total": _cost(usage)}


def _cost(usage: list[dict[str, Any]]) -> float | None:
    costs = [d.get("cost_usd") for d in usage]
    return None if None in costs else float(sum(costs))


def aggregates(cases: list[dict]) -> dict[str, Any]:
    """Return every aggregate of results.json for the cases' results."""
    figures = {**counts(cases), **findings(cases), **savings(cases), **quality(cases), **timing(cases)}
    return {**figures, "goals": goals(figures)}
