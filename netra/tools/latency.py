"""Latency tool: end-to-end latency and time-to-first-token percentiles, and error rate.

Percentiles use ClickHouse `quantileExact`, which returns the element at index
floor(level * n) of the sorted values (the last one when that runs past the end), so
answers are exact and reproducible. TTFT covers streamed requests only (`ttft_ms > 0`).

Each figure is computed over the events that carry its field (`coverage.HAS`): latency over
those with `latency_ms`, TTFT over those with `ttft_ms`, the error rate over those with a
`status`. When no scoped event carries the field, the figure is None (not in the telemetry)
and a note says how many events lack it; when some lack it, the note says so too.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from netra.tools._sql import Queries, empty, finish, ratio
from netra.tools.base import ToolContext, ToolResult
from netra.tools.coverage import HAS, coverage, coverage_by, needing
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

_TIMED, _STREAMED, _STATUS = HAS["latency_ms"], f"ttft_ms > 0 AND {HAS['ttft_ms']}", HAS["status"]
_STATS_SQL = f"""count() AS requests, countIf(status != 'ok' AND {_STATUS}) AS errors,
  countIf({_STATUS}) AS with_status, countIf({_STREAMED}) AS streamed,
  quantilesExactIf(0.5, 0.9, 0.95, 0.99)(latency_ms, {_TIMED}) AS latency,
  quantilesExactIf(0.5, 0.9, 0.95)(ttft_ms, {_STREAMED}) AS ttft,
  sumIf(output_tokens, status = 'ok' AND latency_ms > 0 AND {_TIMED}) AS ok_output,
  sumIf(latency_ms, status = 'ok' AND latency_ms > 0 AND {_TIMED}) AS ok_latency_ms"""

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
    "error_rate": ("ratio", "share of requests whose status is not ok (of those with a status)"),
    "requests": ("requests", "requests in scope"),
    "streamed_requests": ("requests", "requests that were streamed (ttft_ms > 0)"),
}

NO_STREAMING_NOTE = "no streamed requests (ttft_ms > 0) in scope; the TTFT figures are 0"
# figure -> the fields it is computed from (None when no scoped event carries them)
NEEDS = (needing("latency_ms", *QUANTILE_FIGURES["latency"], "output_tokens_per_s")
         | needing("ttft_ms", *QUANTILE_FIGURES["ttft"], "streamed_requests") | needing("status", "error_rate"))


class LatencyArgs(Scope):
    """Scope plus the dimension to break latency down by."""

    group_by: GroupBy = Field("feature", description="one row per value of this dimension")


@apex_tool(LATENCY_ANALYZER, "Latency p50/p90/p95/p99, time-to-first-token p50/p90/p95 over streamed "
           "requests, output tokens per second and error rate, overall and per feature or model.",
           LatencyArgs)
def latency_analyzer(ctx: ToolContext, args: LatencyArgs) -> ToolResult:
    """Return the overall latency figures and one row per `args.group_by` value."""
    q = Queries(ctx.store)
    overall = q.one(_OVERALL_SQL, args, kind="latency_overall")
    if not overall["requests"]:
        return empty(LATENCY_ANALYZER, LATENCY_FIGURES, q)
    cov = coverage(q, args)
    notes = [] if overall["streamed"] or cov.absent("ttft_ms") else [NO_STREAMING_NOTE]
    return cov.mark(finish(LATENCY_ANALYZER, LATENCY_FIGURES, _stats(overall), _groups(q, args), q, notes), NEEDS)


def _groups(q: Queries, args: LatencyArgs) -> list[dict[str, Any]]:
    """Return one stats row per value of `args.group_by` (None where its events all lack a figure's field)."""
    column = GROUP_COLUMNS[args.group_by]
    found, groups = q.rows(_GROUPS_SQL, args, column=column, kind="latency_groups"), coverage_by(q, args, column)
    return [groups[r["name"]].blank({args.group_by: r["name"], **_stats(r)}, NEEDS) for r in found]


def _stats(row: dict[str, Any]) -> dict[str, Any]:
    """Turn one SQL stats row into named figures (percentiles, error rate, counts)."""
    quantiles = {name: float(value) for alias, names in QUANTILE_FIGURES.items()
                 for name, value in zip(names, row[alias])}
    return {"requests": row["requests"], "streamed_requests": row["streamed"], **quantiles,
            "error_rate": ratio(row["errors"], row["with_status"]),
            "output_tokens_per_s": ratio(row["ok_output"], row["ok_latency_ms"] / 1000)}
