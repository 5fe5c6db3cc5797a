"""Prometheus metrics of Netra (server, runs, caches), exposed as text at `GET /health/metrics`.

Routes are labelled by their path template (`/api/tools/{name}`), never by the raw path, so
the label set stays bounded; a request no route matches is labelled `<unmatched>`. The
template is read from the scope the router filled in, so only once routing has happened.

    netra_http_requests_total{method, route, status}        counter
    netra_http_request_duration_seconds{method, route}      histogram
    netra_tool_calls_total{tool, status}                    counter (POST /api/tools/{name})
    netra_agent_executions_total{agent, outcome}            counter (for the agent runner)
    netra_websocket_connections_active                      gauge   (for the WebSocket routes)
    netra_llm_cache_hits_total / _misses_total              counter (the LLM response cache)
    netra_runs_total{outcome}                               counter (agent runs of the API)
    netra_cache_backend_errors_total{cache}                 counter (Redis unreachable: cache missed)
    netra_rate_limited_total{route}                         counter
    netra_rate_limit_backend_errors_total                   counter (Redis unreachable: allowed)
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)
UNMATCHED = "<unmatched>"
TOOL_ROUTE = "/api/tools/{name}"

HTTP_REQUESTS = Counter("netra_http_requests", "HTTP requests answered, by route and status",
                        ["method", "route", "status"], registry=REGISTRY)
HTTP_DURATION = Histogram("netra_http_request_duration_seconds", "Time to answer an HTTP request",
                          ["method", "route"], registry=REGISTRY)
TOOL_CALLS = Counter("netra_tool_calls", "Tool runs over HTTP, by tool and status", ["tool", "status"],
                     registry=REGISTRY)
AGENT_EXECUTIONS = Counter("netra_agent_executions", "Agent executions, by agent and outcome",
                           ["agent", "outcome"], registry=REGISTRY)
WEBSOCKETS_ACTIVE = Gauge("netra_websocket_connections_active", "Open WebSocket connections", registry=REGISTRY)
LLM_CACHE_HITS = Counter("netra_llm_cache_hits", "LLM answers served from the cache", registry=REGISTRY)
LLM_CACHE_MISSES = Counter("netra_llm_cache_misses", "LLM requests the cache could not answer", registry=REGISTRY)
RUNS = Counter("netra_runs", "Agent runs finished, by outcome", ["outcome"], registry=REGISTRY)
CACHE_BACKEND_ERRORS = Counter("netra_cache_backend_errors", "Cache calls that could not reach Redis (treated as a miss)",
                               ["cache"], registry=REGISTRY)
RATE_LIMITED = Counter("netra_rate_limited", "Requests refused with 429, by route", ["route"], registry=REGISTRY)
RATE_LIMIT_BACKEND_ERRORS = Counter("netra_rate_limit_backend_errors",
                                    "Rate-limit checks that could not reach Redis (request allowed)",
                                    registry=REGISTRY)


def exposition() -> tuple[bytes, str]:
    """Return the metrics in the Prometheus text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def route_of(scope: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Return the path template of the route the router matched for `scope`, and its path parameters."""
    return getattr(scope.get("route"), "path", UNMATCHED), scope.get("path_params") or {}


def observe_request(scope: dict[str, Any], status: int, duration_s: float) -> None:
    """Count one answered request and its duration; count a tool call on the tool route."""
    route, params = route_of(scope)
    HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
    HTTP_DURATION.labels(scope["method"], route).observe(duration_s)
    if route == TOOL_ROUTE and scope["method"] == "POST":
        tool = params.get("name", "") if status != 404 else UNMATCHED
        TOOL_CALLS.labels(tool, str(status)).inc()
