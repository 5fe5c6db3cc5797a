"""Response cache estimator: exact duplicate prompts a response cache could have answered.

A response cache keyed on (model, prompt_hash) is replayed over the scoped requests with a
recorded prompt (`prompt_hash != 0`), in `timestamp`, then `request_id` order:

- a request is **served from the cache** when its key holds an entry stored strictly before
  the request (a request at the same instant misses) and less than `ttl_s` seconds before it;
  hits do not refresh the entry (a response cache's TTL runs from the write);
- a request that is not served stores its response, restarting the TTL, only when it
  succeeded (`status = 'ok'`): a failed attempt leaves nothing to serve, so retries of a
  failure are not counted here (`retry_waste_analyzer` counts them).

The saving is the billed cost (`cost_usd`) of the served requests. Rows are per feature (of
the served request); the cache is shared across features. Serving a stored answer is only
safe for deterministic prompts: check the features before enabling it. A request whose source
logs no status is taken as succeeded (stored); a note says how many there are (`coverage`).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from netra.tools._sql import Queries, empty, finish, ratio
from netra.tools.base import ToolContext, ToolResult
from netra.tools.coverage import caveat
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, monthly

TOOL = "response_cache_estimator"
_HASHED = "prompt_hash != 0"

# requests whose (model, prompt_hash) occurs more than once, in replay order per key
_DUPLICATES_SQL = """SELECT feature AS f, model AS m, prompt_hash AS ph,
       toUnixTimestamp64Milli(timestamp) AS ts_ms, status = 'ok' AS ok, cost_usd AS cost
FROM workload_events {where}
  AND (model, prompt_hash) IN (SELECT model, prompt_hash FROM workload_events {where}
                               GROUP BY model, prompt_hash HAVING count() > 1)
ORDER BY model, prompt_hash, timestamp, request_id"""

_FEATURES_SQL = """SELECT feature AS f, count() AS requests, countIf(prompt_hash = 0) AS unhashed,
       sum(cost_usd) AS cost_sum
FROM workload_events {where}
GROUP BY f ORDER BY f"""

_UNHASHED = "{n} requests have no prompt_hash (0) and were not considered"
# what the replay makes of events whose source logs no status (field, consequence)
_NO_STATUS = ("status", "taken as succeeded, so a response cache would have stored their responses")

FIGURES = {
    "requests": ("requests", "requests in scope"),
    "unhashed_requests": ("requests", "requests without a recorded prompt hash"),
    "cacheable_requests": ("requests", "requests a response cache would have served"),
    "cacheable_share": ("ratio", "served requests / requests"),
    "saving_usd": ("USD", "window cost of the served requests"),
    "monthly_saving_usd": ("USD/month", "saving scaled to 30 days"),
}


class ResponseCacheArgs(Scope):
    """Scope plus the response cache's TTL."""

    ttl_s: int = Field(3600, ge=1, description="seconds a stored response stays servable")


def served(rows: list[dict[str, Any]], ttl_ms: int) -> list[dict[str, Any]]:
    """Return the rows (in replay order) a response cache with this TTL would have served."""
    stored: dict[tuple[str, int], int] = {}
    return [row for row in rows if _serve(stored, row, ttl_ms)]


def _serve(stored: dict[tuple[str, int], int], row: dict[str, Any], ttl_ms: int) -> bool:
    """Return whether the cache serves `row`; store its response when it missed and succeeded."""
    key, now = (row["m"], row["ph"]), row["ts_ms"]
    written = stored.get(key, now)
    if written < now and now - written < ttl_ms:
        return True
    if row["ok"]:
        stored[key] = now
    return False


def _feature_rows(features: list[dict[str, Any]], hits: list[dict[str, Any]], days: float) -> list[dict]:
    """Return one row per feature: requests, served requests, saving."""
    by_feature: dict[str, list[float]] = {}
    for hit in hits:
        by_feature.setdefault(hit["f"], []).append(float(hit["cost"]))
    return [_feature_row(f, by_feature.get(f["f"], []), days) for f in features]


def _feature_row(feature: dict[str, Any], costs: list[float], days: float) -> dict[str, Any]:
    """Return one feature's row."""
    saving = sum(costs)
    return {"feature": feature["f"], "requests": int(feature["requests"]),
            "unhashed_requests": int(feature["unhashed"]), "cacheable_requests": len(costs),
            "cacheable_share": ratio(len(costs), feature["requests"]), "cost_usd": float(feature["cost_sum"]),
            "saving_usd": saving, "monthly_saving_usd": monthly(saving, days)}


def _values(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Return the figures summed over the features."""
    totals = {k: sum(r[k] for r in rows) for k in FIGURES if k != "cacheable_share"}
    return {**totals, "cacheable_share": ratio(totals["cacheable_requests"], totals["requests"])}


@apex_tool(TOOL, "Find exact duplicate prompts (same model and prompt_hash) within a TTL that a "
                 "response cache could have answered, and their cost, per feature.", ResponseCacheArgs)
def response_cache_estimator(ctx: ToolContext, args: ResponseCacheArgs) -> ToolResult:
    """Return per-feature served requests and savings of a response cache with TTL `ttl_s`."""
    queries = Queries(ctx.store)
    features = queries.rows(_FEATURES_SQL, args)
    if not features:
        return empty(TOOL, FIGURES, queries)
    hits = served(queries.rows(_DUPLICATES_SQL, args, _HASHED), args.ttl_s * 1000)
    rows = _feature_rows(features, hits, queries.span(args))
    return finish(TOOL, FIGURES, _values(rows), rows, queries, _notes(rows) + caveat(queries, args, *_NO_STATUS))


def _notes(rows: list[dict[str, Any]]) -> list[str]:
    """Say how many requests had no prompt hash, when any had none."""
    unhashed = sum(r["unhashed_requests"] for r in rows)
    return [_UNHASHED.format(n=unhashed)] if unhashed else []
