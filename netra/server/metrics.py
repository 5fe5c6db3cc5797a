"""The server's view of `netra.metrics` (kept so routes and middleware import from one place)."""

from __future__ import annotations

from netra.metrics import (AGENT_EXECUTIONS, CACHE_BACKEND_ERRORS, HTTP_DURATION, HTTP_REQUESTS, LLM_CACHE_HITS,
                           LLM_CACHE_MISSES, RATE_LIMIT_BACKEND_ERRORS, RATE_LIMITED, REGISTRY, RUNS, TOOL_CALLS,
                           TOOL_ROUTE, UNMATCHED, WEBSOCKETS_ACTIVE, exposition, observe_request, route_of)

__all__ = ["AGENT_EXECUTIONS", "CACHE_BACKEND_ERRORS", "HTTP_DURATION", "HTTP_REQUESTS", "LLM_CACHE_HITS",
           "LLM_CACHE_MISSES", "RATE_LIMITED", "RATE_LIMIT_BACKEND_ERRORS", "REGISTRY", "RUNS", "TOOL_CALLS",
           "TOOL_ROUTE", "UNMATCHED", "WEBSOCKETS_ACTIVE", "exposition", "observe_request", "route_of"]
