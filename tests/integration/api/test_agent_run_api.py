"""`POST /api/agent/run` on each backend: a recorded run with its report, a second question on
the same thread, a failed run answered 200 with its error, and the refusals (404, 422, 401)."""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

import pytest

from netra.graph import topology
from netra.graph.state import AGENTS
from netra.persistence.uow import UnitOfWork
from netra.workloads.synthetic import generate_and_load
from tests.support.graphs import OPTIMIZE, PLAIN
from tests.integration.api.seeding import records, workspace_of

RUN = "/api/agent/run"
Action = Callable[[UnitOfWork], Awaitable[Any]]


@pytest.fixture
def alice(api, store, catalog):
    """Alice, signed in, with a mixed workload in her workspace (the optimisation question has recommendations)."""
    client = api.login("alice@example.com")
    generate_and_load(store, catalog, "mixed", 20_000, 7, 14.0, workspace_id=workspace_of(client))
    return client


async def _on_engine(url: str, workspace_id: str, action: Action) -> Any:
    async with records(url, workspace_id) as uow:
        result = await action(uow)
        await uow.commit()
        return result


def db(api, client, action: Action) -> Any:
    """Return `await action(uow)` in the client's workspace of the server's records, committed (no pytest-asyncio)."""
    return asyncio.run(_on_engine(api.settings.resolved_database_url(), workspace_of(client), action))


async def _kept(uow: UnitOfWork, user_id: str, thread_id: str, run_id: str) -> dict[str, Any]:
    return {"messages": await uow.messages.for_thread(user_id, thread_id),
            "runs": await uow.runs.for_thread(user_id, thread_id),
            "agents": await uow.agent_runs.for_run(user_id, run_id)}


def user_id_of(client) -> str:
    """Return the id of the client's user."""
    return client.get("/auth/me").json()["id"]


def records_of(api, client, body: dict[str, Any]) -> dict[str, Any]:
    """Return the messages and runs of a run's thread and the run's agent runs."""
    user_id = user_id_of(client)
    return db(api, client, lambda uow: _kept(uow, user_id, body["thread_id"], body["run"]["id"]))


async def _new_thread(uow: UnitOfWork, user_id: str) -> str:
    return (await uow.threads.create(user_id, title="mine")).id


def thread_of(api, client) -> str:
    """Create a thread of the client's user directly in the server's database; return its id."""
    user_id = user_id_of(client)
    return db(api, client, lambda uow: _new_thread(uow, user_id))


def ask(client, **body: Any) -> dict[str, Any]:
    """POST a run; assert it answered 200; return the answer."""
    answer = client.post(RUN, json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_run_answers_its_report_and_a_second_question_continues_the_thread(api, alice):
    body = ask(alice, question=OPTIMIZE)
    assert body["run"]["status"] == "success" and body["run"]["thread_id"] == body["thread_id"]
    assert body["report"]["markdown"] and body["report"]["grounded"] and body["report"]["run_id"] == body["run"]["id"]
    assert body["report"]["structured"]["citations"] and body["run"]["error"] is None
    _first_records(records_of(api, alice, body), body)
    _ask_again(api, alice, body["thread_id"])


def _first_records(kept: dict[str, Any], body: dict[str, Any]) -> None:
    """The thread holds the question and the answer; every planned agent ran and was timed."""
    assert [(m.role, m.content) for m in reversed(kept["messages"])] == [
        ("user", OPTIMIZE), ("assistant", body["report"]["markdown"])]
    assert {a.agent for a in kept["agents"]} == set(AGENTS)
    assert all(a.status == "success" and a.duration_ms >= 0 for a in kept["agents"])


def _ask_again(api, alice, thread_id: str) -> None:
    """A second question on the thread: answered from the checkpointed conversation."""
    body = ask(alice, question=PLAIN, thread_id=thread_id, strategy="parallel")
    assert body["thread_id"] == thread_id and body["run"]["status"] == "success"
    assert body["run"]["strategy"] == "parallel" and body["run"]["question"] == PLAIN
    assert body["report"]["grounded"] and "p95" in body["report"]["markdown"].lower()
    kept = records_of(api, alice, body)
    assert [m.role for m in reversed(kept["messages"])] == ["user", "assistant", "user", "assistant"]
    assert len(kept["runs"]) == 2 and {a.status for a in kept["agents"]} == {"success"}


def _crash(deps, payload):
    raise RuntimeError("analysis worker crashed")


def test_a_failed_run_answers_200_with_its_error(api, alice, monkeypatch):
    monkeypatch.setitem(topology.NODES, "data_task", (_crash, False))  # the server runs in this process
    answer = alice.post(RUN, json={"question": OPTIMIZE})
    assert answer.status_code == 200, answer.text
    run = answer.json()["run"]
    assert run["status"] == "error" and "analysis worker crashed" in run["error"] and answer.json()["report"] is None


# body -> why it is refused (422 validation_failed); one server per backend checks them all
BAD_BODIES = [
    ({"question": ""}, "empty"),
    ({"question": "   "}, "blank"),
    ({"question": "x" * 4001}, "too long"),
    ({"question": "why?", "strategy": "fastest"}, "unknown strategy"),
    ({"question": "why?", "temperature": 0}, "extra field"),
    ({"question": "why?", "thread_id": ""}, "empty thread id"),
    ({}, "no question"),
]


def codes(client, bodies: list[tuple[dict[str, Any], str]]) -> dict[str, tuple[int, str]]:
    """Return the status and error code answered to each body, by why it is wrong."""
    answers = {why: client.post(RUN, json=body) for body, why in bodies}
    return {why: (a.status_code, a.json()["error"]["code"]) for why, a in answers.items()}


def test_refusals_bad_bodies_another_users_thread_and_no_token(api):
    alice, eve = api.login("alice@example.com"), api.login("eve@example.com")
    assert codes(alice, BAD_BODIES) == {why: (422, "validation_failed") for _, why in BAD_BODIES}
    answer = eve.post(RUN, json={"question": "why?", "thread_id": thread_of(api, alice)})
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found")
    assert alice.post(RUN, json={"question": "why?", "thread_id": "no-such-thread"}).status_code == 404
    assert api.anonymous.post(RUN, json={"question": "why?"}).status_code == 401
