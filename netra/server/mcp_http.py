"""The Apex tools over MCP's Streamable HTTP transport, at `/mcp` of `netra serve`.

    endpoint = mount_mcp(app, settings)      # create_app: the route
    async with endpoint.running(): ...       # the app's lifespan: the SDK's session manager

The server is the one `netra mcp` serves on stdio (`netra.mcp_server.tool_server`): the same
tool list, schemas and error results. What differs is who calls and where:

1. Every HTTP request is authenticated before the MCP SDK sees it, exactly as the REST API:
   a user's bearer JWT (its workspace: `X-Netra-Workspace`, else the personal one; membership
   checked as for `POST /api/tools/{name}`, any role, tools only read), or a workspace key
   with the `read` scope.
   A refusal is an HTTP 401/403/404 whose body is a JSON-RPC error (`id` null, code
   `AUTH_ERROR`, `data.error` the API's slug), which MCP clients show as the error of the call.
2. The workspace found is written into the request's ASGI scope; `tools/call` reads it from
   the request the SDK hands the handler, so each call runs in its own request's workspace
   through the same dispatcher, store, catalog and tool cache as `POST /api/tools/{name}`.
3. The manager runs stateless, answering JSON: no session outlives its request, so nothing
   authenticated once is trusted later, and any worker of a deployment can answer.
4. Bodies are bounded twice: `NETRA_MAX_BODY_BYTES` by the app's body limit (413) and by the
   SDK; tool arguments by the JSON caps of `netra.server.bounded`.
5. Rate limits count `/mcp` like any route. The bearer credential is read, never logged.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import anyio.to_thread
import mcp.types as types
from fastapi import FastAPI
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from netra.config import Settings
from netra.errors import NetraError, ServiceError
from netra.mcp_server import called, run_in, tool_server
from netra.persistence.apikeys import KeyScope, looks_like_key
from netra.persistence.uow import UnitOfWork
from netra.server.auth.deps import bearer_token
from netra.server.auth.errors import AuthError
from netra.server.auth.tokens import token_config, validate_token
from netra.server.deps import AppResources, signed_in
from netra.server.errors import ANSWERS, nearest
from netra.server.keyauth import grant_of
from netra.server.membership import HEADER, membership
from netra.server.ratelimit import rate_limit
from netra.tools import ToolContext

MCP_PATH = "/mcp"
WORKSPACE = "netra.workspace"  # the ASGI scope key the authenticated workspace travels under
AUTH_ERROR = -32001  # JSON-RPC: an implementation-defined server error (-32000..-32099)
NOT_STARTED = "the MCP endpoint starts with the server's lifespan, which is not running"


def jsonrpc_refusal(status: int, code: str, message: str) -> JSONResponse:
    """Return an HTTP error answer whose body is a JSON-RPC error naming `code` (WWW-Authenticate on a 401)."""
    body = {"jsonrpc": "2.0", "id": None, "error": {"code": AUTH_ERROR, "message": message, "data": {"error": code}}}
    headers = {"WWW-Authenticate": f'Bearer error="{code}"'} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def refusal_of(exc: NetraError) -> JSONResponse:
    """Return the answer of a request refused with `exc`: the API's status and slug, as a JSON-RPC error."""
    if isinstance(exc, AuthError):
        return jsonrpc_refusal(exc.status, exc.code, str(exc))
    answer = nearest(ANSWERS, exc)
    return jsonrpc_refusal(answer.status, answer.code, str(exc))


async def caller_workspace(request: Request, resources: AppResources) -> str:
    """Return the workspace the request's credential acts in (AuthError, NotFoundError: refused)."""
    authorization = request.headers.get("authorization")
    async with UnitOfWork(resources.session_factory) as uow:  # type: ignore[arg-type]
        if looks_like_key(bearer_token(authorization)):
            return (await grant_of(uow, authorization, KeyScope.READ)).workspace_id
        claims = await signed_in(validate_token(token_config(resources.settings), bearer_token(authorization)), uow)
        return (await membership(uow, claims, request.headers.get(HEADER) or None)).workspace_id


def workspace_context(resources: AppResources, workspace_id: str) -> ToolContext:
    """Return a tool context over the app's store, catalog and tool cache in `workspace_id`."""
    store, catalog = resources.opened()
    return ToolContext(store, catalog, resources.cache("tool_cache"), workspace_id=workspace_id)


def run_for(resources: AppResources, workspace_id: str, name: str, args: dict[str, Any]) -> types.CallToolResult:
    """Run one tool call in `workspace_id` (blocking: in a worker thread)."""
    return called(lambda: run_in(workspace_context(resources, workspace_id), name, args))


class WorkspaceTools:
    """`tools/call` over HTTP: each call runs in the workspace its own request was authenticated for."""

    async def call_tool(self, ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        """Run the call in the request's workspace, in a worker thread (queries block)."""
        request: Request = ctx.request
        resources: AppResources = request.app.state.resources
        return await anyio.to_thread.run_sync(run_for, resources, request.scope[WORKSPACE], params.name,
                                              dict(params.arguments or {}))


class McpEndpoint:
    """The ASGI app of `/mcp`: authenticate, then hand the request to the SDK's session manager."""

    def __init__(self, settings: Settings) -> None:
        self.manager = StreamableHTTPSessionManager(tool_server(WorkspaceTools()), json_response=True,
                                                    stateless=True, max_request_body_size=settings.max_body_bytes)
        self.started = False

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the session manager for the app's lifetime (it can run once)."""
        async with self.manager.run():
            self.started = True
            try:
                yield
            finally:
                self.started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one HTTP request of the MCP endpoint."""
        answer = await self._answerer(Request(scope, receive))
        await answer(scope, receive, send)

    async def _answerer(self, request: Request) -> ASGIApp:
        """Return who answers: the SDK's manager once the request's workspace is known, else the refusal.

        Over the rate limit, `RateLimitedError` is raised for the app's 429 handler.
        """
        await rate_limit(request)
        try:
            request.scope[WORKSPACE] = await self._workspace(request)
        except NetraError as exc:
            return refusal_of(exc)
        return self.manager.handle_request

    async def _workspace(self, request: Request) -> str:
        """Return the workspace of the request's credential, once the manager and the app's resources run."""
        if not self.started:
            raise ServiceError(NOT_STARTED)
        resources: AppResources = request.app.state.resources
        await resources.start()
        return await caller_workspace(request, resources)


class McpRoute(Route):
    """The `/mcp` route, named in the scope like FastAPI's routes so metrics and rate limits see `/mcp`."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Match as a Route does; add this route to the child scope."""
        match, child = super().matches(scope)
        return match, {**child, "route": self} if match is not Match.NONE else child


def mount_mcp(app: FastAPI, settings: Settings) -> McpEndpoint:
    """Add the `/mcp` route to `app`; return its endpoint (run `endpoint.running()` in the lifespan)."""
    endpoint = McpEndpoint(settings)
    app.router.routes.append(McpRoute(MCP_PATH, endpoint, methods=["GET", "POST", "DELETE"], include_in_schema=False))
    return endpoint
