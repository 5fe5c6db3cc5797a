"""Context usage tools: how close requests come to the input limit, and how much input is static.

`context_window_utilization`: a request's utilisation is input_tokens / the model's catalog
`max_input_tokens`; it is *near* the limit when utilisation >= `near`. Requests of a model
with no known limit are counted apart (`unknown_limit_requests`) and named in a note;
`near_share` = near requests / requests with a known limit.

`prompt_bloat_detector`: a prefix block is *static* for a feature when it occurs in at least
`min_requests` of that feature's requests. static tokens = sum over the feature's requests of
their static blocks x block size; `static_share` = static tokens / input tokens. A feature is
flagged when static_share >= `threshold` and it does not cache the static part: its billed
cache reads (`cached_input_tokens`) are under `CACHED_ENOUGH` (half) of its static tokens.
Static blocks come from the events that carry prefix hashes, and `static_share` divides by
their input tokens; whether a feature caches needs cache token counts. When no scoped event
carries a field these need (`coverage`), the figures are None (not in the telemetry), with a note.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from pydantic import Field

from netra.tools._sql import Queries, empty, finish, ratio
from netra.tools.base import ToolContext, ToolResult
from netra.tools.coverage import HAS, CoveredFigures, coverage_by, needing
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope
from netra.workloads.catalog import PriceCatalog

CONTEXT = "context_window_utilization"
BLOAT = "prompt_bloat_detector"
CACHED_ENOUGH = 0.5  # cache reads of at least this share of the static tokens count as caching

_MODELS_SQL = "SELECT DISTINCT model AS name FROM workload_events {where} ORDER BY name"

# the limit of each model comes in as two bound arrays (models, limits); 0 = unknown
_UTILISATION_SQL = """SELECT m AS model_name, f AS feature_name, count() AS requests,
       max(input_tokens) AS max_input, any(lim) AS input_limit,
       countIf(lim > 0 AND input_tokens >= {near:Float64} * lim) AS near_requests,
       countIf(lim > 0 AND input_tokens > lim) AS over_requests
FROM (SELECT model AS m, feature AS f, input_tokens,
             {limits:Array(UInt64)}[indexOf({models:Array(String)}, model)] AS lim
      FROM workload_events {where})
GROUP BY m, f ORDER BY m, f"""

_STATIC_SQL = """SELECT f AS feature_name,
       sum(if(n >= {min_requests:UInt32}, n * bs, 0)) AS static_tokens,
       countIf(n >= {min_requests:UInt32}) AS static_blocks
FROM (SELECT feature AS f, h, count() AS n, any(block_size) AS bs
      FROM workload_events ARRAY JOIN prefix_hashes AS h {where} GROUP BY f, h)
GROUP BY f"""

_TOTALS_SQL = f"""SELECT feature AS feature_name, count() AS requests, sum(input_tokens) AS input_sum,
       sum(cached_input_tokens) AS cached_sum, sumIf(input_tokens, {HAS['prefix_hashes']}) AS hashed_input
FROM workload_events {{where}}
GROUP BY feature_name ORDER BY feature_name"""

_UNKNOWN_LIMIT = "no input limit in the catalog for {model} ({requests} requests): not counted as near"

CONTEXT_FIGURES = {
    "requests": ("requests", "requests in scope"),
    "near_requests": ("requests", "requests at or above `near` of the model's input limit"),
    "near_share": ("ratio", "near requests / requests with a known limit"),
    "over_limit_requests": ("requests", "requests above the catalog input limit"),
    "max_utilization": ("ratio", "largest input tokens / input limit"),
    "unknown_limit_requests": ("requests", "requests of models with no known input limit"),
}
BLOAT_FIGURES = {
    "input_tokens": ("tokens", "input tokens in scope"),
    "static_tokens": ("tokens", "input tokens in static prefix blocks"),
    "static_share": ("ratio", "static tokens / input tokens"),
    "flagged_features": ("features", "features with a large uncached static prefix"),
    "flagged_static_tokens": ("tokens", "static tokens of the flagged features"),
}
# figure or row column -> the fields it is computed from (None when no event carries them)
_CACHING = ("prefix_hashes", "cached_input_tokens")
BLOAT_NEEDS = (needing("prefix_hashes", "static_tokens", "static_share")
               | needing(_CACHING, "flagged_features", "flagged_static_tokens"))
ROW_NEEDS = (needing("prefix_hashes", "static_tokens", "static_blocks", "static_share")
             | needing("cached_input_tokens", "cached_input_tokens")
             | needing(_CACHING, "cached_static_ratio", "flagged"))
BLOAT_RESULT = CoveredFigures(BLOAT, BLOAT_FIGURES, BLOAT_NEEDS)


class ContextArgs(Scope):
    """Scope plus the utilisation counted as near the limit."""

    near: float = Field(0.8, gt=0, le=1, description="share of max_input_tokens counted as near the limit")


class BloatArgs(Scope):
    """Scope plus what makes a block static and a feature bloated."""

    min_requests: int = Field(2, ge=2, description="requests a block must occur in to be static")
    threshold: float = Field(0.5, gt=0, le=1, description="flag at or above this static share")


@lru_cache(maxsize=1)
def _catalog_rows() -> dict[str, dict[str, Any]]:
    """Return the packaged catalog JSON's model rows (fields `ModelPrice` does not keep)."""
    doc = json.loads(resources.files("netra.workloads").joinpath("data/price_catalog.json").read_text())
    return doc["models"]


def catalog_field(catalog: PriceCatalog, model: str, name: str) -> int:
    """Return integer field `name` of `model`'s catalog entry, or 0 when unknown."""
    key = catalog.resolve(model)
    if key is None:
        return 0
    value = getattr(catalog.models[key], name, None) or _catalog_rows().get(key, {}).get(name)
    return int(value or 0)


def _context_row(row: dict[str, Any]) -> dict[str, Any]:
    """Return one (model, feature) utilisation row."""
    limit = int(row["input_limit"])
    return {"model": row["model_name"], "feature": row["feature_name"], "requests": int(row["requests"]),
            "max_input_tokens": limit or None, "near_requests": int(row["near_requests"]),
            "near_share": ratio(row["near_requests"], row["requests"]) if limit else 0.0,
            "over_limit_requests": int(row["over_requests"]), "max_input": int(row["max_input"]),
            "max_utilization": ratio(row["max_input"], limit)}


@dataclass
class Utilisation:
    """The (model, feature) utilisation rows of one call, and what they add up to."""

    rows: list[dict[str, Any]]

    def per_model(self) -> list[dict[str, Any]]:
        """Sum the (model, feature) rows per model, in the order the models first appear."""
        by_model: dict[str, list[dict[str, Any]]] = {}
        for row in self.rows:
            by_model.setdefault(row["model"], []).append(row)
        return [model_total(model, rows) for model, rows in by_model.items()]

    def values(self) -> dict[str, float]:
        """Return the utilisation figures over all (model, feature) rows."""
        rows, known = self.rows, [r for r in self.rows if r["max_input_tokens"]]
        near = sum(r["near_requests"] for r in rows)
        return {"requests": sum(r["requests"] for r in rows), "near_requests": near,
                "near_share": ratio(near, sum(r["requests"] for r in known)),
                "over_limit_requests": sum(r["over_limit_requests"] for r in rows),
                "max_utilization": max((r["max_utilization"] for r in rows), default=0.0),
                "unknown_limit_requests": sum(r["requests"] for r in rows if not r["max_input_tokens"])}

    def result(self, queries: Queries) -> ToolResult:
        """Return the per-model rows, then the per-(model, feature) rows, the figures and notes."""
        per_model = self.per_model()
        tables = per_model + [{"table": "model_feature", **r} for r in self.rows]
        notes = [_UNKNOWN_LIMIT.format(**m) for m in per_model if not m["max_input_tokens"]]
        return finish(CONTEXT, CONTEXT_FIGURES, self.values(), tables, queries, notes)


def model_total(model: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Return one model's totals over its (model, feature) rows."""
    requests, near = sum(r["requests"] for r in rows), sum(r["near_requests"] for r in rows)
    return {"table": "model", "model": model, "requests": requests, "near_requests": near,
            "max_input_tokens": rows[0]["max_input_tokens"],
            "max_utilization": max(r["max_utilization"] for r in rows), "near_share": ratio(near, requests)}


@apex_tool(CONTEXT, "Requests whose input is near the model's input limit (share `near` of catalog "
                    "max_input_tokens): counts, shares and max utilisation per model and feature.", ContextArgs)
def context_window_utilization(ctx: ToolContext, args: ContextArgs) -> ToolResult:
    """Return per-model and per-(model, feature) near-limit counts and utilisation."""
    queries = Queries(ctx.store)
    models = [r["name"] for r in queries.rows(_MODELS_SQL, args)]
    if not models:
        return empty(CONTEXT, CONTEXT_FIGURES, queries)
    limits = [catalog_field(ctx.catalog, m, "max_input_tokens") for m in models]
    params = {"near": args.near, "models": models, "limits": limits}
    return Utilisation([_context_row(r) for r in queries.rows(_UTILISATION_SQL, args, params=params)]).result(queries)


@dataclass
class Bloat:
    """One prompt-bloat call: its queries and arguments, from feature totals to the result."""

    queries: Queries
    args: BloatArgs

    def result(self, totals: list[dict[str, Any]]) -> ToolResult:
        """Return one row per feature (blanked where its events lack a field) and the figures."""
        rows = self.rows(totals)
        groups = coverage_by(self.queries, self.args, "feature")
        blanked = [groups[r["feature"]].blank(r, ROW_NEEDS) for r in rows]
        return BLOAT_RESULT.result(self.queries, self.args, bloat_values(rows), blanked, [])

    def rows(self, totals: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Join each feature's totals with its static-block sums (none when it has no static block)."""
        params = {"min_requests": self.args.min_requests}
        found = self.queries.rows(_STATIC_SQL, self.args, HAS["prefix_hashes"], params=params)
        static = {r["feature_name"]: r for r in found}
        return [self.row(t, static.get(t["feature_name"], {})) for t in totals]

    def row(self, total: dict[str, Any], static: dict[str, Any]) -> dict[str, Any]:
        """Return one feature's static share and whether it is flagged."""
        tokens, cached = int(static.get("static_tokens", 0)), int(total["cached_sum"])
        share = ratio(tokens, total["hashed_input"])
        return {"feature": total["feature_name"], "requests": int(total["requests"]),
                "input_tokens": int(total["input_sum"]), "hashed_input_tokens": int(total["hashed_input"]),
                "static_tokens": tokens, "static_blocks": int(static.get("static_blocks", 0)),
                "static_share": share, "cached_input_tokens": cached, "cached_static_ratio": ratio(cached, tokens),
                "flagged": tokens > 0 and share >= self.args.threshold and cached < CACHED_ENOUGH * tokens}


def bloat_values(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Return the bloat figures over all features."""
    static, inputs = sum(r["static_tokens"] for r in rows), sum(r["input_tokens"] for r in rows)
    flagged, hashed = [r for r in rows if r["flagged"]], sum(r["hashed_input_tokens"] for r in rows)
    return {"input_tokens": inputs, "static_tokens": static, "static_share": ratio(static, hashed),
            "flagged_features": len(flagged), "flagged_static_tokens": sum(r["static_tokens"] for r in flagged)}


@apex_tool(BLOAT, "Static prefix share of input tokens per feature (prefix blocks repeated in at least "
                  "`min_requests` requests); flags features mostly static and not cached.", BloatArgs)
def prompt_bloat_detector(ctx: ToolContext, args: BloatArgs) -> ToolResult:
    """Return one row per feature with its static share, flagged or not."""
    queries = Queries(ctx.store)
    totals = queries.rows(_TOTALS_SQL, args)
    if not totals:
        return empty(BLOAT, BLOAT_FIGURES, queries)
    return Bloat(queries, args).result(totals)
