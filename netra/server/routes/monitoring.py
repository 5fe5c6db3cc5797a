"""Monitoring: the process's counters as JSON, for admins and developers.

    GET /api/monitoring     (role admin or developer; 401 without a token, 403 for a user)
    {"requests": {"total": 120, "by_status": {"2xx": 110, "4xx": 9, "5xx": 1},
                  "by_route": [{"route": "/api/tools", "count": 40}, ...]},      # top 20, most first
     "runs": {"total": 3, "by_outcome": {"success": 2, "error": 1}},
     "agent_executions": {"total": 9, "by_agent": [{"agent": "analysis", "outcome": "ok", "count": 3}, ...]},
     "tool_calls": {"total": 5, "by_tool": {"cost_analyzer": 5}, "by_status": {"200": 5}},
     "llm_cache": {"hits": 4, "misses": 2},
     "rate_limited": {"total": 0, "by_route": {}}, "rate_limit_backend_errors": 0,
     "cache_backend_errors": {"total": 0, "by_cache": {}}, "websockets_active": 0}

The numbers are read from the samples `netra.metrics.REGISTRY.collect()` yields (the same
ones `GET /health/metrics` exposes), so they count since this process started.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable

from fastapi import APIRouter, Depends

from netra.server.deps import require_role, signed_in
from netra.server.metrics import REGISTRY

router = APIRouter(tags=["monitoring"])
TOP_ROUTES = 20
STATUS_CLASSES = ("2xx", "4xx", "5xx")
Sample = tuple[dict[str, str], float]
OPERATORS = [Depends(signed_in), Depends(require_role("admin", "developer"))]

# sample name -> output key
SAMPLES: dict[str, str] = {
    "netra_http_requests_total": "requests",
    "netra_runs_total": "runs",
    "netra_agent_executions_total": "agent_executions",
    "netra_tool_calls_total": "tool_calls",
    "netra_llm_cache_hits_total": "llm_cache_hits",
    "netra_llm_cache_misses_total": "llm_cache_misses",
    "netra_rate_limited_total": "rate_limited",
    "netra_rate_limit_backend_errors_total": "rate_limit_backend_errors",
    "netra_cache_backend_errors_total": "cache_backend_errors",
    "netra_websocket_connections_active": "websockets_active",
}


def read_samples() -> dict[str, list[Sample]]:
    """Return the samples of `SAMPLES` by output key: (labels, value) pairs."""
    found: dict[str, list[Sample]] = {key: [] for key in SAMPLES.values()}
    for family in REGISTRY.collect():
        for sample in family.samples:
            if sample.name in SAMPLES:
                found[SAMPLES[sample.name]].append((sample.labels, sample.value))
    return found


def total(samples: list[Sample]) -> int:
    """Return the sum of the samples."""
    return int(sum(value for _, value in samples))


def by(samples: list[Sample], key: Callable[[dict[str, str]], str]) -> dict[str, int]:
    """Return the sums of the samples grouped by `key(labels)`, keys sorted."""
    sums: dict[str, float] = defaultdict(float)
    for labels, value in samples:
        sums[key(labels)] += value
    return {name: int(sums[name]) for name in sorted(sums)}


def label(name: str) -> Callable[[dict[str, str]], str]:
    """Return the key function that reads label `name`."""
    return lambda labels: labels.get(name, "")


def status_class(labels: dict[str, str]) -> str:
    """Return the status class of a request sample: `200` -> `2xx`."""
    return labels.get("status", "?")[:1] + "xx"


def top_routes(samples: list[Sample]) -> list[dict[str, Any]]:
    """Return the `TOP_ROUTES` routes with the most requests, most first (ties by route)."""
    counts = sorted(by(samples, label("route")).items(), key=lambda item: (-item[1], item[0]))
    return [{"route": route, "count": count} for route, count in counts[:TOP_ROUTES]]


def requests_of(samples: list[Sample]) -> dict[str, Any]:
    """Return the request counters: total, by status class, top routes."""
    classes = {name: 0 for name in STATUS_CLASSES} | by(samples, status_class)
    return {"total": total(samples), "by_status": classes, "by_route": top_routes(samples)}


def agents_of(samples: list[Sample]) -> dict[str, Any]:
    """Return the agent executions: total and one row per (agent, outcome)."""
    rows = [{"agent": labels.get("agent", ""), "outcome": labels.get("outcome", ""), "count": int(value)}
            for labels, value in samples]
    return {"total": total(samples), "by_agent": sorted(rows, key=lambda row: (row["agent"], row["outcome"]))}


def split(*labels: str) -> Callable[[list[Sample]], dict[str, Any]]:
    """Return the shaper that answers the total and the sums by each of `labels` (as `by_<label>`)."""
    return lambda samples: {"total": total(samples), **{f"by_{name}": by(samples, label(name)) for name in labels}}


# output key -> how its samples are shaped
SHAPES: dict[str, Callable[[list[Sample]], Any]] = {
    "requests": requests_of,
    "runs": split("outcome"),
    "agent_executions": agents_of,
    "tool_calls": split("tool", "status"),
    "rate_limited": split("route"),
    "rate_limit_backend_errors": total,
    "cache_backend_errors": split("cache"),
    "websockets_active": total,
}


def monitoring_body(samples: dict[str, list[Sample]]) -> dict[str, Any]:
    """Return the monitoring answer of the samples."""
    body = {key: shape(samples[key]) for key, shape in SHAPES.items()}
    body["llm_cache"] = {"hits": total(samples["llm_cache_hits"]), "misses": total(samples["llm_cache_misses"])}
    return body


@router.get("/api/monitoring", dependencies=OPERATORS)
def monitoring() -> dict[str, Any]:
    """Answer the process's request, run, tool, cache and rate-limit counters."""
    return monitoring_body(read_samples())
