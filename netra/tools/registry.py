"""The tool registry: tools register themselves as data; the registry lists them and their schemas."""

from __future__ import annotations

from typing import Callable

from pydantic import BaseModel

from netra.errors import ToolNotFoundError
from netra.tools.base import ToolFn, ToolSpec

_TOOLS: dict[str, ToolSpec] = {}


def apex_tool(name: str, description: str, args_model: type[BaseModel],
              family: str = "analysis") -> Callable[[ToolFn], ToolFn]:
    """Register the decorated function as the Apex tool `name`."""
    def register(fn: ToolFn) -> ToolFn:
        _TOOLS[name] = ToolSpec(name, description, args_model, fn, family)
        return fn
    return register


class ToolRegistry:
    """Read-only view of the registered tools."""

    def names(self) -> list[str]:
        """Return tool names, sorted."""
        return sorted(_TOOLS)

    def get(self, name: str) -> ToolSpec:
        """Return the spec of `name`; raise `ToolNotFoundError` naming the known tools."""
        if name not in _TOOLS:
            raise ToolNotFoundError(f"no tool named {name!r}; known tools: {', '.join(self.names())}")
        return _TOOLS[name]

    def specs(self) -> list[ToolSpec]:
        """Return every spec, sorted by name."""
        return [_TOOLS[n] for n in self.names()]

    def json_schemas(self) -> dict[str, dict]:
        """Return {name: JSON schema of its arguments}."""
        return {s.name: s.args_model.model_json_schema() for s in self.specs()}
