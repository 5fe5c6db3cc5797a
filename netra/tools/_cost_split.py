"""Private helpers of `cost_analyzer`: cost by priced token class, for the scope and per breakdown.

Token classes are summed in SQL per (breakdown key, model, pricing key) and priced here, one
class at a time, by the one pricing function (`pricing.price_classes` through `GroupCosts`):
the same mode, long-context tier and refused requests at $0 as ingest. The six classes of
`pricing.CLASSES` are disjoint, so with an unchanged catalog they add up to `cost_usd`.
Models the catalog does not know add $0 (`cost_analyzer` already notes them as unpriced).
Breakdown keys only come from `BREAKDOWN_COLUMNS`; values are bound by `Queries`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from netra.tools._sql import PRICE_GROUP_SQL, PRICED_SQL, GroupCosts, Queries
from netra.tools.scope import Scope
from netra.workloads.catalog import PRICE_CLASSES, PriceCatalog

BreakdownDimension = Literal["model", "provider", "user_id", "feature", "day"]
# dimension a caller may pick -> the SQL expression it groups by (the only text that reaches SQL)
BREAKDOWN_COLUMNS: dict[str, str] = {
    "model": "model", "provider": "provider", "user_id": "user_id", "feature": "feature",
    "day": "toString(toDate(timestamp))"}
CLASS_COLUMNS = tuple(f"{k}_cost_usd" for k in PRICE_CLASSES)

# {keys}: "<expression> AS k_<dimension>, " per breakdown dimension ("" for the whole scope)
_CLASSES_SQL = f"""
SELECT {{keys}}model AS model_name, count() AS requests, sum(cost_usd) AS cost, {PRICED_SQL}
FROM workload_events {{where}}
GROUP BY {{groups}}model_name, {PRICE_GROUP_SQL} ORDER BY {{groups}}model_name, {PRICE_GROUP_SQL}"""


@dataclass(frozen=True)
class Split:
    """The scope's cost per token class (figure name -> USD) and the breakdown rows."""

    totals: dict[str, float]
    rows: list[dict[str, Any]]


def distinct(values: list[str] | None) -> list[str] | None:
    """Return `values` unchanged; raise ValueError naming any dimension given twice."""
    repeated = sorted({v for v in values or [] if values.count(v) > 1})
    if repeated:
        raise ValueError(f"repeated dimension(s): {', '.join(repeated)}")
    return values


def classes_sql(by: list[str]) -> str:
    """Return the token-class query grouped by the `by` dimensions (whitelisted), model and pricing key."""
    keys = "".join(f"{BREAKDOWN_COLUMNS[d]} AS k_{d}, " for d in by)
    return _CLASSES_SQL.replace("{keys}", keys).replace("{groups}", "".join(f"k_{d}, " for d in by))


def by_token_class(catalog: PriceCatalog, q: Queries, scope: Scope, by: list[str]) -> Split:
    """Return the scope's cost per token class and, when `by` is given, one row per combination.

    Args:
        catalog: prices each (model, pricing key) group's token classes.
        q: the recorder the query is kept in as evidence.
        scope: the events to read.
        by: breakdown dimensions (empty: the whole scope only, no rows).
    """
    found = q.rows(classes_sql(by), scope, kind="cost_classes")
    groups: dict[tuple, dict[str, Any]] = {}
    for i, split in enumerate(class_rows(catalog, found)):
        _add(groups.setdefault(tuple(found[i][f"k_{d}"] for d in by), _blank(by, found[i])), found[i], split)
    rows = sorted(groups.values(), key=lambda g: (-round(g["cost_usd"], 9), *(str(g[d]) for d in by)))
    totals = {c: sum(g[c] for g in rows) for c in CLASS_COLUMNS}
    return Split(totals, [{"table": "breakdown", **g} for g in rows] if by else [])


def class_rows(catalog: PriceCatalog, found: list[dict[str, Any]]) -> list[dict[str, float]]:
    """Return each grouped row's cost per class column (`<class>_cost_usd`), priced as ingest prices."""
    by_class = GroupCosts(catalog, found, model="model_name").by_class()
    return [{f"{k}_cost_usd": float(by_class[k][i]) for k in PRICE_CLASSES} for i in range(len(found))]


def _blank(by: list[str], found: dict[str, Any]) -> dict[str, Any]:
    """Return an empty breakdown row keyed by the group's dimension values."""
    return {**{d: found[f"k_{d}"] for d in by}, "requests": 0, "cost_usd": 0.0, **dict.fromkeys(CLASS_COLUMNS, 0.0)}


def _add(row: dict[str, Any], found: dict[str, Any], split: dict[str, float]) -> None:
    """Add one (key, model, pricing key) group to its row: requests, cost and each priced token class."""
    row["requests"] += int(found["requests"])
    row["cost_usd"] += float(found["cost"])
    for column, usd in split.items():
        row[column] += usd
