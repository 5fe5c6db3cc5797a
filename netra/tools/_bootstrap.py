"""Private helpers of `policy_simulator`: bootstrap intervals of monthly savings from per-day series.

The per-day savings come from the joint simulator (each event's saving, summed by day). The
days of a series are resampled with replacement
`samples` times from a fixed seed, so the same call gives the same interval; each resample's
sum, scaled by 30 / span days like the point estimate, is one monthly saving, and the interval
is the exact 5th and 95th percentiles of those (the house quantile rule).
"""

from __future__ import annotations

import numpy as np

from netra.tools.scope import monthly
from netra.tools.throughput import exact_quantile

SEED = 20260302  # fixed: the bootstrap is deterministic
LEVELS = (0.05, 0.95)  # a 90% interval

def interval(per_day: np.ndarray, samples: int, days: float) -> tuple[float, float]:
    """Return the 90% bootstrap interval of the monthly saving whose per-day savings are `per_day` (non-empty)."""
    rng = np.random.default_rng(SEED)
    draws = per_day[rng.integers(0, len(per_day), size=(samples, len(per_day)))].sum(axis=1)
    low, high = (exact_quantile(draws, level) for level in LEVELS)
    return monthly(low, days), monthly(high, days)
