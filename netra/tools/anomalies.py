"""Apex tool (anomalies): cost spikes in an hourly or daily cost series, each with what drove it.

Definition. x_i is the scoped cost of bucket i (UTC hours or days, `toStartOfHour` /
`toStartOfDay`); buckets without events between the first and the last bucket with events
count 0. Over the N buckets, m = median(x) and MAD = median(|x - m|); a bucket's robust z is
(x - m) / (1.4826 * MAD). When MAD is 0 (over half the buckets cost the same) the scale is
1.2533 * mean(|x - m|) instead (Iglewicz and Hoaglin); when that is 0 too (a flat series)
every z is 0. A spike is a bucket with z >= `threshold`. Its driver is the (feature, model)
whose cost in that bucket rose most above that pair's own median bucket cost (over the same
N buckets, a bucket where the pair had no events counting 0).

Costs of events whose source logs no cache token counts are priced as if nothing was read from
a prompt cache: a note says how many there are (`coverage`).
"""

from __future__ import annotations

from statistics import mean, median
from typing import Any, Literal

from pydantic import Field

from netra.tools._sql import Queries, empty, finish
from netra.tools.base import ToolContext, ToolResult
from netra.tools.coverage import uncached
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope

TOOL = "cost_anomaly_detector"
MAD_SCALE, MEAN_AD_SCALE = 1.4826, 1.2533

Granularity = Literal["hour", "day"]
# granularity -> (bucket expression, WITH FILL step): the only text of these that reaches SQL
BUCKETS: dict[str, tuple[str, str]] = {
    "hour": ("toStartOfHour(timestamp)", "toIntervalHour(1)"),
    "day": ("toStartOfDay(timestamp)", "toIntervalDay(1)"),
}

_SERIES_SQL = """SELECT {column} AS bucket, sum(cost_usd) AS cost
FROM workload_events {where}
GROUP BY bucket ORDER BY bucket WITH FILL STEP {step}"""

_PAIRS_SQL = """SELECT {column} AS bucket, feature, model, sum(cost_usd) AS cost
FROM workload_events {where}
GROUP BY bucket, feature, model ORDER BY bucket, feature, model"""

FIGURES = {
    "buckets": ("buckets", "buckets in the series (gaps filled with 0)"),
    "spikes": ("buckets", "buckets whose robust z reaches the threshold"),
    "max_z": ("z", "largest robust z of any bucket"),
    "median_bucket_cost_usd": ("USD", "median cost of a bucket"),
    "spike_excess_usd": ("USD", "cost of the spike buckets above the median"),
}


class AnomalyArgs(Scope):
    """Scope plus the bucket size and the robust z a spike must reach."""

    granularity: Granularity = Field("hour", description="bucket the cost series by hour or by day")
    threshold: float = Field(3.5, gt=0, description="a bucket is a spike when its robust z is at least this")


def robust_z(values: list[float]) -> list[float]:
    """Return each value's robust z (see the module docstring), 0 for all of a flat series."""
    m = median(values)
    scale = MAD_SCALE * median(abs(v - m) for v in values) or MEAN_AD_SCALE * mean(abs(v - m) for v in values)
    return [(v - m) / scale if scale else 0.0 for v in values]


def _pair_medians(rows: list[dict[str, Any]], buckets: int) -> dict[tuple[str, str], float]:
    """Return each (feature, model)'s median bucket cost, its missing buckets counting 0."""
    costs: dict[tuple[str, str], list[float]] = {}
    for row in rows:
        costs.setdefault((row["feature"], row["model"]), []).append(float(row["cost"]))
    return {pair: median(c + [0.0] * (buckets - len(c))) for pair, c in costs.items()}


def _driver(rows: list[dict[str, Any]], medians: dict[tuple[str, str], float]) -> dict[str, Any]:
    """Return the driver fields of one spike bucket from its (feature, model) rows."""
    rise = {(r["feature"], r["model"]): float(r["cost"]) - medians[(r["feature"], r["model"])] for r in rows}
    pair = min(rise, key=lambda p: (-rise[p], p))
    return {"driver_feature": pair[0], "driver_model": pair[1], "driver_cost_usd": rise[pair] + medians[pair],
            "driver_median_usd": medians[pair], "driver_rise_usd": rise[pair]}


def _spike_rows(q: Queries, args: AnomalyArgs, series: list[dict], z: list[float]) -> list[dict[str, Any]]:
    """Return one row per spike (time order) with its cost, median, z and driver."""
    spikes = [i for i, value in enumerate(z) if value >= args.threshold]
    pairs = q.rows(_PAIRS_SQL, args, column=BUCKETS[args.granularity][0]) if spikes else []
    medians, m = _pair_medians(pairs, len(series)), median(float(r["cost"]) for r in series)
    return [{"bucket": series[i]["bucket"].isoformat(), "cost_usd": float(series[i]["cost"]), "median_usd": m,
             "z": z[i], **_driver([p for p in pairs if p["bucket"] == series[i]["bucket"]], medians)}
            for i in spikes]


def _values(costs: list[float], rows: list[dict[str, Any]]) -> dict[str, float]:
    """Return the figure values."""
    m = median(costs)
    return {"buckets": len(costs), "spikes": len(rows), "max_z": max(robust_z(costs)), "median_bucket_cost_usd": m,
            "spike_excess_usd": sum(r["cost_usd"] - m for r in rows)}


def _series(q: Queries, args: AnomalyArgs) -> list[dict[str, Any]]:
    """Return the scoped cost per bucket, gaps between the first and last bucket filled with 0."""
    column, step = BUCKETS[args.granularity]
    return q.rows(_SERIES_SQL.replace("{step}", step), args, column=column)


@apex_tool(TOOL, "Find cost spikes in the hourly or daily cost series (robust z over the window) and the "
                 "feature and model that drove each.", AnomalyArgs)
def cost_anomaly_detector(ctx: ToolContext, args: AnomalyArgs) -> ToolResult:
    """Return the spike buckets of the scoped cost series (one row each, with its driver).

    Args:
        ctx: The analytics store and price catalog.
        args: The scope, the bucket size and the spike threshold.
    """
    q = Queries(ctx.store)
    series = _series(q, args)
    if not series:
        return empty(TOOL, FIGURES, q)
    costs = [float(r["cost"]) for r in series]
    rows = _spike_rows(q, args, series, robust_z(costs))
    return finish(TOOL, FIGURES, _values(costs, rows), rows, q, uncached(q, args))
