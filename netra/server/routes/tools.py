"""Tools: list the Apex tools and run one over HTTP.

    GET  /api/tools          {"tools": [{"name", "family", "description", "input_schema"}, ...]}
    POST /api/tools/{name}   body: the arguments as a JSON object (empty body = no arguments);
                             answers the tool's `ToolResult` as JSON

Both need a bearer token (`signed_in`; 401 without one). A tool reads the events of the
request's workspace only (`X-Netra-Workspace`, default the user's personal one; see
docs/workspaces.md). Results are cached in the app's tool cache (`tool_cache`: Redis when
`NETRA_REDIS_URL` is set), keyed by the workspace and its data version, so a load of new
events is never answered from an older result.
An unknown tool answers 404 (`tool_not_found`, the message lists the known tools); arguments
that fail the tool's schema answer 422 (`invalid_arguments`, the message names each field),
and so do arguments nested deeper than 32 levels or over 64 KiB of JSON (`netra.server.bounded`);
a body that is not JSON, or nests too deeply to parse, answers 400 (`bad_payload`). The
handlers are in `server/errors.py`.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request

from netra.config import Settings
from netra.errors import ToolArgumentsError
from netra.server.bounded import problem
from netra.server.deps import AppResources, get_settings, signed_in
from netra.server.errors import BadPayloadError
from netra.server.limits import limited_body
from netra.server.owned import SignedIn
from netra.tools import ToolContext, ToolDispatcher, ToolRegistry
from netra.tools.base import ToolSpec

router = APIRouter(tags=["tools"])


def tool_entry(spec: ToolSpec) -> dict[str, Any]:
    """Return what `GET /api/tools` says of one tool."""
    return {"name": spec.name, "family": spec.family, "description": spec.description,
            "input_schema": spec.args_model.model_json_schema()}


def parse_arguments(name: str, body: bytes) -> dict[str, Any]:
    """Return the JSON object of `body` ({} when empty); raise on invalid JSON, another shape or past the caps."""
    value = _json(body) if body.strip() else {}
    if not isinstance(value, dict):
        raise ToolArgumentsError(f"invalid arguments for {name}: expected a JSON object, got {type(value).__name__}")
    if (found := problem(value)) is not None:
        raise ToolArgumentsError(f"invalid arguments for {name}: the object {found}")
    return value


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise BadPayloadError(f"body is not valid JSON: {exc}") from exc
    except RecursionError:
        raise BadPayloadError("body nests too deeply to be read as JSON") from None


def get_tool_context(request: Request, user: SignedIn, settings: Settings = Depends(get_settings)) -> ToolContext:
    """Return a tool context over the app's store, price catalog and tool cache, in the request's workspace."""
    resources: AppResources = request.app.state.resources
    store, catalog = resources.opened(settings)
    return ToolContext(store, catalog, resources.cache("tool_cache"), workspace_id=user.workspace_id)


@router.get("/api/tools", dependencies=[Depends(signed_in)])
def list_tools() -> dict[str, list[dict[str, Any]]]:
    """List every registered tool with its argument schema."""
    return {"tools": [tool_entry(spec) for spec in ToolRegistry().specs()]}


@router.post("/api/tools/{name}", dependencies=[Depends(signed_in)])
def run_tool(name: str, body: bytes = Depends(limited_body),
             ctx: ToolContext = Depends(get_tool_context)) -> dict[str, Any]:
    """Validate the arguments against tool `name` and run it."""
    ToolRegistry().get(name)
    return ToolDispatcher(ctx).run(name, parse_arguments(name, body)).model_dump(mode="json")
