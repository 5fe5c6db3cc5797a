"""Private helpers of `cost_driver_identifier`: grouping by one or more dimensions, and Pareto marks.

Templates hold three placeholders filled by `render` from the whitelist `DIMENSION_COLUMNS`:
`{keys}` ("feature AS name, model AS name_2", ...), `{names}` (the aliases) and `{order}`
("name ASC, name_2 ASC"). With one dimension the SQL is the single-dimension query it always
was. Values (the listed names, the top_n, the Pareto cut) travel as bound parameters.
"""

from __future__ import annotations

from typing import Any

from netra.tools._sql import PRICE_GROUP_SQL, PRICED_SQL, Queries
from netra.tools.scope import Scope

# dimension a caller may pick -> the column it groups by (the only columns that reach SQL text)
DIMENSION_COLUMNS: dict[str, str] = {
    "feature": "feature", "model": "model", "user_id": "user_id", "provider": "provider"}
PARETO_SHARE = 0.8  # the Pareto rows make up this share of cost
_EPS = 1e-9  # a driver reaching exactly 80% ends the Pareto rows despite float rounding

DRIVERS_SQL = """
SELECT {keys}, count() AS requests, sum(cost_usd) AS cost
FROM workload_events {where}
GROUP BY {names} ORDER BY round(cost, 9) DESC, {order}
LIMIT {top_n:UInt32}"""

# token classes per (driver, model, pricing key), priced by `_cost_split.class_rows`
SPLIT_SQL = f"""
SELECT {{keys}}, model AS model_name, {PRICED_SQL}
FROM workload_events {{where}}
GROUP BY {{names}}, model_name, {PRICE_GROUP_SQL} ORDER BY {{names}}, model_name, {PRICE_GROUP_SQL}"""

# every group (listed or not), ranked as DRIVERS_SQL ranks them; those whose cost before them
# is under the cut are the Pareto rows
PARETO_SQL = """
SELECT countIf(cost_before < {pareto_cut:Float64}) AS needed FROM (
  SELECT sum(cost) OVER (ORDER BY round(cost, 9) DESC, {order}
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS cost_before
  FROM (SELECT {keys}, sum(cost_usd) AS cost FROM workload_events {where} GROUP BY {names}))"""


def key_aliases(width: int) -> list[str]:
    """Return the SELECT aliases of `width` dimensions: name, name_2, name_3, ..."""
    return ["name", *(f"name_{i}" for i in range(2, width + 1))]


def render(template: str, dims: list[str]) -> str:
    """Fill `{keys}`, `{names}` and `{order}` of `template` for the whitelisted `dims`."""
    aliases = key_aliases(len(dims))
    parts = {"{keys}": ", ".join(f"{DIMENSION_COLUMNS[d]} AS {a}" for d, a in zip(dims, aliases)),
             "{names}": ", ".join(aliases), "{order}": ", ".join(f"{a} ASC" for a in aliases)}
    for placeholder, text in parts.items():
        template = template.replace(placeholder, text)
    return template


def split_filter(dims: list[str], keys: list[tuple]) -> tuple[str, dict[str, list[str]]]:
    """Return the condition keeping the listed drivers' values (per dimension) and its bound lists.

    With several dimensions this keeps a superset of the listed combinations; the caller skips
    the groups that are not listed.
    """
    params = [a.replace("name", "names", 1) for a in key_aliases(len(dims))]
    extra = " AND ".join(f"{DIMENSION_COLUMNS[d]} IN {{{p}:Array(String)}}" for d, p in zip(dims, params))
    return extra, {p: list(dict.fromkeys(key[i] for key in keys)) for i, p in enumerate(params)}


def mark_pareto(drivers: list[dict[str, Any]], total: float) -> list[dict[str, Any]]:
    """Add `cumulative_share` and `pareto` (cost before the row under 80% of the total) to ranked rows."""
    cumulative = 0.0
    for driver in drivers:
        before, cumulative = cumulative, cumulative + driver["share"]
        driver.update(cumulative_share=cumulative, pareto=total > 0 and before < PARETO_SHARE - _EPS)
    return drivers


def pareto_count(q: Queries, scope: Scope, dims: list[str], total: float) -> int:
    """Return how many groups, largest first and listed or not, make up 80% of the cost."""
    cut = float(total) * (PARETO_SHARE - _EPS)
    return int(q.rows(render(PARETO_SQL, dims), scope, params={"pareto_cut": cut}, kind="pareto")[0]["needed"])
