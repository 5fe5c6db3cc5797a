"""cost_anomaly_detector on planted cost series with hand-computed robust z scores."""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.anomalies import FIGURES, robust_z
from tests.support.factories import at, load

GPT4O_INPUT, SONNET_INPUT = 2.5e-6, 3e-6
LOW, HIGH = 1000 * GPT4O_INPUT, 2000 * GPT4O_INPUT   # chat cost of an even and an odd hour
AGENT = 10 * 1000 * SONNET_INPUT                       # the planted spike at hour 12


def event(when, feature: str, model: str, input_tokens: int) -> dict[str, Any]:
    """One ok event with only input tokens."""
    return {"timestamp": when, "feature": feature, "model": model, "input_tokens": input_tokens,
            "output_tokens": 0, "cached_input_tokens": 0, "cache_write_tokens": 0, "reasoning_tokens": 0,
            "is_batch": 0, "request_id": f"{feature}-{when}"}


# 24 hours of chat on gpt-4o (one request on even hours, two on odd), ten agent requests at hour 12
CHAT = [event(at(hours=h, seconds=s), "chat", "gpt-4o", 1000) for h in range(24) for s in range(1 + h % 2)]
SPIKE = [event(at(hours=12, seconds=30 + s), "agent", "claude-sonnet-4-5", 1000) for s in range(10)]

# series: 11 x LOW, 12 x HIGH, LOW + AGENT -> median HIGH; deviations 12 x 0, 11 x (HIGH - LOW), 1 big
MEDIAN, MAD = HIGH, (HIGH - LOW) / 2
Z_SPIKE = (LOW + AGENT - HIGH) / (1.4826 * MAD)

EXPECTED = {"buckets": 24, "spikes": 1, "max_z": Z_SPIKE, "median_bucket_cost_usd": MEDIAN,
            "spike_excess_usd": LOW + AGENT - MEDIAN}
SPIKE_ROW = {"bucket": "2026-03-02T12:00:00", "cost_usd": LOW + AGENT, "median_usd": MEDIAN, "z": Z_SPIKE,
             "driver_feature": "agent", "driver_model": "claude-sonnet-4-5", "driver_cost_usd": AGENT,
             "driver_median_usd": 0.0, "driver_rise_usd": AGENT}

# series -> robust z of each value
SERIES = [
    ([1.0, 2.0, 3.0, 4.0, 100.0], [-2 / 1.4826, -1 / 1.4826, 0.0, 1 / 1.4826, 97 / 1.4826]),
    ([1.0] * 10 + [4.0], [0.0] * 10 + [3 / (1.2533 * 3 / 11)]),    # MAD 0: mean absolute deviation
    ([5.0, 5.0, 5.0], [0.0, 0.0, 0.0]),                             # flat: every z is 0
    ([7.0], [0.0]),
]

# args -> (buckets, spikes)
VARIANTS = [
    ({"granularity": "day"}, 1, 0),                  # one day: one bucket, no spread
    ({"threshold": 20.0}, 24, 0),                    # z 14.8 is under 20
    ({"feature": "chat"}, 24, 0),                    # without the agent spike
    ({"end": at(hours=4).isoformat()}, 4, 0),
]

INVALID = [({"granularity": "minute"}, "granularity"), ({"threshold": 0}, "threshold"),
           ({"threshold": "high"}, "threshold"), ({"bucket": "hour"}, "bucket")]


def close(value: float) -> Any:
    """Match a figure value (figures are rounded to 6 decimals)."""
    return pytest.approx(value, rel=1e-6, abs=5e-7)


@pytest.fixture
def planted(ctx):
    """The store holding CHAT and SPIKE; returns a dispatcher over it."""
    load(ctx.store, ctx.catalog, CHAT + SPIKE)
    return ToolDispatcher(ctx)


@pytest.mark.parametrize("values,expected", SERIES)
def test_robust_z(values, expected):
    assert robust_z(values) == pytest.approx(expected)


@pytest.mark.parametrize("name,expected", sorted(EXPECTED.items()))
def test_planted_spike_figures(planted, name, expected):
    assert planted.run("cost_anomaly_detector").value(name) == close(expected)


def test_spike_row_names_its_driver(planted):
    rows = planted.run("cost_anomaly_detector").rows
    assert rows == [{k: pytest.approx(v, rel=1e-6) if isinstance(v, float) else v for k, v in SPIKE_ROW.items()}]


@pytest.mark.parametrize("args,buckets,spikes", VARIANTS)
def test_granularity_threshold_and_scope(planted, args, buckets, spikes):
    result = planted.run("cost_anomaly_detector", args)
    assert (result.value("buckets"), result.value("spikes"), len(result.rows)) == (buckets, spikes, spikes)


def test_gaps_between_buckets_count_as_zero(ctx):
    load(ctx.store, ctx.catalog, [event(at(hours=h), "chat", "gpt-4o", 1000) for h in (0, 3)])
    result = ToolDispatcher(ctx).run("cost_anomaly_detector")
    assert (result.value("buckets"), result.value("median_bucket_cost_usd")) == (4, close(LOW / 2))


def test_daily_series_fills_missing_days_and_falls_back_to_mean_deviation(ctx):
    days = [0, 2, 3, 5, 6, 7, 8, 9, 11]   # 1, 4 and 10 have no events; day 9 costs 20x
    load(ctx.store, ctx.catalog, [event(at(d), "chat", "gpt-4o", 1000 * (20 if d == 9 else 1)) for d in days])
    result = ToolDispatcher(ctx).run("cost_anomaly_detector", {"granularity": "day"})
    # median LOW; deviations 8 x 0, 3 x LOW, 19 x LOW -> MAD 0, mean deviation 22 x LOW / 12
    z = 19 * LOW / (1.2533 * 22 * LOW / 12)
    assert (result.value("buckets"), result.value("max_z")) == (12, close(z))
    assert [r["bucket"] for r in result.rows] == ["2026-03-11T00:00:00"]


@pytest.mark.parametrize("args,field", INVALID)
def test_bad_arguments_name_the_field(ctx, args, field):
    with pytest.raises(ToolArgumentsError, match=field):
        ToolDispatcher(ctx).run("cost_anomaly_detector", args)


def test_empty_scope_gives_zero_figures_and_a_note(planted):
    result = planted.run("cost_anomaly_detector", {"feature": "nothing-here"})
    assert {k: f.value for k, f in result.figures.items()} == dict.fromkeys(FIGURES, 0.0)
    assert (result.rows, result.notes) == ([], [EMPTY_NOTE])
