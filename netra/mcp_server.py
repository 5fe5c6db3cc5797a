"""The Apex tools over the Model Context Protocol: `netra mcp` serves them on stdin/stdout.

    tools/list   every registered tool: its name, description, input schema (the JSON schema
                 of its argument model) and output schema (the JSON schema of `ToolResult`)
    tools/call   the arguments are validated and the tool run through `ToolDispatcher`; the
                 `ToolResult` comes back as JSON text content and as structured content

An unknown tool, arguments that fail the tool's schema, or a failed query come back as an
error result (`isError`) whose text is Netra's message (it names the tool or the field), so a
model can correct its call; the server keeps serving.

Every call reads one workspace's events: `local` (the embedded CLI's), or, when the server
is started with a workspace API key with the `read` scope (`netra mcp --key nk_...`, or
NETRA_API_KEY), the key's workspace; the key is checked again at every call, so a revoked key
stops working at once. The analytics store is the one the settings name (NETRA_HOME, or
NETRA_CLICKHOUSE_URL).
Embedded chDB serves one data path per process, so an embedded store is opened for each call
and closed after it: between calls other `netra` commands can use the same NETRA_HOME. Calls
run one at a time, off the event loop.

`netra serve` offers the same tools over MCP's Streamable HTTP transport at `/mcp`
(`netra.server.mcp_http`): one server description (`tool_server`), two ways of calling a
tool (`ToolCaller`). Arguments past the JSON caps of `netra.server.bounded` (32 levels,
64 KiB) are refused as an error result on both.

Built on the low-level server of the official MCP Python SDK (package `mcp`, 2.x).
"""

from __future__ import annotations

import asyncio
import json
import threading
from contextlib import contextmanager
from typing import Any, Iterator, Protocol
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
import mcp.types as types
from clickhouse_connect.driver.exceptions import ClickHouseError
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from pydantic import SecretStr

from netra import __version__
from netra.config import get_settings
from netra.errors import NetraError, ServiceError, ToolArgumentsError
from netra.persistence.analytics import AnalyticsStore, open_store
from netra.persistence.apikeys import KeyScope
from netra.tenancy import LOCAL_WORKSPACE
from netra.tools import ToolContext, ToolDispatcher, ToolRegistry, ToolResult
from netra.tools.base import ToolSpec
from netra.workloads.catalog import PriceCatalog, load_catalog

SERVER_NAME = "netra"
INSTRUCTIONS = ("Netra's Apex tools analyse the LLM workload telemetry in the Netra store: cost, latency, "
                "token usage, caching, routing and policy simulations. Each call returns a ToolResult: "
                "named figures, small tables (rows) and the SQL behind them (evidence).")
RESULT_SCHEMA: dict[str, Any] = ToolResult.model_json_schema()


def tool_listing(spec: ToolSpec) -> types.Tool:
    """Return the MCP description of one Apex tool."""
    return types.Tool(name=spec.name, description=spec.description, output_schema=RESULT_SCHEMA,
                      input_schema=spec.args_model.model_json_schema())


def success_result(result: ToolResult) -> types.CallToolResult:
    """Return a tool's result as JSON text content plus the same data as structured content."""
    data = result.model_dump(mode="json")
    return types.CallToolResult(content=[types.TextContent(type="text", text=json.dumps(data))],
                                structured_content=data)


def error_result(message: str) -> types.CallToolResult:
    """Return an error result (`isError`) carrying `message`."""
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=True)


def checked_arguments(name: str, args: dict[str, Any]) -> dict[str, Any]:
    """Return `args` when they are within the JSON caps; raise ToolArgumentsError naming the cap passed."""
    from netra.server.bounded import problem  # the package imports the app, which imports this module

    found = problem(args)
    if found is not None:
        raise ToolArgumentsError(f"invalid arguments for {name}: the object {found}")
    return args


def run_in(ctx: ToolContext, name: str, args: dict[str, Any]) -> ToolResult:
    """Run tool `name` over `ctx` (ToolNotFoundError, ToolArgumentsError: the call is refused)."""
    ToolRegistry().get(name)
    return ToolDispatcher(ctx).run(name, checked_arguments(name, args))


def called(run: Any, *args: Any) -> types.CallToolResult:
    """Return the result of `run(*args)` (a ToolResult); Netra's errors become an error result with their message."""
    try:
        return success_result(run(*args))
    except NetraError as exc:
        return error_result(str(exc))


def store_failure(url: str, exc: Exception) -> str:
    """Say which store cannot be opened and why, without its credentials: a URL may carry a password."""
    parts = urlsplit(url)
    if parts.scheme == "chdb":
        return f"the embedded store: {exc}"
    return f"the ClickHouse server at {parts.hostname}:{parts.port}: {type(exc).__name__}"


@contextmanager
def settings_context(catalog: PriceCatalog, workspace_id: str) -> Iterator[ToolContext]:
    """Yield a tool context of the workspace over the store the settings name; an embedded store is closed after."""
    url = get_settings().resolved_clickhouse_url()
    store = _opened(url)
    try:
        yield ToolContext(store, catalog, workspace_id=workspace_id)
    finally:
        if url.startswith("chdb://"):
            store.close()


def _opened(url: str) -> AnalyticsStore:
    try:
        return open_store(url)
    except ClickHouseError as exc:
        raise ServiceError(f"cannot open the analytics store, {store_failure(url, exc)}. An embedded store "
                           "serves one process at a time: is another netra command using this NETRA_HOME?") from exc


class ToolCaller(Protocol):
    """How a server runs `tools/call`: the stdio server in its process's workspace, the HTTP one in the caller's."""

    async def call_tool(self, ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        """Run one tool call; Netra's errors come back as an error result."""


class ToolRunner:
    """Runs tool calls one at a time, over `ctx` or else the store of the settings.

    An embedded (chDB) store is opened for each call and closed after it, so `netra` commands
    on the same NETRA_HOME keep working between calls while an MCP client stays connected.
    """

    def __init__(self, ctx: ToolContext | None = None, key: SecretStr | None = None) -> None:
        self._ctx, self._catalog, self._lock, self._key = ctx, None, threading.Lock(), key

    def call(self, name: str, args: dict[str, Any]) -> types.CallToolResult:
        """Run tool `name`; Netra's errors become an error result with their message."""
        with self._lock:
            return called(self._run, name, args)

    async def call_tool(self, ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        """Run one tool in a worker thread (queries block)."""
        return await anyio.to_thread.run_sync(self.call, params.name, dict(params.arguments or {}))

    def _run(self, name: str, args: dict[str, Any]) -> ToolResult:
        if self._ctx is not None:
            return run_in(self._ctx, name, args)
        ToolRegistry().get(name)
        with settings_context(self._price_catalog(), self._workspace()) as ctx:
            return run_in(ctx, name, args)

    def _workspace(self) -> str:
        """Return the workspace of the calls: the key's (checked now: AuthError when refused), else `local`."""
        if self._key is None:
            return LOCAL_WORKSPACE
        return asyncio.run(key_workspace(self._key.get_secret_value()))

    def _price_catalog(self) -> PriceCatalog:
        if self._catalog is None:
            self._catalog = load_catalog()
        return self._catalog


async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
    """List every registered tool (one page)."""
    return types.ListToolsResult(tools=[tool_listing(spec) for spec in ToolRegistry().specs()])


async def key_workspace(key: str) -> str:
    """Return the workspace of a workspace API key granting `read` (AuthError: refused, revoked or no `read`)."""
    from netra.server.auth.records import unit_of_work  # the server's records helpers, only when a key is used
    from netra.server.keyauth import grant_of

    async with unit_of_work(get_settings()) as uow:
        return (await grant_of(uow, f"Bearer {key}", KeyScope.READ)).workspace_id


def tool_server(caller: ToolCaller) -> Server:
    """Return the MCP server of the Apex tools, whose calls `caller` runs."""
    return Server(SERVER_NAME, version=__version__, instructions=INSTRUCTIONS,
                  on_list_tools=list_tools, on_call_tool=caller.call_tool)


def build_server(ctx: ToolContext | None = None, key: SecretStr | None = None) -> Server:
    """Return the stdio server of the Apex tools; `ctx` replaces the store of the settings, `key` picks the workspace."""
    return tool_server(ToolRunner(ctx, key))


async def serve_stdio(server: Server) -> None:
    """Serve `server` on this process's stdin and stdout until the client disconnects."""
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


def run_stdio(key: SecretStr | None = None) -> None:
    """Serve the Apex tools over MCP on stdin/stdout (`netra mcp`), in the key's workspace or `local`."""
    anyio.run(serve_stdio, build_server(key=key))
