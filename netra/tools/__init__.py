"""Apex tools: importing this package registers every tool module listed in `_MODULES`."""

from __future__ import annotations

from importlib import import_module

from netra.tools.base import Evidence, Figure, ToolContext, ToolResult
from netra.tools.dispatcher import ToolDispatcher
from netra.tools.registry import ToolRegistry

_MODULES: tuple[str, ...] = (
    "cost", "latency", "usage", "kv_cache", "max_tokens", "batching",
    "routing", "retries", "policies", "report",
)

for _name in _MODULES:
    import_module(f"netra.tools.{_name}")

__all__ = ["Evidence", "Figure", "ToolContext", "ToolDispatcher", "ToolRegistry", "ToolResult"]
