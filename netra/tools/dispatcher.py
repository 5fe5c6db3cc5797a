"""Run a tool by name: validate its arguments, call it, stamp provenance, report progress.

Every call runs scoped to its context's workspace (`scope.in_workspace`), its shared loads at
one data version (`_cache_replay.memo.pinned`), and its cached result is keyed by that
workspace and the workspace's data version.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable

from pydantic import ValidationError

from netra.errors import ToolArgumentsError
from netra.persistence.cache import Cache
from netra.tools._cache_replay.memo import pinned
from netra.tools.base import ToolContext, ToolResult, ToolSpec
from netra.tools.registry import ToolRegistry
from netra.tools.scope import in_workspace

Listener = Callable[[str, dict[str, Any]], None]


def call_id(name: str, args: dict[str, Any]) -> str:
    """Return a stable id for a call: the same call always gets the same id."""
    digest = hashlib.sha1(json.dumps(args, sort_keys=True, default=str).encode()).hexdigest()
    return f"{name}-{digest[:8]}"


class ToolDispatcher:
    """Runs registered tools against one context; `listener` sees each call and result."""

    def __init__(self, ctx: ToolContext, listener: Listener | None = None, cache: Cache | None = None) -> None:
        self.ctx, self.registry, self.listener = ctx, ToolRegistry(), listener
        self.cache = cache if cache is not None else ctx.cache

    def run(self, name: str, args: dict[str, Any] | None = None) -> ToolResult:
        """Validate `args` against tool `name`'s schema and run it."""
        spec = self.registry.get(name)
        parsed = _validate(spec.args_model, name, args or {})
        plain = _plain(parsed)
        self._emit("tool_call", {"tool": name, "args": plain})
        result = self._in_workspace(spec, parsed, call_id(name, plain))
        self._emit("tool_result", _summary(result))
        return result

    def _in_workspace(self, spec: ToolSpec, parsed: Any, cid: str) -> ToolResult:
        """Run the call with every query scoped to the context's workspace, the memo's data version read once."""
        with in_workspace(self.ctx.workspace_id), pinned():
            return self._cached(spec, parsed, cid)

    def _cached(self, spec: ToolSpec, parsed: Any, cid: str) -> ToolResult:
        key = self._key(cid)
        hit = self.cache.get(key) if key else None
        if hit is not None:
            return ToolResult.model_validate_json(hit).model_copy(update={"cached": True})
        result = spec.fn(self.ctx, parsed).model_copy(update={"call_id": cid, "args": _plain(parsed)})
        self._keep(key, result)
        return result

    def _keep(self, key: str, result: ToolResult) -> None:
        """Cache `result` under `key` (nothing without a cache)."""
        if key:
            self.cache.set(key, result.model_dump_json().encode())

    def _key(self, cid: str) -> str:
        """Return the cache key of a call in this workspace at its data version ("" without a cache)."""
        if self.cache is None:
            return ""
        workspace = self.ctx.workspace_id
        return f"tool:{workspace}:{self.ctx.store.data_version(workspace)}:{cid}"

    def _emit(self, kind: str, payload: dict[str, Any]) -> None:
        if self.listener is not None:
            self.listener(kind, payload)


def _plain(parsed: Any) -> dict[str, Any]:
    return parsed.model_dump(mode="json", exclude_none=True)


def _summary(result: ToolResult) -> dict[str, Any]:
    return {"tool": result.tool, "call_id": result.call_id, "cached": result.cached,
            "figures": {k: f.value for k, f in result.figures.items()}}


def _validate(model, name: str, args: dict[str, Any]):
    try:
        return model.model_validate(args)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(args)'}: {e['msg']}" for e in exc.errors())
        raise ToolArgumentsError(f"invalid arguments for {name}: {problems}") from exc
