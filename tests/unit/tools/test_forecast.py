"""cost_forecaster on planted daily cost series with hand-computed forecasts and intervals."""

from __future__ import annotations

import math
from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.forecast import FIGURES
from tests.support.factories import at, load

UNIT = 0.001          # USD of 400 gpt-4o input tokens (2.5e-6 each)
TOKENS_PER_UNIT = 400
Z_80 = 1.2815515655446004


def day_events(units: list[int]) -> list[dict[str, Any]]:
    """One gpt-4o event per day costing `units[t]` x UNIT."""
    return [{"timestamp": at(t, hours=12), "feature": "chat", "model": "gpt-4o", "request_id": f"r{t}",
             "input_tokens": n * TOKENS_PER_UNIT, "output_tokens": 0, "cached_input_tokens": 0,
             "cache_write_tokens": 0, "reasoning_tokens": 0, "is_batch": 0} for t, n in enumerate(units)]


# 14 days: 10 + t plus a weekday pattern orthogonal to 1 and t (sum w = 0, sum d*w_d = 0)
WEEK = [-2, 0, 1, 2, 1, 0, -2]
# 8 days: 10 + 2t plus noise orthogonal to 1 and t; s^2 = 8 / (8 - 2)
NOISE = [1, -1, -1, 1, 1, -1, -1, 1]
# c'(X'X)^-1 c for X = [1, t], t = 0..7 (X'X = [[8, 28], [28, 140]]) and c = (30, 8 + ... + 37 = 675)
LEVERAGE = (140 * 30 ** 2 - 2 * 28 * 30 * 675 + 8 * 675 ** 2) / 336
HALF = Z_80 * math.sqrt(8 / 6 * (30 + LEVERAGE)) * UNIT

# name -> (daily units, forecast, low, high, trend per day, days used)
CASES = {
    "line": ([10 + 2 * t for t in range(10)], 1.77, 1.77, 1.77, 0.002, 10),
    "weekday profile": ([10 + t + WEEK[t % 7] for t in range(14)], (1155 - 2) * UNIT, 1.153, 1.153, 0.001, 14),
    "noisy line": ([10 + 2 * t + NOISE[t] for t in range(8)], 1.65, 1.65 - HALF, 1.65 + HALF, 0.002, 8),
    "falling to zero": ([20 - 2 * t for t in range(10)], 0.0, 0.0, 0.0, -0.002, 10),
    "one day": ([7], 30 * 7 * UNIT, 0.21, 0.21, 0.0, 1),
}
FIGURE_ORDER = ("forecast_usd", "low_usd", "high_usd", "trend_usd_per_day", "days_used")

# name -> the notes the forecast carries
NOTES = {
    "line": ["fewer than 14 days: no weekday profile, the line alone"],
    "weekday profile": [],
    "one day": ["fewer than 14 days: no weekday profile, the line alone",
                "1 day(s) are too few to measure the spread: the interval is the forecast itself"],
}

INVALID = [({"horizon_days": 60}, "horizon_days"), ({"start": "yesterday"}, "start"), ({"model": 3}, "model")]


def close(value: float) -> Any:
    """Match a figure value (figures are rounded to 6 decimals)."""
    return pytest.approx(value, rel=1e-9, abs=2e-6)


def forecast(ctx, units: list[int], **scope: Any):
    """Load one event per day and run the forecaster."""
    load(ctx.store, ctx.catalog, day_events(units))
    return ToolDispatcher(ctx).run("cost_forecaster", scope)


@pytest.mark.parametrize("case", sorted(CASES))
def test_forecast_figures(ctx, case):
    units, *expected = CASES[case]
    result = forecast(ctx, units)
    assert [result.value(name) for name in FIGURE_ORDER] == [close(v) for v in expected]


@pytest.mark.parametrize("case", sorted(NOTES))
def test_forecast_notes(ctx, case):
    assert forecast(ctx, CASES[case][0]).notes == NOTES[case]


def test_rows_are_the_thirty_days_after_the_last_day(ctx):
    rows = forecast(ctx, CASES["weekday profile"][0]).rows
    assert (len(rows), rows[0]["day"], rows[-1]["day"]) == (30, "2026-03-16", "2026-04-14")
    assert [r["weekday_effect_usd"] for r in rows[:7]] == [pytest.approx(w * UNIT, abs=1e-8) for w in WEEK]
    assert rows[0]["forecast_usd"] == pytest.approx((10 + 14 - 2) * UNIT)


def test_residual_spread_of_the_noisy_line(ctx):
    assert forecast(ctx, CASES["noisy line"][0]).value("residual_sd_usd") == close(math.sqrt(8 / 6) * UNIT)


def test_days_without_events_count_as_zero(ctx):
    load(ctx.store, ctx.catalog, [e for t, e in enumerate(day_events([3, 3, 3])) if t != 1])
    result = ToolDispatcher(ctx).run("cost_forecaster")
    assert (result.value("days_used"), result.value("trend_usd_per_day")) == (3, close(0.0))


def test_scope_limits_the_series(ctx):
    result = forecast(ctx, CASES["line"][0], end=at(5).isoformat())
    assert (result.value("days_used"), result.value("trend_usd_per_day")) == (5, close(0.002))


@pytest.mark.parametrize("args,field", INVALID)
def test_bad_arguments_name_the_field(ctx, args, field):
    with pytest.raises(ToolArgumentsError, match=field):
        ToolDispatcher(ctx).run("cost_forecaster", args)


def test_empty_scope_gives_zero_figures_and_a_note(ctx):
    result = ToolDispatcher(ctx).run("cost_forecaster", {"feature": "nothing-here"})
    assert {k: f.value for k, f in result.figures.items()} == dict.fromkeys(FIGURES, 0.0)
    assert (result.rows, result.notes) == ([], [EMPTY_NOTE])
