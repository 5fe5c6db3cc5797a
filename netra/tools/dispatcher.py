"""Run a tool by name: validate its arguments, call it, stamp provenance, report progress."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable

from pydantic import ValidationError

from netra.errors import ToolArgumentsError
from netra.tools.base import ToolContext, ToolResult
from netra.tools.registry import ToolRegistry

Listener = Callable[[str, dict[str, Any]], None]


def call_id(name: str, args: dict[str, Any]) -> str:
    """Return a stable id for a call: the same call always gets the same id."""
    digest = hashlib.sha1(json.dumps(args, sort_keys=True, default=str).encode()).hexdigest()
    return f"{name}-{digest[:8]}"


class ToolDispatcher:
    """Runs registered tools against one context; `listener` sees each call and result."""

    def __init__(self, ctx: ToolContext, listener: Listener | None = None) -> None:
        self.ctx, self.registry, self.listener = ctx, ToolRegistry(), listener

    def run(self, name: str, args: dict[str, Any] | None = None) -> ToolResult:
        """Validate `args` against tool `name`'s schema and run it."""
        spec = self.registry.get(name)
        parsed = _validate(spec.args_model, name, args or {})
        plain = parsed.model_dump(mode="json", exclude_none=True)
        self._emit("tool_call", {"tool": name, "args": plain})
        result = spec.fn(self.ctx, parsed).model_copy(update={"call_id": call_id(name, plain), "args": plain})
        self._emit("tool_result", _summary(result))
        return result

    def _emit(self, kind: str, payload: dict[str, Any]) -> None:
        if self.listener is not None:
            self.listener(kind, payload)


def _summary(result: ToolResult) -> dict[str, Any]:
    return {"tool": result.tool, "call_id": result.call_id,
            "figures": {k: f.value for k, f in result.figures.items()}}


def _validate(model, name: str, args: dict[str, Any]):
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(args)'}: {e['msg']}" for e in exc.errors())
        raise ToolArgumentsError(f"invalid arguments for {name}: {problems}") from exc
