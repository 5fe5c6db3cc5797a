"""The tools API on a real uvicorn server over the chDB store: list, run, cache, 404, 422, 400, 401.

The events are planted in the signed-in user's personal workspace, where the tools read.
"""

from __future__ import annotations

from typing import Any, Iterator

import httpx
import pytest

from netra.config import Settings
from netra.persistence.analytics import AnalyticsStore
from netra.server import create_app
from netra.tools import ToolRegistry
from netra.workloads.catalog import PriceCatalog
from tests.support.factories import at, load
from tests.integration.api.seeding import workspace_of
from tests.support.servers import serving

# literal USD per token, as in the price catalog
GPT4O = {"input": 2.5e-6, "output": 1e-5}
MINI = {"input": 1.5e-7, "output": 6e-7}
ZERO = {"input_tokens": 0, "cached_input_tokens": 0, "cache_write_tokens": 0, "output_tokens": 0,
        "reasoning_tokens": 0, "is_batch": 0, "provider": "openai", "status": "ok"}


def event(days: float, feature: str, model: str, tokens: tuple[int, int]) -> dict[str, Any]:
    """One priced-model event of `tokens` (input, output)."""
    return {**ZERO, "timestamp": at(days), "feature": feature, "model": model, "user_id": "u1",
            "input_tokens": tokens[0], "output_tokens": tokens[1]}


EVENTS = [
    event(0, "chat", "gpt-4o", (1000, 200)),
    event(1, "chat", "gpt-4o", (2000, 100)),
    event(2, "chat", "gpt-4o-mini", (10000, 1000)),
    event(3, "search", "gpt-4o-mini", (500, 50)),
]
CHAT_COST = (3000 * GPT4O["input"] + 300 * GPT4O["output"]) + (10000 * MINI["input"] + 1000 * MINI["output"])


@pytest.fixture(scope="module")
def base_url(session_store: AnalyticsStore, catalog: PriceCatalog) -> Iterator[str]:
    """A uvicorn server in a background thread over the test store; its base URL."""
    with serving(lambda url: create_app(Settings(auth_mode="dev"), store=session_store, catalog=catalog)) as url:
        yield url


@pytest.fixture(scope="module")
def token(base_url: str) -> str:
    """A bearer token from the server's development login."""
    answer = httpx.post(f"{base_url}/auth/dev-login", json={"email": "tools@example.com"}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


@pytest.fixture
def client(base_url: str, token: str, store: AnalyticsStore, catalog: PriceCatalog) -> Iterator[httpx.Client]:
    """An HTTP client of the server, signed in, over a store holding `EVENTS` in the user's workspace."""
    with httpx.Client(base_url=base_url, timeout=30, headers={"Authorization": f"Bearer {token}"}) as http:
        load(store, catalog, [event | {"workspace_id": workspace_of(http)} for event in EVENTS])
        yield http


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/tools"), ("POST", "/api/tools/cost_analyzer")])
def test_tools_need_a_token(base_url, method: str, path: str):
    """Without a bearer token, listing or running tools answers 401."""
    answer = httpx.request(method, base_url + path, json={} if method == "POST" else None, timeout=30)
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "missing_token")


def test_second_run_is_answered_from_the_tool_cache(client):
    """The same call on unchanged data is answered from the app's tool cache."""
    first = client.post("/api/tools/cost_analyzer", json={"feature": "search"}).json()
    again = client.post("/api/tools/cost_analyzer", json={"feature": "search"}).json()
    assert again["cached"] is True and again["figures"] == first["figures"]


def test_list_names_every_tool_with_its_schema(client):
    """List every registered tool with its family, description and argument schema."""
    tools = {t["name"]: t for t in client.get("/api/tools").json()["tools"]}
    assert sorted(tools) == ToolRegistry().names()
    assert all(t["description"] and t["family"] and t["input_schema"]["type"] == "object" for t in tools.values())
    assert tools["latency_analyzer"]["input_schema"]["properties"]["group_by"]["enum"] == ["feature", "model"]


# tool, arguments, figure, expected value
RUNS = [
    ("cost_analyzer", {"feature": "chat"}, "requests", 3),
    ("cost_analyzer", {"feature": "chat"}, "total_cost_usd", CHAT_COST),
    ("cost_analyzer", {}, "requests", 4),
    ("cost_analyzer", {"model": "gpt-4o-mini"}, "requests", 2),
]


@pytest.mark.parametrize(("tool", "args", "figure", "expected"), RUNS)
def test_run_answers_the_tool_result(client, tool: str, args: dict, figure: str, expected: float):
    """Run the tool on the planted events; answer its ToolResult with the arguments it ran with."""
    answer = client.post(f"/api/tools/{tool}", json=args)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["tool"], result["args"]) == (tool, args)
    assert result["figures"][figure]["value"] == pytest.approx(expected, rel=1e-6)
    assert result["evidence"] and result["call_id"].startswith(f"{tool}-")


@pytest.mark.parametrize("body", [b"", b"  \n"], ids=["empty", "blank"])
def test_empty_body_runs_without_arguments(client, body: bytes):
    """An empty body means no arguments: the whole store is in scope."""
    answer = client.post("/api/tools/cost_analyzer", content=body)
    assert (answer.status_code, answer.json()["figures"]["requests"]["value"]) == (200, 4)


# tool, body, status, error, parts of the message
REFUSALS = [
    ("no_such_tool", b"{}", 404, "tool_not_found", ["no tool named 'no_such_tool'", "cost_analyzer"]),
    ("latency_analyzer", b'{"group_by": "planet"}', 422, "invalid_arguments",
     ["invalid arguments for latency_analyzer", "group_by", "'feature' or 'model'"]),
    ("cost_analyzer", b'{"start": "yesterday"}', 422, "invalid_arguments", ["start: Input should be a valid datetime"]),
    ("cost_analyzer", b'{"dimension": "model"}', 422, "invalid_arguments", ["dimension: Extra inputs are not permitted"]),
    ("cost_analyzer", b'["chat"]', 422, "invalid_arguments", ["expected a JSON object, got list"]),
    ("cost_analyzer", b'{"feature": ', 400, "bad_payload", ["body is not valid JSON"]),
    ("cost_analyzer", b'{"feature": "\xff"}', 400, "bad_payload", ["body is not valid JSON"]),
]


@pytest.mark.parametrize(("tool", "body", "status", "error", "message"), REFUSALS,
                         ids=["unknown-tool", "bad-enum", "bad-datetime", "extra-field", "not-object",
                              "invalid-json", "not-utf8"])
def test_refusals_say_why(client, tool: str, body: bytes, status: int, error: str, message: list[str]):
    """Answer 404, 422 or 400 with a JSON error whose message names the tool or the field."""
    answer = client.post(f"/api/tools/{tool}", content=body, headers={"content-type": "application/json"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, error), answer.text
    assert all(part in answer.json()["error"]["message"] for part in message), answer.json()["error"]["message"]
