"""Private helpers of `policy_simulator`: bootstrap intervals of monthly savings from per-day series.

A policy's window saving is split across the days of its (feature, model) in proportion to the
pair's cost on each day (its request count on each day when the pair cost nothing); one bound
query per distinct pair reads those days. The days of a series are resampled with replacement
`samples` times from a fixed seed, so the same call gives the same interval; each resample's
sum, scaled by 30 / span days like the point estimate, is one monthly saving, and the interval
is the exact 5th and 95th percentiles of those (the house quantile rule).
"""

from __future__ import annotations

import numpy as np

from netra.tools._sql import Queries
from netra.tools.findings import Policy
from netra.tools.scope import Scope, monthly
from netra.tools.throughput import exact_quantile

SEED = 20260302  # fixed: the bootstrap is deterministic
LEVELS = (0.05, 0.95)  # a 90% interval

_DAILY_SQL = """SELECT toString(toDate(timestamp)) AS day, count() AS requests, sum(cost_usd) AS cost
FROM workload_events {where}
GROUP BY day ORDER BY day ASC"""
_PAIR = "feature = {p_feature:String} AND model = {p_model:String}"

Weights = dict[str, float]  # day -> its share of the pair's window (empty: no events in scope)


def pair_weights(q: Queries, scope: Scope, policies: list[Policy]) -> dict[tuple[str, str], Weights]:
    """Return the day weights of each distinct (feature, model) of `policies`, one bound query per pair."""
    pairs = dict.fromkeys((p.feature, p.model) for p in policies)
    return {pair: _weights(q.rows(_DAILY_SQL, scope, _PAIR, {"p_feature": pair[0], "p_model": pair[1]}))
            for pair in pairs}


def _weights(days: list[dict]) -> Weights:
    """Return each day's share of the pair's cost (of its requests when it cost nothing)."""
    key = "cost" if sum(float(d["cost"]) for d in days) > 0 else "requests"
    total = sum(float(d[key]) for d in days)
    return {d["day"]: float(d[key]) / total for d in days} if total else {}


def series(weights: Weights, saving: float) -> np.ndarray:
    """Return the per-day savings of a window saving split by `weights`, in day order."""
    return np.array([saving * weights[day] for day in sorted(weights)], dtype=float)


def combined_series(weights: list[Weights], savings: list[float]) -> np.ndarray:
    """Return the per-day sum of several savings over the union of their days.

    A saving whose pair has no days is spread evenly over the union, so the series still adds
    up to the sum of the savings (empty when no pair has a day).
    """
    days = sorted({day for w in weights for day in w})
    even = {day: 1 / len(days) for day in days}
    return np.array([sum(s * (w or even).get(day, 0.0) for w, s in zip(weights, savings)) for day in days],
                    dtype=float)


def interval(per_day: np.ndarray, samples: int, days: float) -> tuple[float, float]:
    """Return the 90% bootstrap interval of the monthly saving whose per-day savings are `per_day` (non-empty)."""
    rng = np.random.default_rng(SEED)
    draws = per_day[rng.integers(0, len(per_day), size=(samples, len(per_day)))].sum(axis=1)
    low, high = (exact_quantile(draws, level) for level in LEVELS)
    return monthly(low, days), monthly(high, days)
