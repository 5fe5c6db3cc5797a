"""`netra mcp` end to end: the MCP SDK's own client talks to the server over stdio.

The server is a subprocess with its own NETRA_HOME, loaded first by `netra generate`; the
figures it returns are checked against the ground-truth manifest the generator wrote. One
session serves the module: it lists the tools, makes every call of `CALLS`, then contends for
the store with other processes between calls.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Iterator, NamedTuple

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, ListToolsResult

from netra.tools import ToolRegistry
from tests.support import cli

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
NETRA = str(Path(sys.executable).with_name("netra"))
EVENTS = 5000
HOLD = ("import sys; from netra.config import get_settings; from netra.persistence.analytics import open_store; "
        "open_store(get_settings().resolved_clickhouse_url()); print('ready', flush=True); sys.stdin.read()")

# call key -> (tool, arguments): every call of the one scripted session
CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "support_bot": ("cost_analyzer", {"feature": "support_bot"}),
    "total": ("cost_analyzer", {}),
    "by_model": ("latency_analyzer", {"group_by": "model"}),
    "bad_enum": ("latency_analyzer", {"group_by": "planet"}),
    "bad_datetime": ("cost_analyzer", {"start": "yesterday"}),
    "extra_field": ("cost_analyzer", {"dimension": "model"}),
    "unknown_tool": ("no_such_tool", {}),
}


def clean_env(home: Path) -> dict[str, str]:
    """Return this process's environment without NETRA_* or model keys, with NETRA_HOME=home."""
    env = cli.base_environment()
    return env | {"NETRA_HOME": str(home)}


@asynccontextmanager
async def connected(home: Path, errlog: Any) -> AsyncIterator[ClientSession]:
    """Spawn `netra mcp` over `home`; yield an initialized client session with it."""
    server = StdioServerParameters(command=NETRA, args=["mcp"], env={"NETRA_HOME": str(home)})
    async with stdio_client(server, errlog=errlog) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


class Conversation(NamedTuple):
    """What the module's session saw: the tool list, the answers of `CALLS`, what `contend` saw."""

    listed: ListToolsResult
    answers: dict[str, CallToolResult]
    contended: tuple[subprocess.CompletedProcess, CallToolResult, CallToolResult]


async def converse(home: Path, errlog: Any) -> Conversation:
    """List the tools, make every call of `CALLS`, then `contend` (all in one session)."""
    async with connected(home, errlog) as session:
        listed = await session.list_tools()
        answers = {key: await session.call_tool(tool, args) for key, (tool, args) in CALLS.items()}
        return Conversation(listed, answers, await contend(session, home))


@contextmanager
def holding(home: Path) -> Iterator[None]:
    """Hold the store of `home` open in another process for the duration (closing stdin ends it)."""
    with subprocess.Popen([sys.executable, "-c", HOLD], env=clean_env(home), text=True,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE) as holder:
        assert holder.stdout.readline().strip() == "ready", "the store was not free for another process"
        yield  # leaving closes the holder's stdin: it exits and releases the store


async def contend(session: ClientSession, home: Path) -> tuple[subprocess.CompletedProcess, CallToolResult,
                                                                  CallToolResult]:
    """Run `netra tools run` between calls, then call while another process holds the store, then again."""
    await session.call_tool("cost_analyzer", {})
    cli = await asyncio.to_thread(subprocess.run, [NETRA, "tools", "run", "cost_analyzer"], env=clean_env(home),
                                  capture_output=True, text=True, timeout=300)
    with holding(home):
        blocked = await session.call_tool("cost_analyzer", {})
    return cli, blocked, await session.call_tool("cost_analyzer", {})


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    """A home loaded by `netra generate --events 5000`; the home and its ground-truth manifest."""
    home = tmp_path_factory.mktemp("mcp-home")
    done = subprocess.run([NETRA, "generate", "--events", str(EVENTS)], env=clean_env(home),
                          capture_output=True, text=True, timeout=500)
    assert done.returncode == 0, done.stderr[-2000:]
    return home, json.loads((home / "manifests" / "mixed-7.json").read_text())


@pytest.fixture(scope="module")
def conversation(manifest) -> Conversation:
    """The one MCP session of the module with `netra mcp` (its stderr goes to the home's mcp.log)."""
    home, _ = manifest
    with (home / "mcp.log").open("w") as errlog:
        return asyncio.run(asyncio.wait_for(converse(home, errlog), timeout=300))


@pytest.fixture(scope="module")
def session(conversation) -> tuple[ListToolsResult, dict[str, CallToolResult]]:
    """The tool list and the answers of `CALLS`."""
    return conversation.listed, conversation.answers


def structured(session, key: str) -> dict[str, Any]:
    """Return the structured result of call `key`, checked to equal its JSON text content."""
    result = session[1][key]
    assert not result.is_error, result.content[0].text
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


def test_lists_every_registered_tool_with_its_schemas(session):
    """List every registered tool with its description, input schema and output schema."""
    tools = {tool.name: tool for tool in session[0].tools}
    assert set(ToolRegistry().names()) <= set(tools) and len(tools) >= len(ToolRegistry().names())
    for name in ("cost_analyzer", "latency_analyzer", "kv_cache_finder", "policy_simulator"):
        assert tools[name].description and tools[name].input_schema["type"] == "object"
    assert all(t.input_schema.get("properties") is not None and t.output_schema for t in tools.values())
    assert tools["latency_analyzer"].input_schema["properties"]["group_by"]["enum"] == ["feature", "model"]


def test_cost_analyzer_counts_the_features_requests(session, manifest):
    """Scope cost to one feature: its request count is the manifest's."""
    result = structured(session, "support_bot")
    assert result["tool"] == "cost_analyzer" and result["args"] == {"feature": "support_bot"}
    assert result["figures"]["requests"]["value"] == manifest[1]["features"]["support_bot"]
    assert result["evidence"][0]["params"]["feature"] == "support_bot"
    assert 0 < result["figures"]["total_cost_usd"]["value"] < manifest[1]["total_cost_usd"]


def test_cost_analyzer_total_matches_the_manifest(session, manifest):
    """Unscoped, the cost is the ground-truth total of the generated events."""
    figures = structured(session, "total")["figures"]
    assert figures["requests"]["value"] == EVENTS
    assert figures["total_cost_usd"]["value"] == pytest.approx(manifest[1]["total_cost_usd"], abs=1e-5)


def test_latency_analyzer_breaks_down_by_model(session):
    """One row per model, covering every event; ordered percentiles."""
    result = structured(session, "by_model")
    models = [row["model"] for row in result["rows"]]
    assert len(models) == len(set(models)) > 1
    assert sum(row["requests"] for row in result["rows"]) == EVENTS
    p50, p95, p99 = (result["figures"][f"latency_p{q}_ms"]["value"] for q in (50, 95, 99))
    assert 0 < p50 <= p95 <= p99


# call key, parts of the error text
ERRORS = [
    ("bad_enum", ["invalid arguments for latency_analyzer", "group_by: Input should be 'feature' or 'model'"]),
    ("bad_datetime", ["invalid arguments for cost_analyzer", "start: Input should be a valid datetime"]),
    ("extra_field", ["invalid arguments for cost_analyzer", "dimension: Extra inputs are not permitted"]),
    ("unknown_tool", ["no tool named 'no_such_tool'", "cost_analyzer"]),
]


@pytest.mark.parametrize(("key", "parts"), ERRORS, ids=[key for key, _ in ERRORS])
def test_bad_calls_return_an_error_result_naming_the_problem(session, key: str, parts: list[str]):
    """Invalid arguments or an unknown tool give an error result (isError) naming the field or tool."""
    result = session[1][key]
    assert result.is_error and result.structured_content is None
    assert all(part in result.content[0].text for part in parts), result.content[0].text


def test_the_store_is_free_between_calls(conversation):
    """Other netra commands use the home between calls; a call while it is held says so, then recovers."""
    cli, blocked, after = conversation.contended
    assert cli.returncode == 0 and json.loads(cli.stdout)["figures"]["requests"]["value"] == EVENTS, cli.stderr
    assert blocked.is_error and "cannot open the analytics store" in blocked.content[0].text
    assert not after.is_error and after.structured_content["figures"]["requests"]["value"] == EVENTS
