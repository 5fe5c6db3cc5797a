"""Live runs over `/ws`: a real uvicorn server and a real `websockets` client, on both backends.

The server of each backend (`embedded`: SQLite, in-process log; `services`: a fresh
PostgreSQL database, real Redis) is shared by the module, over the session's chDB store
holding `mixed` (20k events, seed 7, 14 days); every test signs in users of its own. The
heartbeat tests use a server of their own with 0.2 s heartbeats and a 1 s timeout.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from typing import Any, Callable, Iterator

import httpx
import pytest

from netra.config import Settings
from tests.support.graphs import OPTIMIZE
from tests.support.live import DEV, Live, live_server, name
from tests.support.run_world import backend_settings
from tests.support.ws_client import (Message, connected, is_final, of_type, plain, receive, resumed, run_events, send,
                             seq_at_least, started, until, until_closed)

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module", params=["embedded", "services"])
def live(request, workload, catalog, tmp_path_factory) -> Iterator[Live]:
    """The module's server over the backend under test."""
    with backend_settings(request.param, tmp_path_factory.mktemp("ws")) as base:
        with live_server(base.model_copy(update=DEV), workload, catalog) as server:
            yield server


@pytest.fixture
def quick(workload, catalog, tmp_path) -> Iterator[Live]:
    """An embedded server with 0.2 s heartbeats and a 1 s idle timeout."""
    settings = Settings(home=tmp_path, database_url=f"sqlite:///{tmp_path / 'netra.db'}", redis_url="",
                        ws_heartbeat_s=0.2, ws_timeout_s=1.0, **DEV)
    with live_server(settings, workload, catalog) as server:
        yield server


async def _full_run(live: Live) -> tuple[list[Message], list[Message]]:
    async with connected(live.ws(live.token(name()))) as ws:
        ack = await started(ws, OPTIMIZE)
        await send(ws, "user_message", message="and then?", thread_id=ack["data"]["thread_id"])
        messages = [ack, *await until(ws, is_final)]
    return messages, await live.logged(ack["data"]["run_id"])


@pytest.fixture(scope="module")
def full_run(live) -> tuple[list[Message], list[Message]]:
    """One run of the optimisation question, with a second question sent while it runs: (messages, log)."""
    return asyncio.run(_full_run(live))


def test_a_run_streams_its_events_in_seq_order_and_a_busy_thread_refuses_another(full_run):
    messages, logged = full_run
    events, codes = run_events(messages), Counter(m["data"]["code"] for m in messages if m["type"] == "error")
    assert [e["metadata"]["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "agent_started" and events[-1]["type"] == "agent_completed"
    assert events[-1]["data"]["report"]["markdown"] and codes == {"thread_busy": 1}
    assert plain(events) == plain(logged) and messages[0]["data"]["status"] == "pending"


def test_each_planned_agent_runs_and_finishes_and_each_tool_call_has_its_result(full_run):
    events = run_events(full_run[0])
    plan = next(e["data"]["plan"] for e in events if e["data"].get("event") == "plan")
    seen = {(e["data"]["agent"], e["data"]["status"]) for e in events if e["type"] == "sub_agent_update"}
    assert plan and all({(agent, "running"), (agent, "done")} <= seen for agent in plan)
    calls = Counter(e["data"]["call_id"] for e in events if e["type"] == "tool_call")
    assert calls and calls == Counter(e["data"]["call_id"] for e in events if e["type"] == "tool_result")


async def _dropped_and_resumed(live: Live) -> tuple[list[Message], list[Message], list[Message]]:
    url = live.ws(live.token(name()))
    async with connected(url) as ws:
        run_id = (await started(ws, OPTIMIZE))["data"]["run_id"]
        before = run_events(await until(ws, seq_at_least(5)))
    after = await resumed(url, run_id, before[-1]["metadata"]["seq"])
    return before, after, await live.logged(run_id)


def test_a_dropped_client_resumes_with_its_last_seq_and_misses_nothing(live):
    before, after, logged = asyncio.run(_dropped_and_resumed(live))
    assert [e["metadata"]["seq"] for e in before] == [1, 2, 3, 4, 5]
    assert plain(before + after) == plain(logged) and after[-1]["type"] == "agent_completed"


BAD_FRAMES = [
    ("not JSON", "{nope", "invalid_json"),
    ("an array", "[1, 2]", "invalid_frame"),
    ("no action", json.dumps({"data": {}}), "invalid_frame"),
    ("an unknown key", json.dumps({"action": "ping", "id": 1}), "invalid_frame"),
    ("data not an object", json.dumps({"action": "ping", "data": [1]}), "invalid_frame"),
    ("an unknown action", json.dumps({"action": "dance", "data": {}}), "unknown_action"),
    ("a missing field", json.dumps({"action": "resume", "data": {}}), "invalid_data"),
    ("an extra field", json.dumps({"action": "ping", "data": {"x": 1}}), "invalid_data"),
    ("a negative seq", json.dumps({"action": "resume", "data": {"run_id": "r", "after_seq": -1}}), "invalid_data"),
    ("an empty question", json.dumps({"action": "start_agent", "data": {"message": "  "}}), "invalid_data"),
    ("an unknown strategy", json.dumps({"action": "start_agent", "data": {"message": "q", "strategy": "x"}}),
     "invalid_data"),
    ("a 65 KiB frame", json.dumps({"action": "ping", "data": {"pad": "x" * 65 * 1024}}), "frame_too_large"),
    ("binary, not JSON", b"\xff\xfe", "invalid_json"),
]


async def _bad_frame(live: Live, frame: str | bytes) -> tuple[Message, Message]:
    async with connected(live.ws(live.token("framer"))) as ws:
        await ws.send(frame)
        answer = await receive(ws)
        await send(ws, "ping")
        return answer, await receive(ws)


@pytest.mark.parametrize("frame, code", [case[1:] for case in BAD_FRAMES], ids=[case[0] for case in BAD_FRAMES])
def test_an_invalid_frame_gets_an_error_and_the_connection_still_answers_ping(live, frame, code):
    answer, pong = asyncio.run(_bad_frame(live, frame))
    assert (answer["type"], answer["data"]["code"], answer["metadata"]["seq"]) == ("error", code, None)
    assert pong["type"] == "pong"


# what another user tries on a run and thread of alice's: action -> its data
TRESPASS: list[tuple[str, Callable[[Message], Message]]] = [
    ("resume", lambda ack: {"run_id": ack["run_id"]}),
    ("stop_agent", lambda ack: {"run_id": ack["run_id"]}),
    ("user_message", lambda ack: {"message": "mine?", "thread_id": ack["thread_id"]}),
    ("resume", lambda ack: {"run_id": str(uuid.uuid4())}),
]


async def _answers(ws: Any, ack: Message) -> list[str]:
    codes = []
    for action, data in TRESPASS:
        await send(ws, action, **data(ack))
        codes.append((await receive(ws))["data"]["code"])
    return codes


async def _trespass(live: Live) -> tuple[list[str], Message]:
    """Alice starts a run and stops it at once (bob's tries would slow her stop past the run's end); then bob tries."""
    async with connected(live.ws(live.token(name()))) as alice:
        ack = (await started(alice, OPTIMIZE))["data"]
        await send(alice, "stop_agent", run_id=ack["run_id"])
        last = (await until(alice, is_final))[-1]
    async with connected(live.ws(live.token(name()))) as bob:
        return await _answers(bob, ack), last


def test_another_users_run_or_thread_is_not_found(live):
    codes, last = asyncio.run(_trespass(live))
    assert codes == ["not_found"] * 4 and last["data"]["code"] == "cancelled"


async def _stopped(live: Live, token: str) -> tuple[list[Message], Message]:
    async with connected(live.ws(token)) as ws:
        run_id = (await started(ws, OPTIMIZE))["data"]["run_id"]
        await until(ws, of_type("agent_started"))
        await send(ws, "stop_agent", run_id=run_id)
        messages = await until(ws, is_final)
        await send(ws, "stop_agent", run_id=run_id)
        return messages, await receive(ws)


def test_stop_agent_cancels_the_run_and_a_second_stop_finds_it_ended(live):
    token = live.token(name())
    messages, again = asyncio.run(_stopped(live, token))
    acks, last = [m for m in messages if m["type"] == "ack"], messages[-1]
    assert acks[0]["data"]["action"] == "stop_agent" and last["type"] == "error"
    assert (last["data"]["code"], last["data"]["terminal"]) == ("cancelled", True)
    assert live.get(f"/api/runs/{last['metadata']['run_id']}", token).json()["status"] == "cancelled"
    assert (again["type"], again["data"]["code"]) == ("error", "run_ended")


async def _stats_while_connected(live: Live, user: str) -> tuple[list[httpx.Response], str]:
    async with connected(live.ws(live.token(user))) as ws:
        await send(ws, "ping")
        await receive(ws)
        answers = [await asyncio.to_thread(live.get, "/api/ws/stats", token)
                   for token in (live.token(name(), "admin"), live.token(name(), "developer"), live.token(user), None)]
        return answers, (await asyncio.to_thread(live.get, "/auth/me", live.token(user))).json()["id"]


def test_ws_stats_count_connections_per_user_for_admins_and_developers(live):
    answers, user_id = asyncio.run(_stats_while_connected(live, name()))
    assert [a.status_code for a in answers] == [200, 200, 403, 401]
    stats = answers[0].json()
    mine = next(u for u in stats["by_user"] if u["user_id"] == user_id)
    assert stats["active"] >= 1 and mine["connections"] == 1 and mine["messages_in"] == 1
    assert mine["messages_out"] == 2 and stats["messages_in"] >= 1


async def _silent(live: Live) -> tuple[list[Message], int | None, str | None]:
    async with connected(live.ws(live.token(name()))) as ws:
        return await until_closed(ws)


def test_a_silent_client_gets_heartbeats_then_is_closed(quick):
    messages, close_code, _ = asyncio.run(_silent(quick))
    assert [m["type"] for m in messages][:2] == ["heartbeat", "heartbeat"]
    assert messages[-1]["data"]["code"] == "idle_timeout" and close_code == 4408


async def _pinging(live: Live, beats: int) -> Counter:
    async with connected(live.ws(live.token(name()))) as ws:
        seen: Counter = Counter()
        while seen["heartbeat"] < beats:
            seen[(message := await receive(ws))["type"]] += 1
            if message["type"] == "heartbeat":
                await send(ws, "ping")
        return seen


def test_pings_keep_a_connection_open_beyond_the_timeout(quick):
    seen = asyncio.run(_pinging(quick, beats=12))  # 12 heartbeats of 0.2 s outlast the 1 s timeout
    assert seen["pong"] >= 11 and seen["error"] == 0
