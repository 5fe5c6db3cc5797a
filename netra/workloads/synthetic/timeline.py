"""When requests arrive and who sends them: diurnal, weekly arrivals and skewed users.

Arrivals are drawn per hour slot of the window, weighted by the hour of day (busiest
around 15:00 UTC, quietest around 03:00 UTC) and the day of the week (the window starts
on Monday 2026-03-02), then uniformly within the slot.
"""

from __future__ import annotations

import numpy as np

from netra.workloads.synthetic.specs import USERS, ZIPF_EXPONENT

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
HOURLY = 1.0 + 0.75 * np.cos(2 * np.pi * (np.arange(24) - 15) / 24)
WEEKDAY = np.array([1.0, 1.0, 1.0, 1.0, 0.95, 0.6, 0.5])
USER_SHARES = 1.0 / np.arange(1, len(USERS) + 1) ** ZIPF_EXPONENT


def hour_slots(days: float, hours: tuple[int, int] | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return each hour slot's start (ms), width (ms) and arrival weight."""
    window = days * DAY_MS
    starts = np.arange(int(np.ceil(window / HOUR_MS))) * HOUR_MS
    widths = np.minimum(HOUR_MS, window - starts)
    hour, weekday = (starts // HOUR_MS) % 24, (starts // DAY_MS) % 7
    weights = HOURLY[hour] * WEEKDAY[weekday] * widths * _allowed(hour, hours)
    return starts, widths, weights if weights.sum() > 0 else widths.astype(np.float64)


def _allowed(hour: np.ndarray, hours: tuple[int, int] | None) -> np.ndarray:
    if hours is None:
        return np.ones(len(hour))
    return ((hour >= hours[0]) & (hour < hours[1])).astype(np.float64)


def arrivals_ms(rng: np.random.Generator, n: int, days: float,
                hours: tuple[int, int] | None = None) -> np.ndarray:
    """Draw `n` arrival times (int64 ms after the window start), unsorted.

    `hours` (start, end) keeps arrivals within those UTC hours; a window holding none of
    them falls back to the whole window.
    """
    starts, widths, weights = hour_slots(days, hours)
    slot = rng.choice(len(starts), n, p=weights / weights.sum())
    return (starts[slot] + np.floor(rng.random(n) * widths[slot])).astype(np.int64)


def draw_users(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw `n` user codes (indexes of `USERS`), Zipf-skewed."""
    return rng.choice(len(USERS), n, p=USER_SHARES / USER_SHARES.sum()).astype(np.int8)
