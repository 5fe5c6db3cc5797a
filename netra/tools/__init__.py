"""Apex tools: importing this package registers every tool module listed in `_MODULES`."""

from __future__ import annotations

from importlib import import_module

from netra.tools.base import Evidence, Figure, ToolContext, ToolResult
from netra.tools.dispatcher import ToolDispatcher
from netra.tools.registry import ToolRegistry

_MODULES: tuple[str, ...] = (
    "cost", "latency", "usage", "kv_cache", "max_tokens", "batching",
    "routing", "retries", "policies", "report",
    "cost_simulation", "anomalies", "forecast", "expensive",
    "performance", "throughput", "error_rates",
    "cache_audit", "cache_policy", "response_cache", "prompt_cache", "context_usage",
    "catalog_tools", "policy_optimal", "rollout", "evaluation", "savings",
)

for _name in _MODULES:
    import_module(f"netra.tools.{_name}")

__all__ = ["Evidence", "Figure", "ToolContext", "ToolDispatcher", "ToolRegistry", "ToolResult"]
