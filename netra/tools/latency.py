"""Latency tool: end-to-end latency and time-to-first-token percentiles, and error rate.

Percentiles use ClickHouse `quantileExact`, which returns the element at index
floor(level * n) of the sorted values (the last one when that runs past the end), so
answers are exact and reproducible. TTFT covers streamed requests only (`ttft_ms > 0`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from netra.tools._sql import Queries, empty, finish, ratio
from netra.tools.base import ToolContext, ToolResult
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope

LATENCY_ANALYZER = "latency_analyzer"

GroupBy = Literal["feature", "model"]
# group a caller may pick -> the column it groups by (the only columns that reach SQL text)
GROUP_COLUMNS: dict[str, str] = {"feature": "feature", "model": "model"}

# SQL array alias -> the figure names of its elements, in order
QUANTILE_FIGURES: dict[str, tuple[str, ...]] = {
    "latency": ("latency_p50_ms", "latency_p90_ms", "latency_p95_ms", "latency_p99_ms"),
    "ttft": ("ttft_p50_ms", "ttft_p90_ms", "ttft_p95_ms"),
}

_STATS_SQL = """count() AS requests, countIf(status != 'ok') AS errors, countIf(ttft_ms > 0) AS streamed,
  quantilesExact(0.5, 0.9, 0.95, 0.99)(latency_ms) AS latency,
  quantilesExactIf(0.5, 0.9, 0.95)(ttft_ms, ttft_ms > 0) AS ttft,
  sumIf(output_tokens, status = 'ok' AND latency_ms > 0) AS ok_output,
  sumIf(latency_ms, status = 'ok' AND latency_ms > 0) AS ok_latency_ms"""

_OVERALL_SQL = f"""
SELECT {_STATS_SQL}
FROM workload_events {{where}}"""

_GROUPS_SQL = f"""
SELECT {{column}} AS name, {_STATS_SQL}
FROM workload_events {{where}}
GROUP BY name ORDER BY requests DESC, name ASC"""

LATENCY_FIGURES = {
    "latency_p50_ms": ("ms", "median end-to-end latency"),
    "latency_p90_ms": ("ms", "90th percentile end-to-end latency"),
    "latency_p95_ms": ("ms", "95th percentile end-to-end latency"),
    "latency_p99_ms": ("ms", "99th percentile end-to-end latency"),
    "ttft_p50_ms": ("ms", "median time to first token (streamed requests)"),
    "ttft_p90_ms": ("ms", "90th percentile time to first token (streamed requests)"),
    "ttft_p95_ms": ("ms", "95th percentile time to first token (streamed requests)"),
    "output_tokens_per_s": ("tokens/s", "output tokens per second of end-to-end latency (ok requests)"),
    "error_rate": ("ratio", "share of requests whose status is not ok"),
    "requests": ("requests", "requests in scope"),
    "streamed_requests": ("requests", "requests that were streamed (ttft_ms > 0)"),
}

NO_STREAMING_NOTE = "no streamed requests (ttft_ms > 0) in scope; the TTFT figures are 0"


class LatencyArgs(Scope):
    """Scope plus the dimension to break latency down by."""

    group_by: GroupBy = Field("feature", description="one row per value of this dimension")


@apex_tool(LATENCY_ANALYZER, "Latency p50/p90/p95/p99, time-to-first-token p50/p90/p95 over streamed "
           "requests, output tokens per second and error rate, overall and per feature or model.",
           LatencyArgs)
def latency_analyzer(ctx: ToolContext, args: LatencyArgs) -> ToolResult:
    """Return the overall latency figures and one row per `args.group_by` value."""
    q = Queries(ctx.store)
    overall = q.one(_OVERALL_SQL, args)
    if not overall["requests"]:
        return empty(LATENCY_ANALYZER, LATENCY_FIGURES, q)
    notes = [] if overall["streamed"] else [NO_STREAMING_NOTE]
    return finish(LATENCY_ANALYZER, LATENCY_FIGURES, _stats(overall), _groups(q, args), q, notes)


def _groups(q: Queries, args: LatencyArgs) -> list[dict[str, Any]]:
    """Return one stats row per value of `args.group_by`."""
    found = q.rows(_GROUPS_SQL, args, column=GROUP_COLUMNS[args.group_by])
    return [{args.group_by: r["name"], **_stats(r)} for r in found]


def _stats(row: dict[str, Any]) -> dict[str, Any]:
    """Turn one SQL stats row into named figures (percentiles, error rate, counts)."""
    quantiles = {name: float(value) for alias, names in QUANTILE_FIGURES.items()
                 for name, value in zip(names, row[alias])}
    return {"requests": row["requests"], "streamed_requests": row["streamed"], **quantiles,
            "error_rate": ratio(row["errors"], row["requests"]),
            "output_tokens_per_s": ratio(row["ok_output"], row["ok_latency_ms"] / 1000)}
