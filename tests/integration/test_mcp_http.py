"""`/mcp` of `netra serve`: the MCP SDK's Streamable HTTP client against a real uvicorn server.

Alice's and Bob's personal workspaces each hold their own events. Over MCP, Alice (her
bearer JWT, or a `read` key of her workspace) lists the tools and gets the figures the REST
tools API gives her; Bob sees only his events; a request without a credential, a key
without `read`, or a workspace the caller is not a member of is refused with a JSON-RPC
error; bad calls come back as error results; an oversized body is refused; no credential
reaches the logs.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any, Iterator

import httpx
import httpx2
import pytest
from mcp import ClientSession, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from netra.server import create_app
from netra.tools import ToolRegistry
from tests.support.factories import at, load
from tests.integration.api.conftest import Api, embedded_settings
from tests.integration.api.seeding import workspace_of
from tests.integration.api.workspaces import key_of
from tests.support.servers import serving

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "curl", "version": "1"}}}
ACCEPT = {"Accept": "application/json, text/event-stream"}
ZERO = {"cached_input_tokens": 0, "cache_write_tokens": 0, "reasoning_tokens": 0, "is_batch": 0,
        "provider": "openai", "status": "ok", "user_id": "u1"}
ALICE_FEATURE = "alice_quarterly_forecast"


def event(days: float, feature: str, model: str, tokens: tuple[int, int]) -> dict[str, Any]:
    """One priced-model event of `tokens` (input, output)."""
    return {**ZERO, "timestamp": at(days), "feature": feature, "model": model, "input_tokens": tokens[0],
            "output_tokens": tokens[1]}


ALICE = [event(0, ALICE_FEATURE, "gpt-4o", (1000, 200)), event(1, ALICE_FEATURE, "gpt-4o", (2000, 100)),
         event(2, "search", "gpt-4o-mini", (500, 50))]
BOB = [event(0, "bob_chat", "gpt-4o-mini", (700, 70))]


@dataclass
class World:
    """The running server and its two users' clients (REST) and bearer tokens."""

    api: Api
    tokens: dict[str, str]
    workspaces: dict[str, str]

    @property
    def mcp(self) -> str:
        """The URL of the MCP endpoint."""
        return f"{self.api.url}/mcp"

    def rest(self, who: str) -> httpx.Client:
        """A REST client of `who` (alice, bob)."""
        return self.api.client({"Authorization": f"Bearer {self.tokens[who]}"})


def planted(api: Api, store: Any, catalog: Any) -> World:
    """Sign Alice and Bob in; plant each one's events in their personal workspace."""
    tokens = {who: api.token(f"{who}@example.com") for who in ("alice", "bob")}
    found = World(api, tokens, {})
    found.workspaces = {who: workspace_of(found.rest(who)) for who in tokens}
    for who, events in (("alice", ALICE), ("bob", BOB)):
        load(store, catalog, [e | {"workspace_id": found.workspaces[who]} for e in events])
    return found


@pytest.fixture(scope="module")
def world(session_store, catalog, tmp_path_factory) -> Iterator[World]:
    """A server with its lifespan over SQLite records; Alice's and Bob's events in their personal workspaces."""
    settings = embedded_settings(tmp_path_factory.mktemp("mcp-http"))
    session_store.truncate()
    with serving(lambda url: create_app(settings, store=session_store, catalog=catalog), lifespan="on") as url:
        api = Api(url, settings)
        yield planted(api, session_store, catalog)
        api.close()


async def _session_calls(url: str, headers: dict[str, str], calls: list[tuple[str, dict]]) -> tuple[list[str], list]:
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        async with streamable_http_client(url, http_client=http) as (read, write), ClientSession(read, write) as s:
            await s.initialize()
            names = [tool.name for tool in (await s.list_tools()).tools]
            return names, [await s.call_tool(name, args) for name, args in calls]


def over_mcp(url: str, credential: str, calls: list[tuple[str, dict]], **headers: str) -> tuple[list[str], list]:
    """List the tools and make `calls` in one MCP session with `credential`; return the names and results."""
    sent = {"Authorization": f"Bearer {credential}", **headers}
    return asyncio.run(asyncio.wait_for(_session_calls(url, sent, calls), timeout=120))


def figures(result: CallToolResult) -> dict[str, Any]:
    """Return the figures of a successful result, checked to be its JSON text content too."""
    assert not result.is_error, result.content[0].text
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content["figures"]


# the calls compared with the REST tools API
COMPARED = [("cost_analyzer", {"feature": ALICE_FEATURE}), ("latency_analyzer", {"group_by": "model"})]


def test_lists_the_tools_and_answers_the_rest_figures(world):
    names, results = over_mcp(world.mcp, world.tokens["alice"], COMPARED)
    assert sorted(names) == ToolRegistry().names()
    rest = world.rest("alice")
    for (name, args), result in zip(COMPARED, results):
        assert figures(result) == rest.post(f"/api/tools/{name}", json=args).json()["figures"]
    assert figures(results[0])["requests"]["value"] == 2
    assert figures(results[0])["total_cost_usd"]["value"] == pytest.approx(3000 * 2.5e-6 + 300 * 1e-5, rel=1e-9)


def test_another_workspace_is_not_visible(world):
    _, (mine,) = over_mcp(world.mcp, world.tokens["bob"], [("cost_analyzer", {})])
    assert figures(mine)["requests"]["value"] == len(BOB) and ALICE_FEATURE not in json.dumps(mine.structured_content)
    refused = httpx.post(world.mcp, json=INITIALIZE, timeout=30, headers={
        **ACCEPT, "Authorization": f"Bearer {world.tokens['bob']}", "X-Netra-Workspace": world.workspaces["alice"]})
    assert (refused.status_code, refused.json()["error"]["data"]["error"]) == (404, "not_found")


def test_a_read_key_acts_in_its_workspace(world):
    key = key_of(world.rest("alice"), world.workspaces["alice"], "read")["key"]
    _, (result,) = over_mcp(world.mcp, key, [("cost_analyzer", {})])
    assert figures(result)["requests"]["value"] == len(ALICE)


# credential (None: no header, "ingest": a key of Alice's without `read`), status, error slug
REFUSALS = [(None, 401, "missing_token"), ("nk_not_a_real_key", 401, "invalid_token"),
            ("ingest", 403, "insufficient_scope"), ("not-a-jwt", 401, "invalid_token")]


@pytest.mark.parametrize(("credential", "status", "code"), REFUSALS, ids=[c for _, _, c in REFUSALS])
def test_refusals_are_json_rpc_errors(world, credential: str | None, status: int, code: str):
    if credential == "ingest":
        credential = key_of(world.rest("alice"), world.workspaces["alice"], "ingest")["key"]
    auth = {"Authorization": f"Bearer {credential}"} if credential else {}
    answer = httpx.post(world.mcp, json=INITIALIZE, headers={**ACCEPT, **auth}, timeout=30)
    body = answer.json()
    assert (answer.status_code, body["jsonrpc"], body["error"]["data"]["error"]) == (status, "2.0", code)
    assert body["error"]["message"] and (status != 401 or answer.headers["www-authenticate"].startswith("Bearer"))


def test_the_sdk_client_sees_the_refusal(world):
    with pytest.raises(BaseExceptionGroup) as raised:  # the client's task groups wrap the error of initialize
        asyncio.run(asyncio.wait_for(_session_calls(world.mcp, {}, []), timeout=60))
    assert raised.group_contains(MCPError, match="send an 'Authorization: Bearer <token>' header")


def nested(levels: int) -> Any:
    """Return a value of lists nested `levels` deep."""
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


# tool, arguments, parts of the error text
BAD_CALLS = [("latency_analyzer", {"group_by": "planet"}, ["invalid arguments for latency_analyzer", "group_by"]),
             ("no_such_tool", {}, ["no tool named 'no_such_tool'"]),
             ("cost_analyzer", {"feature": nested(40)}, ["nested deeper than 32 levels"])]


def test_bad_calls_come_back_as_error_results(world):
    _, results = over_mcp(world.mcp, world.tokens["alice"], [(name, args) for name, args, _ in BAD_CALLS])
    for (_, _, parts), result in zip(BAD_CALLS, results):
        assert result.is_error and all(part in result.content[0].text for part in parts), result.content[0].text


def test_an_oversized_body_is_refused(world):
    huge = {**INITIALIZE, "params": {**INITIALIZE["params"], "pad": "x" * (world.api.settings.max_body_bytes + 1)}}
    answer = httpx.post(world.mcp, json=huge, timeout=30,
                        headers={**ACCEPT, "Authorization": f"Bearer {world.tokens['alice']}"})
    assert answer.status_code == 413


def test_no_credential_reaches_the_logs(world, caplog):
    key = key_of(world.rest("alice"), world.workspaces["alice"], "read")["key"]
    with caplog.at_level(logging.DEBUG):
        over_mcp(world.mcp, key, [("cost_analyzer", {})])
        over_mcp(world.mcp, world.tokens["alice"], [("cost_analyzer", {})])
    assert caplog.records and key not in caplog.text and world.tokens["alice"] not in caplog.text


def test_a_plain_json_rpc_call_needs_no_session(world):
    """One POST of `tools/call` (the curl of docs/mcp.md) is answered in JSON, without a prior initialize."""
    call = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "cost_analyzer", "arguments": {}}}
    answer = httpx.post(world.mcp, json=call, timeout=60,
                        headers={**ACCEPT, "Authorization": f"Bearer {world.tokens['alice']}"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/json"), answer.text
    assert answer.json()["result"]["structuredContent"]["figures"]["requests"]["value"] == len(ALICE)
