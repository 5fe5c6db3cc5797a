"""Apex tools (throughput): how much traffic flows and how fast each request is served.

`throughput_analyzer`: the window runs from the minute of the first scoped event to the minute
of the last one (UTC minutes, both included); minutes without traffic count as 0, so means,
percentiles and the coefficient of variation describe every minute of the window. Per-feature
rows use the same window. Tokens are input + output tokens (output includes reasoning).
Concurrency is estimated twice: by Little's law (arrival rate × mean latency) and as the most
requests in flight at once, each counted over [timestamp, timestamp + latency_ms).

`latency_bottleneck_identifier`: a streamed request (`ttft_ms` > 0) splits into time to first
token (TTFT, which includes any queueing at the provider: there is no separate queue column)
and generation (latency − TTFT, at least 0). Generation speed is output tokens / generation
seconds, summed over requests. A pair's p95 tail is its requests at or above its p95 latency;
the segment taking at least half the tail's time dominates (ties go to TTFT).

Percentiles follow ClickHouse `quantileExact`: sorted[floor(level × n)], the last element
when that runs past the end.

Latency figures use the events that carry `latency_ms` (`coverage.HAS`): the mean latency of
Little's law, and the requests in flight. The split uses events that carry both `ttft_ms` and
`latency_ms`. When no scoped event carries a field a figure needs, that figure is None (not in
the telemetry) and a note says how many events lack it.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from netra.tools._sql import Queries, empty, ratio
from netra.tools.base import ToolContext, ToolResult
from netra.tools.coverage import HAS, Coverage, CoveredFigures, needing
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope

TOOL = "throughput_analyzer"
BOTTLENECK = "latency_bottleneck_identifier"
STREAMED = "ttft_ms > 0"
_TIMED = HAS["latency_ms"]
# a request split into TTFT and generation: streamed, and both times logged
SPLIT = f"{STREAMED} AND {HAS['ttft_ms']} AND {_TIMED}"
GEN_SQL = "greatest(toInt64(latency_ms) - ttft_ms, 0)"
TTFT_NOTE = "TTFT includes queueing at the provider; there is no separate queue column"
# grouping -> the SQL expression it partitions by (the only text that reaches SQL)
PARTITIONS: dict[str, str] = {"feature": "feature", "overall": "''"}

_MINUTES_SQL = f"""SELECT feature AS name, intDiv(toUnixTimestamp64Milli(timestamp), 60000) AS minute,
    count() AS requests, sum(toUInt64(input_tokens) + output_tokens) AS tokens,
    sumIf(latency_ms, {_TIMED}) AS latency_total, countIf({_TIMED}) AS timed
FROM workload_events {{where}}
GROUP BY name, minute ORDER BY name, minute"""

_OVERLAP_SQL = """SELECT name, max(running) AS peak
FROM (SELECT name, sum(delta) OVER (PARTITION BY name ORDER BY t, delta ROWS UNBOUNDED PRECEDING) AS running
      FROM (SELECT {column} AS name, arrayJoin([(toUnixTimestamp64Milli(timestamp), 1),
                   (toUnixTimestamp64Milli(timestamp) + latency_ms, -1)]) AS ev, ev.1 AS t, ev.2 AS delta
            FROM workload_events {where}))
GROUP BY name"""

_COUNT_SQL = f"""SELECT count() AS requests, countIf({SPLIT}) AS streamed,
    countIf(ttft_ms = 0 AND {HAS['ttft_ms']}) AS unstreamed FROM workload_events {{where}}"""

_SEGMENTS_SQL = f"""SELECT feature, model, count() AS streamed,
    quantilesExact(0.5, 0.95)(ttft_ms) AS ttft, quantilesExact(0.5, 0.95)(gen) AS generation,
    any(p95) AS latency_p95, sum(ttft_ms) AS ttft_total, sum(gen) AS gen_total,
    sum(output_tokens) AS out_tokens, sumIf(ttft_ms, latency_ms >= p95) AS tail_ttft,
    sumIf(gen, latency_ms >= p95) AS tail_gen
FROM (SELECT feature, model, ttft_ms, latency_ms, output_tokens, {GEN_SQL} AS gen,
             quantileExact(0.95)(latency_ms) OVER (PARTITION BY feature, model) AS p95
      FROM workload_events {{where}})
GROUP BY feature, model ORDER BY feature, model"""

SERIES = ("requests", "tokens")
# the per-minute series kept: the two above, and the latency sum over the `timed` requests
KEPT = (*SERIES, "latency_total", "timed")

THROUGHPUT_FIGURES = {
    "requests": ("requests", "requests in scope"),
    "window_minutes": ("minutes", "minutes from the first to the last event's minute, both included"),
    "requests_per_min_mean": ("requests/min", "mean requests per minute of the window"),
    "requests_per_min_peak": ("requests/min", "busiest minute's requests"),
    "requests_per_min_p99": ("requests/min", "99th percentile of requests per minute"),
    "tokens_per_min_mean": ("tokens/min", "mean input + output tokens per minute"),
    "tokens_per_min_peak": ("tokens/min", "busiest minute's input + output tokens"),
    "tokens_per_min_p99": ("tokens/min", "99th percentile of tokens per minute"),
    "peak_to_mean": ("ratio", "burstiness: peak / mean requests per minute"),
    "cv_per_minute": ("ratio", "burstiness: coefficient of variation of requests per minute"),
    "littles_law_concurrency": ("requests", "arrival rate (per s) × mean latency (s)"),
    "max_concurrency": ("requests", "most requests in flight at once"),
}

BOTTLENECK_FIGURES = {
    "requests": ("requests", "requests in scope"),
    "streamed_requests": ("requests", "streamed requests (ttft_ms > 0), the only ones split"),
    "ttft_share": ("ratio", "TTFT (incl. queueing) share of streamed requests' time"),
    "generation_share": ("ratio", "generation share of streamed requests' time"),
    "p95_tail_ttft_share": ("ratio", "TTFT share of the time of requests at or above their pair's p95"),
    "ttft_dominated_pairs": ("pairs", "(feature, model) pairs whose p95 tail is mostly TTFT"),
    "generation_dominated_pairs": ("pairs", "(feature, model) pairs whose p95 tail is mostly generation"),
    "generation_tokens_per_s": ("tokens/s", "output tokens / generation seconds, streamed requests"),
}

# figure -> the fields it is computed from (None when no scoped event carries them)
NEEDS = needing("latency_ms", "littles_law_concurrency", "max_concurrency")
SPLIT_NEEDS = needing(("ttft_ms", "latency_ms"), *(name for name in BOTTLENECK_FIGURES if name != "requests"))
THROUGHPUT = CoveredFigures(TOOL, THROUGHPUT_FIGURES, NEEDS)
SPLIT_RESULT = CoveredFigures(BOTTLENECK, BOTTLENECK_FIGURES, SPLIT_NEEDS)


def exact_quantile(values: np.ndarray, level: float) -> float:
    """Return sorted(values)[floor(level × n)] (the last one past the end), as `quantileExact` does."""
    if len(values) == 0:
        return 0.0
    index = min(int(level * len(values)), len(values) - 1)
    return float(np.partition(values, index)[index])


def _window(rows: list[dict]) -> tuple[int, int]:
    """Return the window's first minute (minutes since the epoch) and its length in minutes."""
    minutes = [int(r["minute"]) for r in rows]
    return min(minutes), max(minutes) - min(minutes) + 1


def _series(rows: list[dict]) -> dict[str, dict[str, np.ndarray]]:
    """Return {feature: {series: per-minute values over the window}}, latency totals included."""
    first, minutes = _window(rows)
    out: dict[str, dict[str, np.ndarray]] = {}
    for row in rows:
        arrays = out.setdefault(row["name"], {k: np.zeros(minutes) for k in KEPT})
        for key, array in arrays.items():
            array[int(row["minute"]) - first] = float(row[key])
    return out


def _rates(prefix: str, values: np.ndarray) -> dict[str, float]:
    """Return the mean, peak and p99 of one per-minute series."""
    return {f"{prefix}_per_min_mean": float(values.mean()), f"{prefix}_per_min_peak": float(values.max()),
            f"{prefix}_per_min_p99": exact_quantile(values, 0.99)}


def stats(arrays: Mapping[str, np.ndarray], peak: int) -> dict[str, Any]:
    """Return the throughput figures of one per-minute series set and its peak concurrency."""
    counts = arrays["requests"]
    requests, mean = int(counts.sum()), float(counts.mean())
    latency_s = ratio(arrays["latency_total"].sum(), arrays["timed"].sum()) / 1000
    return {"requests": requests, "window_minutes": len(counts), **_rates("requests", counts),
            **_rates("tokens", arrays["tokens"]), "peak_to_mean": ratio(counts.max(), mean),
            "cv_per_minute": ratio(counts.std(), mean), "littles_law_concurrency": mean / 60 * latency_s,
            "max_concurrency": peak}


def _peaks(q: Queries, args: Scope, partition: str) -> dict[str, int]:
    """Return {name: most requests in flight at once} for one partitioning."""
    return {r["name"]: int(r["peak"]) for r in q.rows(_OVERLAP_SQL, args, _TIMED, column=PARTITIONS[partition])}


def _overall(series: dict[str, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Return the per-minute series summed over the features."""
    return {k: sum(s[k] for s in series.values()) for k in KEPT}


def _rows(series: dict[str, dict[str, np.ndarray]], peaks: dict[str, int]) -> list[dict[str, Any]]:
    """Return one row per feature, busiest first (None in latency columns when none of its requests has latency)."""
    rows = [_timed({"feature": name, **stats(arrays, peaks.get(name, 0))}, arrays) for name, arrays in series.items()]
    for row in rows:
        del row["window_minutes"]
    return sorted(rows, key=lambda r: (-r["requests"], r["feature"]))


def _timed(row: dict[str, Any], arrays: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Return a feature's row with None in its latency columns when none of its requests carries latency."""
    requests = int(arrays["requests"].sum())
    return Coverage(requests, {"latency_ms": requests - int(arrays["timed"].sum())}).blank(row, NEEDS)


@apex_tool(TOOL, "Requests and tokens per minute (mean, peak, p99), burstiness (peak/mean, coefficient of "
                 "variation) and concurrency (Little's law, max overlapping requests), overall and per "
                 "feature.", Scope)
def throughput_analyzer(ctx: ToolContext, args: Scope) -> ToolResult:
    """Measure per-minute throughput, burstiness and concurrency.

    Args:
        ctx: The analytics store and price catalog.
        args: The scope.

    Returns:
        Overall figures and one row per feature.
    """
    q = Queries(ctx.store)
    found = q.rows(_MINUTES_SQL, args)
    if not found:
        return empty(TOOL, THROUGHPUT_FIGURES, q)
    series = _series(found)
    values = stats(_overall(series), _peaks(q, args, "overall").get("", 0))
    return THROUGHPUT.result(q, args, values, _rows(series, _peaks(q, args, "feature")), [])


def _sums(rows: list[dict], keys: tuple[str, ...]) -> list[float]:
    """Return the sum of each key over rows."""
    return [sum(float(r[k]) for r in rows) for k in keys]


def _dominant(row: dict) -> str:
    """Return the segment that takes at least half the time of the pair's p95 tail."""
    return "ttft" if row["tail_ttft"] >= row["tail_gen"] else "generation"


def _segment_row(row: dict) -> dict[str, Any]:
    """Return one (feature, model) row of the bottleneck table."""
    (t50, t95), (g50, g95) = row["ttft"], row["generation"]
    return {"feature": row["feature"], "model": row["model"], "streamed_requests": row["streamed"],
            "ttft_p50_ms": t50, "ttft_p95_ms": t95, "generation_p50_ms": g50, "generation_p95_ms": g95,
            "latency_p95_ms": row["latency_p95"], "p95_tail_ttft_share": ratio(row["tail_ttft"],
            row["tail_ttft"] + row["tail_gen"]), "dominant_segment": _dominant(row),
            "generation_tokens_per_s": ratio(row["out_tokens"], row["gen_total"] / 1000)}


def _segment_figures(raw: list[dict], counts: dict) -> dict[str, float]:
    """Return the pooled bottleneck figures (all 0 when nothing was streamed)."""
    t, g, tail_t, tail_g, out = _sums(raw, ("ttft_total", "gen_total", "tail_ttft", "tail_gen", "out_tokens"))
    dominant = [_dominant(r) for r in raw]
    return {"requests": counts["requests"], "streamed_requests": counts["streamed"], "ttft_share": ratio(t, t + g),
            "generation_share": ratio(g, t + g), "p95_tail_ttft_share": ratio(tail_t, tail_t + tail_g),
            "ttft_dominated_pairs": dominant.count("ttft"), "generation_dominated_pairs": dominant.count("generation"),
            "generation_tokens_per_s": ratio(out, g / 1000)}


def _split_notes(counts: dict) -> list[str]:
    """Return the TTFT caveat, and how many requests were logged unstreamed (they cannot be split)."""
    unstreamed = counts["unstreamed"]
    return [TTFT_NOTE] + ([f"{unstreamed} unstreamed requests (ttft_ms 0) cannot be split"] if unstreamed else [])


@apex_tool(BOTTLENECK, "Split streamed requests' latency into time to first token (incl. queueing) and "
                       "generation; per feature and model: p50/p95 of each, tokens/s, and which segment "
                       "dominates the p95 tail.", Scope)
def latency_bottleneck_identifier(ctx: ToolContext, args: Scope) -> ToolResult:
    """Find whether TTFT or generation dominates latency, per (feature, model).

    Args:
        ctx: The analytics store and price catalog.
        args: The scope.

    Returns:
        Pooled shares as figures and one row per streamed (feature, model).
    """
    q = Queries(ctx.store)
    counts = q.one(_COUNT_SQL, args)
    if not counts["requests"]:
        return empty(BOTTLENECK, BOTTLENECK_FIGURES, q)
    raw = q.rows(_SEGMENTS_SQL, args, SPLIT)
    rows = [_segment_row(r) for r in raw]
    return SPLIT_RESULT.result(q, args, _segment_figures(raw, counts), rows, _split_notes(counts))
