"""Human in the loop over `/ws`: a real uvicorn server and the real `websockets` client, on both backends.

`start_agent` with `approval: true` ends its run with a terminal `interrupted` event listing
the recommendations; `decide` continues the thread as a new run (acknowledged and followed),
whose report leaves the dropped recommendation out. A decision naming an unknown id, one of
the wrong shape, one for another user's thread and one for a thread no longer waiting are
answered by `error` messages, and the connection stays open.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Iterator

import pytest

from tests.support.graphs import OPTIMIZE
from tests.support.live import DEV, Live, live_server, name
from tests.support.run_world import backend_settings
from tests.support.tenants import add_to_workspace
from tests.support.ws_client import Endpoint, Message, connected, is_final, run_events, send, started, until

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module", params=["embedded", "services"])
def live(request, workload, catalog, tmp_path_factory) -> Iterator[Live]:
    """The module's server over the backend under test."""
    with backend_settings(request.param, tmp_path_factory.mktemp("ws-approval")) as base:
        with live_server(base.model_copy(update=DEV), workload, catalog) as server:
            yield server


def in_local(live: Live, user: str) -> Endpoint:
    """Return the `/ws` endpoint of `user` (a member of `local`, where the workload is) acting in `local`."""
    token = live.token(user)
    add_to_workspace(live.settings, f"{user}@example.com")
    return Endpoint(f"{live.ws(token).url}?workspace=local", token)


async def decided(ws: Any, thread_id: str, decision: Any) -> Message:
    """Send `decide`; return the first answer (an `ack` or an `error`)."""
    await send(ws, "decide", thread_id=thread_id, decision=decision)
    return (await until(ws, lambda m: m["type"] in ("ack", "error")))[-1]


def offered(event: Message) -> list[str]:
    """Return the ids of the recommendations an `interrupted` event offers."""
    return [r["policy_id"] for r in event["data"]["interrupt"]["recommendations"]]


@dataclass
class Session:
    """What the client saw: the paused run's events, the refusals, the continued run's ack and events."""

    paused: list[Message]
    refusals: list[Message]
    ack: Message
    continued: list[Message]
    again: Message


async def _refusals(live: Live, ws: Any, thread_id: str) -> list[Message]:
    answers = [await decided(ws, thread_id, {"drop": ["no-such-policy"]}), await decided(ws, thread_id, "yes")]
    async with connected(in_local(live, name())) as other:
        answers.append(await decided(other, thread_id, True))
    return answers


async def _session(live: Live) -> Session:
    async with connected(in_local(live, name())) as ws:
        thread_id = (await started(ws, OPTIMIZE, approval=True))["data"]["thread_id"]
        paused = run_events(await until(ws, is_final))
        refusals = await _refusals(live, ws, thread_id)
        resumed = await decided(ws, thread_id, {"drop": offered(paused[-1])[:1]})
        continued = run_events(await until(ws, is_final))
        return Session(paused, refusals, resumed, continued, await decided(ws, thread_id, True))


@pytest.fixture(scope="module")
def session(live) -> Session:
    """One client's approval session on the module's server."""
    return asyncio.run(asyncio.wait_for(_session(live), 240))


def test_a_run_asking_for_approval_ends_with_an_interrupted_event(session):
    last = session.paused[-1]
    assert session.paused[0]["type"] == "agent_started" and (last["type"], last["metadata"]["final"]) == (
        "interrupted", True)
    offered = last["data"]["interrupt"]["recommendations"]
    assert offered and all(set(r) >= {"policy_id", "title", "monthly_saving_usd"} for r in offered)
    assert "error" not in [e["type"] for e in session.paused]


def test_decide_continues_the_thread_without_the_dropped_recommendation(session):
    dropped = offered(session.paused[-1])[0]
    assert (session.ack["type"], session.ack["data"]["action"]) == ("ack", "decide")
    assert session.ack["data"]["run_id"] != session.paused[-1]["metadata"]["run_id"]
    last = session.continued[-1]
    assert last["type"] == "agent_completed" and dropped not in last["data"]["report"]["markdown"]
    assert session.continued[0]["data"]["decision"] == {"drop": [dropped]}


def test_bad_decisions_are_answered_with_errors(session):
    codes = [(m["type"], m["data"]["code"], m["data"]["action"]) for m in [*session.refusals, session.again]]
    assert codes == [("error", "bad_decision", "decide"), ("error", "invalid_data", None),
                     ("error", "not_found", "decide"), ("error", "not_waiting", "decide")]
    assert "no-such-policy" in session.refusals[0]["data"]["message"]

