"""Apex tool (forecast): next month's spend from the scoped daily cost series.

Definition. y_t is the scoped cost of UTC day t = 0..n-1 (days without events between the first
and the last day count 0). A straight line a + b*t is fitted by least squares. With n >= 14 days
a weekday profile is added: w_d = the mean line residual of the days with t mod 7 = d (the days
are consecutive, so d is a weekday). The forecast is F = sum over the 30 days t = n..n+29 after
the last day of max(a + b*t + w_(t mod 7), 0). Residuals e_t = y_t - (a + b*t + w_(t mod 7)) give
s^2 = sum(e^2) / (n - k), k = 2 parameters for the line plus 6 for the profile. The 80% interval is
F -+ z * s * sqrt(30 + c' (X'X)^-1 c) with z = 1.2816 (the normal 90% quantile), X the [1, t]
design of the n days and c = (30, sum of the 30 future t): the spread of 30 new days around the
line plus the line's own uncertainty (the profile's is left out). The low end is floored at 0.
With n <= k there is no spread to measure: the interval is the forecast itself and a note says so.
Deterministic: no sampling. Costs of events whose source logs no cache token counts are
priced as if nothing was read from a prompt cache: a note says how many there are (`coverage`).
"""

from __future__ import annotations

from datetime import timedelta
from statistics import NormalDist
from typing import Any, NamedTuple

import numpy as np

from netra.tools._sql import Queries, empty, finish
from netra.tools.base import ToolContext, ToolResult
from netra.tools.coverage import uncached
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope

TOOL = "cost_forecaster"
HORIZON_DAYS = 30
PROFILE_MIN_DAYS = 14
Z_80 = NormalDist().inv_cdf(0.9)  # two-sided 80% interval

_DAILY_SQL = """SELECT toDate(timestamp) AS day, sum(cost_usd) AS cost
FROM workload_events {where}
GROUP BY day ORDER BY day WITH FILL STEP 1"""

FIGURES = {
    "forecast_usd": ("USD", "spend forecast for the 30 days after the window"),
    "low_usd": ("USD", "80% interval, low end"),
    "high_usd": ("USD", "80% interval, high end"),
    "trend_usd_per_day": ("USD/day", "slope of the least-squares line"),
    "days_used": ("days", "days in the daily series (gaps filled with 0)"),
    "residual_sd_usd": ("USD/day", "standard deviation of the daily residuals"),
}
_SHORT_NOTE = "{n} day(s) are too few to measure the spread: the interval is the forecast itself"
_PROFILE_NOTE = "fewer than 14 days: no weekday profile, the line alone"


class _Fit(NamedTuple):
    """A fitted daily series: line, weekday profile, residual spread and the design's inverse."""

    n: int
    coef: np.ndarray
    profile: np.ndarray
    sd: float
    inverse: np.ndarray


def _profile(t: np.ndarray, residuals: np.ndarray) -> np.ndarray:
    """Return the mean residual per t mod 7 (all 0 with fewer than 14 days)."""
    if len(t) < PROFILE_MIN_DAYS:
        return np.zeros(7)
    return np.array([residuals[t % 7 == d].mean() for d in range(7)])


def fit(y: np.ndarray) -> _Fit:
    """Fit the line, the weekday profile and the residual spread of a daily series."""
    t = np.arange(len(y))
    design = np.column_stack([np.ones(len(y)), t.astype(float)])
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    profile = _profile(t, y - design @ coef)
    residuals, k = y - design @ coef - profile[t % 7], 2 + 6 * (len(y) >= PROFILE_MIN_DAYS)
    sd = float(np.sqrt((residuals ** 2).sum() / (len(y) - k))) if len(y) > k else 0.0
    return _Fit(len(y), coef, profile, sd, np.linalg.pinv(design.T @ design))


def project(f: _Fit) -> tuple[np.ndarray, float]:
    """Return the 30 daily forecasts (floored at 0) and the interval's half-width for their sum."""
    t = np.arange(f.n, f.n + HORIZON_DAYS)
    daily = np.maximum(f.coef[0] + f.coef[1] * t + f.profile[t % 7], 0.0)
    c = np.array([HORIZON_DAYS, float(t.sum())])
    return daily, Z_80 * f.sd * float(np.sqrt(HORIZON_DAYS + c @ f.inverse @ c))


def _rows(series: list[dict[str, Any]], f: _Fit, daily: np.ndarray) -> list[dict[str, Any]]:
    """Return one row per forecast day: its date, forecast and weekday effect."""
    last = series[-1]["day"]
    return [{"day": (last + timedelta(days=i + 1)).isoformat(), "forecast_usd": float(v),
             "weekday_effect_usd": float(f.profile[(f.n + i) % 7])} for i, v in enumerate(daily)]


def _values(f: _Fit, daily: np.ndarray, half: float) -> dict[str, float]:
    """Return the figure values."""
    total = float(daily.sum())
    return {"forecast_usd": total, "low_usd": max(total - half, 0.0), "high_usd": total + half,
            "trend_usd_per_day": float(f.coef[1]), "days_used": f.n, "residual_sd_usd": f.sd}


def _notes(f: _Fit) -> list[str]:
    """Say when the series was too short for the profile or for an interval."""
    notes = [_PROFILE_NOTE] if f.n < PROFILE_MIN_DAYS else []
    return notes + ([_SHORT_NOTE.format(n=f.n)] if f.n <= 2 else [])


@apex_tool(TOOL, "Forecast the next 30 days' spend from the daily cost series: least-squares trend plus a "
                 "weekday profile, with an 80% interval.", Scope)
def cost_forecaster(ctx: ToolContext, args: Scope) -> ToolResult:
    """Forecast the 30 days after the window's last day; one row per forecast day.

    Args:
        ctx: The analytics store and price catalog.
        args: The scope whose daily cost series is extrapolated.
    """
    q = Queries(ctx.store)
    series = q.rows(_DAILY_SQL, args)
    if not series:
        return empty(TOOL, FIGURES, q)
    f = fit(np.array([float(r["cost"]) for r in series]))
    daily, half = project(f)
    return finish(TOOL, FIGURES, _values(f, daily, half), _rows(series, f, daily), q, _notes(f) + uncached(q, args))
