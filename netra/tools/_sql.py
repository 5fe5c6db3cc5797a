"""Private helpers for the analysis tools: scoped queries kept as evidence, result building,
and the prefix blocks seen at two different times that `kv_cache_finder` replays.

Query templates hold two placeholders filled here: `{where}` (the scope's bound-parameter
WHERE clause from `scope.where`) and `{column}` (a column name the tool took from its own
fixed whitelist table, never from caller text). Values always travel as bound parameters.
SELECT aliases must never equal a column name: ClickHouse would read `sum(x) AS x` inside
another aggregate of `x` as a nested aggregate.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from netra.persistence.analytics import AnalyticsStore
from netra.tools.base import Evidence, ToolResult
from netra.tools.scope import Scope, fig, span_days, where

ROW_DIGITS = 8
EMPTY_NOTE = "no events match the scope; every figure is 0"

# Billable token classes (disjoint, named as in `catalog.TOKEN_CLASSES`), summed per group.
TOKEN_CLASS_SQL = """
  sum(greatest(toInt64(input_tokens) - cached_input_tokens - cache_write_tokens, 0)) AS input,
  sum(cached_input_tokens) AS cache_read,
  sum(cache_write_tokens) AS cache_write,
  sum(greatest(toInt64(output_tokens) - reasoning_tokens, 0)) AS output,
  sum(reasoning_tokens) AS reasoning"""

FigureSpec = Mapping[str, tuple[str, str]]


class Queries:
    """Runs scoped SQL on one store and keeps every query (text and bound params) as evidence."""

    def __init__(self, store: AnalyticsStore) -> None:
        self.store, self.evidence = store, []

    def rows(self, template: str, scope: Scope, extra: str = "",
             params: Mapping[str, Any] | None = None, column: str = "") -> list[dict]:
        """Run `template` over the scope (plus `extra`); return its rows.

        Args:
            template: SQL with `{where}` and optionally `{column}` placeholders.
            scope: the events to read.
            extra: one more fixed condition (bound parameters only).
            params: values for the bound parameters `template` and `extra` use.
            column: a whitelisted column name for `{column}`.
        """
        clause, bound = where(scope, extra)
        sql = template.replace("{where}", clause).replace("{column}", column)
        bound = {**bound, **(params or {})}
        self.evidence.append(Evidence(sql=sql, params=bound))
        return self.store.rows(sql, bound)

    def one(self, template: str, scope: Scope, extra: str = "") -> dict:
        """Run an aggregate without GROUP BY (always one row) and return that row."""
        return self.rows(template, scope, extra)[0]

    def span(self, scope: Scope) -> float:
        """Return the days the scoped events span, keeping the query as evidence."""
        days, evidence = span_days(self.store, scope)
        self.evidence.append(evidence)
        return days


def ratio(part: float, whole: float) -> float:
    """Return part / whole, or 0 when `whole` is 0."""
    return float(part) / float(whole) if whole else 0.0


def plain(value: Any) -> Any:
    """Round a float for a result row (NaN and infinities become 0); leave other values."""
    if isinstance(value, float):
        return round(value, ROW_DIGITS) if math.isfinite(value) else 0.0
    return value


def clean(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return `row` with its floats rounded."""
    return {k: plain(v) for k, v in row.items()}


def finish(tool: str, spec: FigureSpec, values: Mapping[str, float], rows: list[dict],
           queries: Queries, notes: list[str]) -> ToolResult:
    """Build a tool's result: one figure per `spec` entry, cleaned rows, the evidence.

    Args:
        tool: the tool's name.
        spec: figure name -> (unit, label); `values` must hold every name.
        values: the computed figure values.
        rows: the tool's small table.
        queries: the recorder whose evidence the result carries.
        notes: human-readable caveats.
    """
    figures = {k: fig(plain(float(values[k])), unit, label) for k, (unit, label) in spec.items()}
    return ToolResult(tool=tool, figures=figures, rows=[clean(r) for r in rows],
                      evidence=list(queries.evidence), notes=notes)


def empty(tool: str, spec: FigureSpec, queries: Queries) -> ToolResult:
    """Return the result of a scope with no events: every figure 0 and a note saying so."""
    return finish(tool, spec, dict.fromkeys(spec, 0.0), [], queries, [EMPTY_NOTE])


# ---- prefix blocks seen at two different times (kv_cache_finder) ----

# the scope's blocks seen at two different times, with their first-seen time (a block seen
# at one time only is never hit): the scope's blocks exploded and grouped
REPEATED_SCOPED_SQL = """SELECT h, min(timestamp) AS first_seen
    FROM workload_events ARRAY JOIN prefix_hashes AS h {where}
    GROUP BY h HAVING max(timestamp) > first_seen"""

# The same for every stored event, from `kv_prefix_seen` (kept on insert, see
# `persistence/_ddl.py`), which may hold a hash in several parts until they merge. A hash
# seen twice is counted twice within one part (n >= 2) or held by two parts, so by some
# part other than the largest: only those candidates are grouped, and the largest part is
# read through its primary key. Exact in any merge state; milliseconds once it is one part.
REPEATED_ALL_SQL = """SELECT h, CAST(min(first_ts) AS DateTime64(3, 'UTC')) AS first_seen FROM kv_prefix_seen
    WHERE h IN (SELECT h FROM kv_prefix_seen WHERE n >= 2
                UNION ALL SELECT h FROM kv_prefix_seen WHERE _part != (
                  SELECT name FROM system.parts WHERE database = currentDatabase()
                    AND table = 'kv_prefix_seen' AND active ORDER BY rows DESC, name LIMIT 1))
    GROUP BY h HAVING max(last_ts) > first_seen"""

PREFIX_PARTS_SQL = """SELECT count() AS parts, sum(rows) AS total, max(rows) AS largest
    FROM system.parts WHERE database = currentDatabase() AND table = 'kv_prefix_seen' AND active"""
# merge every part of `kv_prefix_seen` into one
COMPACT_SQL = "OPTIMIZE TABLE kv_prefix_seen FINAL SETTINGS optimize_skip_merged_partitions = 1"
# compact once the parts besides the largest hold more than this share of the rows: below
# it, grouping their candidates costs less than rewriting the whole table
COMPACT_SHARE = 0.1


def repeated_blocks(store: AnalyticsStore, clause: str) -> str:
    """Return the SQL of the repeated blocks of a scope (`clause`: its WHERE, "" for all events).

    With no scope they are read from `kv_prefix_seen`, compacted first when that pays.
    """
    if clause:
        return REPEATED_SCOPED_SQL.replace("{where}", clause)
    _compact(store)
    return REPEATED_ALL_SQL


def _compact(store: AnalyticsStore) -> None:
    """Merge `kv_prefix_seen` into one part when its smaller parts hold much of it."""
    parts = store.rows(PREFIX_PARTS_SQL)[0]
    if parts["parts"] < 2 or parts["total"] - parts["largest"] <= COMPACT_SHARE * parts["total"]:
        return
    try:
        store.client.command(COMPACT_SQL)
    except Exception:  # noqa: BLE001 - e.g. a read-only user: REPEATED_ALL_SQL stays exact, only slower
        pass
