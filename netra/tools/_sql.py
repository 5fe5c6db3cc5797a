"""Private helpers for the analysis tools: scoped queries kept as evidence, result building,
pricing of grouped token sums, and the prefix blocks seen at two different times that
`kv_cache_finder` replays.

Query templates hold two placeholders filled here: `{where}` (the scope's bound-parameter
WHERE clause from `scope.where`) and `{column}` (a column name the tool took from its own
fixed whitelist table, never from caller text). Values always travel as bound parameters.
SELECT aliases must never equal a column name: ClickHouse would read `sum(x) AS x` inside
another aggregate of `x` as a nested aggregate.
"""

from __future__ import annotations

from types import MappingProxyType

import math
from collections import defaultdict
from typing import Any, Callable, Mapping, TypeVar

import numpy as np

from netra.persistence.analytics import AnalyticsStore
from netra.tools.base import Evidence, ToolResult
from netra.tools.scope import WORKSPACE_CONDITION, Scope, fig, span_of, span_query, where
from netra.workloads.catalog import PriceCatalog
from netra.workloads.pricing import CLASSES, PRICE_KEY_SQL, Priced, class_sums_sql, price_classes

ROW_DIGITS = 8
T = TypeVar("T")
EMPTY_NOTE = "no events match the scope; every figure is 0"

# The billable token classes (`pricing.CLASSES`, disjoint), summed per group: pricing's own SQL.
TOKEN_CLASS_SQL = "\n  " + class_sums_sql()
# The pricing key of a group (`pricing.PRICE_KEY_SQL`): SELECT it and GROUP BY `PRICE_GROUP_SQL`.
PRICE_KEYS = ("is_batch", "service_tier", "status", "billed", "context_tier")
PRICE_GROUP_SQL = ", ".join(PRICE_KEYS)
# what a query that prices its groups selects after its own keys: the pricing key, the class sums
PRICED_SQL = f"{PRICE_KEY_SQL},{TOKEN_CLASS_SQL}"
# the token classes per pair, UTC day and pricing key (routing prices them on a sibling, batching the
# unbatched ones in the Batch API): one query, its rows kept per data version as `DAY_CLASSES`
DAY_CLASSES_SQL = f"""SELECT feature, model, toString(toDate(timestamp)) AS day, {PRICED_SQL}
FROM workload_events {{where}}
GROUP BY feature, model, day, {PRICE_GROUP_SQL}
ORDER BY feature, model, day, {PRICE_GROUP_SQL}"""
DAY_CLASSES = "day_classes"

FigureSpec = Mapping[str, tuple[str, str]]


class Queries:
    """Runs scoped SQL on one store and keeps every query (text and bound params) as evidence."""

    def __init__(self, store: AnalyticsStore) -> None:
        self.store, self.evidence = store, []

    def rows(self, template: str, scope: Scope, extra: str = "",
             params: Mapping[str, Any] | None = None, column: str = "", kind: str = "") -> list[dict]:
        """Run `template` over the scope (plus `extra`); return its rows.

        Args:
            template: SQL with `{where}` and optionally `{column}` placeholders.
            scope: the events to read.
            extra: one more fixed condition (bound parameters only).
            params: values for the bound parameters `template` and `extra` use.
            column: a whitelisted column name for `{column}`.
            kind: when given, the rows are kept per data version under this kind (`kept`): the
                tools of one analysis that run the same query share them, each row read-only (a
                `MappingProxyType`: a caller that writes to one fails instead of changing the next caller's).
        """
        sql, bound = render(template, scope, extra, params, column)
        self.evidence.append(Evidence(sql=sql, params=bound))
        if kind:
            return self.kept_rows(kind, sql, bound)
        return self.store.rows(sql, bound)

    def one(self, template: str, scope: Scope, extra: str = "", kind: str = "") -> dict:
        """Run an aggregate without GROUP BY (always one row) and return that row (kept under `kind`, as `rows`)."""
        return self.rows(template, scope, extra, kind=kind)[0]

    def span(self, scope: Scope) -> float:
        """Return the days the scoped events span, keeping the query as evidence (its value per data version)."""
        sql, params = span_query(scope)
        self.evidence.append(Evidence(sql=sql, params=params))
        return span_of(self.kept("span", sql, params, lambda: self.store.scalar(sql, params)))

    def kept_rows(self, kind: str, sql: str, params: dict[str, Any]) -> list[Mapping[str, Any]]:
        """Return the rows of the bound query, kept per data version under `kind`, each read-only."""
        return self.kept(kind, sql, params, lambda: [MappingProxyType(r) for r in self.store.rows(sql, params)])

    def kept(self, kind: str, sql: str, params: dict[str, Any], load: Callable[[], T]) -> T:
        """Return what `load` gives for the bound query, kept per data version in the store's memo of `kind`."""
        from netra.tools._cache_replay.memo import Loaded, memo_of  # here: that package imports this module
        return memo_of(self.store, kind).get(Loaded(sql, params), load)


def render(template: str, scope: Scope, extra: str = "", params: Mapping[str, Any] | None = None,
           column: str = "") -> tuple[str, dict[str, Any]]:
    """Return `template` over the scope (plus `extra`, `{column}` filled) and its bound parameters."""
    clause, bound = where(scope, extra)
    return template.replace("{where}", clause).replace("{column}", column), {**bound, **(params or {})}


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


class GroupCosts:
    """Rows grouped by the pricing key (`PRICED_SQL`), priced by `pricing.price_classes`.

    Each row is one group of a query `SELECT <keys>, <model>, {PRICED_SQL} ... GROUP BY <keys>,
    <model>, {PRICE_GROUP_SQL}`: its cost is what ingest gives its events (mode, long-context
    tier, 1-hour writes, refused requests at $0). Re-pricing goes through the same function:
    another model per row (`models`), or another pricing key column (`is_batch=...`).
    """

    def __init__(self, catalog: PriceCatalog, rows: list[dict], model: str = "model") -> None:
        self.catalog, self.n = catalog, len(rows)
        self.keys = {k: np.array([r[k] for r in rows], dtype=object) for k in (*PRICE_KEYS, model)}
        self.keys["model"] = self.keys.pop(model)
        self.classes = {k: np.array([float(r.get(k) or 0) for r in rows]) for k in CLASSES}

    def priced(self, models: Any = None, **keys: np.ndarray) -> Priced:
        """Price every row, on `models` (one per row) instead of its own, `keys` columns replaced."""
        chosen = {} if models is None else {"model": np.asarray(models, dtype=object)}
        return price_classes(self.catalog, {**self.keys, **keys, **chosen}, self.classes)

    def cost(self, models: Any = None, **keys: np.ndarray) -> np.ndarray:
        """Return every row's cost in USD (see `priced`)."""
        return self.priced(models, **keys).cost

    def by_class(self) -> dict[str, np.ndarray]:
        """Return every row's cost of each token class alone; the classes add up to `cost()`."""
        return {name: price_classes(self.catalog, self.keys, self._only(name)).cost for name in CLASSES}

    def _only(self, name: str) -> dict[str, np.ndarray]:
        """Return the class sums with every class but `name` set to 0."""
        return {k: v if k == name else np.zeros(self.n) for k, v in self.classes.items()}


def by_pair(rows: list[dict], values: Any) -> dict[tuple[str, str], float]:
    """Sum `values` (one per row) per the rows' (feature, model)."""
    sums: dict[tuple[str, str], float] = defaultdict(float)
    for row, value in zip(rows, values):
        sums[(row["feature"], row["model"])] += float(value)
    return sums


# ---- prefix blocks seen at two different times (kv_cache_finder) ----

# the scope's blocks seen at two different times, with their first-seen time (a block seen
# at one time only is never hit): the scope's blocks exploded and grouped
REPEATED_SCOPED_SQL = """SELECT h, min(timestamp) AS first_seen
    FROM workload_events ARRAY JOIN prefix_hashes AS h {where}
    GROUP BY h HAVING max(timestamp) > first_seen"""

PREFIX_PARTS_SQL = """SELECT count() AS parts, sum(rows) AS total, max(rows) AS largest
    FROM system.parts WHERE database = currentDatabase() AND table = 'kv_prefix_seen' AND active"""

# The hashes some part of `kv_prefix_seen` counts twice: every hash two events of one insert
# share, and every hash two stored events share once the parts merged (the cache replay's first
# read: `_cache_replay._load` checks that it missed none of the scope's shared blocks).
COUNTED_TWICE_SQL = "SELECT h FROM kv_prefix_seen WHERE workspace_id = {workspace_id:String} AND n >= 2"
# A superset of the hashes two stored events of the workspace hold, from `kv_prefix_seen`
# without merging it (no OPTIMIZE, no FINAL). Each part holds a hash once, with its count `n`.
# Once one part holds nearly every row, one scan finds them: counted twice within one part, or
# held by a part other than the largest (so maybe seen twice); the set stays small.
PART_CANDIDATES_SQL = """SELECT h FROM kv_prefix_seen WHERE workspace_id = {workspace_id:String} AND (n >= 2 OR _part != (
      SELECT name FROM system.parts WHERE database = currentDatabase()
        AND table = 'kv_prefix_seen' AND active ORDER BY rows DESC, name LIMIT 1))"""
# Otherwise (a bulk load leaves several large parts) the parts are read merged in hash order (each
# part is sorted by (workspace_id, h): a k-way merge, no hash table): a hash held by two parts comes
# out twice in a row. `neighbor` compares rows within a block only, so the first row of every
# block is kept as well (a few hashes more, one per block of 65,409 rows).
SORTED_CANDIDATES_SQL = """SELECT h FROM (SELECT h, n FROM kv_prefix_seen WHERE workspace_id = {workspace_id:String} ORDER BY h)
      WHERE n >= 2 OR h = neighbor(h, -1) OR rowNumberInBlock() = 0
      SETTINGS allow_deprecated_error_prone_window_functions = 1"""
# the part scan is used while the parts besides the largest hold at most this share of the rows
# and this many (a set of them stays in the CPU's cache: each event's hashes are tested against it)
MERGED_SHARE = 0.1
SCANNED_ROWS = 65_536

# The repeated blocks of a scope of the whole workspace, from `kv_prefix_seen` (first and last
# time of every block of the workspace's events, kept on insert) without exploding any event:
# only the candidates' rows are grouped.
REPEATED_SEEN_SQL = """SELECT h, min(first_ts) AS first_seen FROM kv_prefix_seen
    WHERE workspace_id = {workspace_id:String} AND h IN ({candidates})
    GROUP BY h HAVING max(last_ts) > first_seen"""
# the clause `scope.where` builds for a scope that filters nothing but the workspace
WHOLE_WORKSPACE = "WHERE " + WORKSPACE_CONDITION


def prefix_candidates(store: AnalyticsStore) -> str:
    """Return the SQL of the hashes two stored events may share: a part scan while merged, else a sorted read."""
    parts = store.rows(PREFIX_PARTS_SQL)[0]
    merged = parts["total"] - parts["largest"] <= min(MERGED_SHARE * parts["total"], SCANNED_ROWS)
    return PART_CANDIDATES_SQL if merged else SORTED_CANDIDATES_SQL


def repeated_blocks(store: AnalyticsStore, clause: str) -> str:
    """Return the SQL of the repeated blocks of a scope (`clause`: its WHERE, always holding the workspace)."""
    if clause == WHOLE_WORKSPACE:
        return REPEATED_SEEN_SQL.replace("{candidates}", prefix_candidates(store))
    return REPEATED_SCOPED_SQL.replace("{where}", clause)
