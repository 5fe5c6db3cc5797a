"""The run service: stream items to client events (one table), and `execute_run` over real
records (SQLite), the session's chDB store and the app's checkpointer: event order, agent
runs with timing, cancellation before the start, and a graph that fails."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import datetime
from typing import Any

import pytest

from netra.graph import topology
from netra.graph.state import AGENTS
from netra.persistence.repositories import NotFoundError
from netra.persistence.uow import UnitOfWork
from netra.server.resources import AppResources
from netra.server.runs import events, execute_run, records
from netra.server.runs.events import RunIds, to_client_events
from netra.tenancy import Owner
from netra.tools.dispatcher import call_id
from tests.support.graphs import OPTIMIZE, PLAIN, load_mixed
from tests.support.run_service import Collector, embedded_resources, run_scenario, user

IDS = ("thread-1", "run-1")
ARGS = {"dimension": "model", "top_n": 10}
# (mode, chunk) -> the (type, agent_name, data subset) of each client event
MAPPINGS = [
    ("custom", {"event": "agent_started", "agent": "data"}, [("sub_agent_update", "data", {"status": "running"})]),
    ("custom", {"event": "agent_completed", "agent": "data", "status": "running"},
     [("sub_agent_update", "data", {"status": "running"})]),
    ("custom", {"event": "agent_completed", "agent": "data", "status": "done"},
     [("sub_agent_update", "data", {"agent": "data", "status": "done"})]),
    ("custom", {"event": "agent_completed", "agent": "supervisor", "status": ""},
     [("sub_agent_update", "supervisor", {"status": "done"})]),
    ("custom", {"event": "agent_completed", "agent": "data", "status": "failed"},
     [("sub_agent_update", "data", {"status": "failed"})]),
    ("custom", {"event": "agent_error", "agent": "triage", "type": "ConnectionError", "message": "down"},
     [("sub_agent_update", "triage", {"status": "failed", "error": "down", "error_type": "ConnectionError"})]),
    ("custom", {"event": "agent_retry", "agent": "triage", "attempt": 1, "error": "down", "delay_s": 0.5},
     [("sub_agent_update", "triage", {"status": "retrying", "attempt": 1, "error": "down", "delay_s": 0.5})]),
    ("custom", {"event": "tool_call", "tool": "cost_driver_identifier", "args": ARGS},
     [("tool_call", None, {"tool": "cost_driver_identifier", "args": ARGS,
                           "call_id": call_id("cost_driver_identifier", ARGS)})]),
    ("custom", {"event": "tool_result", "tool": "cost_analyzer", "call_id": "cost_analyzer-1", "cached": True,
                "figures": {"total_cost_usd": 127.438, "requests": 20000.0}},
     [("tool_result", None, {"tool": "cost_analyzer", "call_id": "cost_analyzer-1", "cached": True,
                             "figures": {"total_cost_usd": 127.438, "requests": 20000.0},
                             "summary": "cost_analyzer: total_cost_usd=127.438, requests=20,000 (cached)"})]),
    ("custom", {"event": "supervisor_decision", "agent": "supervisor", "next": "data"},
     [("agent_log", "supervisor", {"event": "supervisor_decision", "next": "data"})]),
    ("custom", {"event": "cache_warmed", "agent": "data", "keys": 3},
     [("agent_log", "data", {"message": "cache_warmed", "event": "cache_warmed", "keys": 3})]),
    ("custom", "plain text progress", [("agent_log", None, {"event": "log", "value": "plain text progress"})]),
    ("updates", {"triage": {"plan": ["triage", "data", "reporting"], "strategy": "conditional"}},
     [("agent_log", "triage", {"event": "plan", "plan": ["triage", "data", "reporting"],
                               "message": "plan: triage, data, reporting"})]),
    ("updates", {"supervisor": None}, []),
    ("updates", {"data_task": {"analyses": {}, "tool_calls": []}}, []),
    ("values", {"question": "q"}, []),
]


@pytest.mark.parametrize(("mode", "chunk", "expected"), MAPPINGS,
                         ids=[f"{m}-{c.get('event', next(iter(c), 'none')) if isinstance(c, dict) else 'text'}-{i}"
                              for i, (m, c, _) in enumerate(MAPPINGS)])
def test_stream_items_map_to_client_events(mode, chunk, expected):
    got = to_client_events(mode, chunk, RunIds(*IDS))
    assert [(e["type"], e["metadata"]["agent_name"]) for e in got] == [(t, a) for t, a, _ in expected]
    for event, (_, _, data) in zip(got, expected):
        assert data.items() <= event["data"].items()
        assert (event["metadata"]["thread_id"], event["metadata"]["run_id"]) == IDS


def test_tool_events_are_attributed_to_the_agent_at_work():
    ids = RunIds(*IDS)
    to_client_events("custom", {"event": "agent_started", "agent": "optimizations_core"}, ids)
    call = to_client_events("custom", {"event": "tool_call", "tool": "policy_proposer", "args": {}}, ids)
    assert call[0]["metadata"]["agent_name"] == "optimizations_core"


@pytest.mark.parametrize(("event", "kind", "data"), [
    (events.run_started(RunIds(*IDS), "why?", "parallel"), "agent_started",
     {"question": "why?", "strategy": "parallel", "resumed": False}),
    (events.run_completed(RunIds(*IDS), {"markdown": "# R", "report_id": "r1"}), "agent_completed",
     {"report": {"markdown": "# R", "report_id": "r1"}, "run_id": "run-1"}),
    (events.run_error(RunIds(*IDS), "cancelled", "stop"), "error", {"code": "cancelled", "message": "stop"}),
], ids=["started", "completed", "error"])
def test_run_level_events_have_the_client_shape(event, kind, data):
    assert (event["type"], event["data"]) == (kind, data) and set(event) == {"type", "data", "metadata"}
    assert set(event["metadata"]) == {"thread_id", "run_id", "agent_name", "timestamp"}
    assert datetime.fromisoformat(event["metadata"]["timestamp"]).utcoffset().total_seconds() == 0


@pytest.fixture
def resources(tmp_path, store, catalog) -> AppResources:
    """The app's resources over embedded records (SQLite), the session's store and the catalog."""
    return embedded_resources(tmp_path, store, catalog)


async def _ask(resources: AppResources, owner: Owner, emit: Collector, cancel: threading.Event | None = None):
    thread_id, run_id = await records.open_run(resources, owner, OPTIMIZE)
    result = await execute_run(resources, owner, run_id, thread_id, OPTIMIZE, emit=emit, cancel=cancel)
    async with UnitOfWork(resources.session_factory, workspace_id=owner.workspace_id) as uow:
        run = await uow.runs.get(owner.user_id, run_id)
        agents = {a.agent: a for a in await uow.agent_runs.for_run(owner.user_id, run_id)}
    return result, run, agents


@pytest.fixture
def mixed(store, catalog) -> dict:
    """A mixed workload in the session's store."""
    return load_mixed(store, catalog)


def test_execute_run_streams_events_and_records_agents(resources, mixed):
    emit = Collector()
    result, run, agents = run_scenario(resources, lambda r, u: _ask(r, u, emit))
    _check_run(emit, result, run)
    _check_agents(emit, agents)
    _check_tools(emit, list(agents))
    _check_ids(emit, result)


def _check_run(emit: Collector, result: dict[str, Any], run: Any) -> None:
    """The run opens with `agent_started`, closes with `agent_completed` carrying the report, and succeeded."""
    kinds = [e["type"] for e in emit.events]
    assert kinds[0] == "agent_started" and kinds[-1] == "agent_completed" and "error" not in kinds
    assert result["status"] == run.status == "success" and result["report"]["grounded"]
    assert emit.events[-1]["data"]["report"] == result["report"] and result["report_id"]


def _check_agents(emit: Collector, agents: dict[str, Any]) -> None:
    """Every planned agent went running -> done; the done event carries the recorded duration."""
    plan = next(e["data"]["plan"] for e in emit.of("agent_log") if e["data"]["event"] == "plan")
    assert plan == list(AGENTS) and set(agents) == set(plan)
    for agent in plan:
        updates = [e["data"] for e in emit.of("sub_agent_update") if e["data"]["agent"] == agent]
        assert updates[0]["status"] == "running" and updates[-1]["status"] == "done"
        assert updates[-1]["duration_ms"] == agents[agent].duration_ms >= 0 and agents[agent].status == "success"


def _check_tools(emit: Collector, plan: list[str]) -> None:
    """Every tool call has its result (same tools, same call ids), with figures, from a planned agent."""
    calls, results = emit.of("tool_call"), emit.of("tool_result")
    assert Counter(e["data"]["tool"] for e in calls) == Counter(e["data"]["tool"] for e in results)
    assert {e["data"]["call_id"] for e in calls} == {e["data"]["call_id"] for e in results}
    assert all(e["data"]["figures"] for e in results) and all(e["metadata"]["agent_name"] in plan for e in calls)


def _check_ids(emit: Collector, result: dict[str, Any]) -> None:
    """Every event names the run and its thread."""
    ids = {(e["metadata"]["thread_id"], e["metadata"]["run_id"]) for e in emit.events}
    assert ids == {(result["thread_id"], result["run_id"])}


def test_a_run_cancelled_before_it_starts_is_recorded_cancelled(resources):
    emit, cancel = Collector(), threading.Event()
    cancel.set()
    result, run, agents = run_scenario(resources, lambda r, u: _ask(r, u, emit, cancel))
    assert [e["type"] for e in emit.events] == ["agent_started", "error"]
    assert emit.events[-1]["data"]["code"] == "cancelled" and result["status"] == run.status == "cancelled"
    assert run.finished_at is not None and result["report"] is None and agents == {}


def _crash(deps, payload):
    raise RuntimeError("analysis worker crashed")


@pytest.fixture
def crashing_worker(monkeypatch) -> None:
    """The graph's `data_task` node (where `data` fans out to) raises: the graph itself fails."""
    monkeypatch.setitem(topology.NODES, "data_task", (_crash, False))


def test_a_failing_graph_ends_the_run_in_error(resources, mixed, crashing_worker):
    emit = Collector()
    result, run, agents = run_scenario(resources, lambda r, u: _ask(r, u, emit))
    errors = [e["data"] for e in emit.events if e["type"] == "error"]
    assert errors == [emit.events[-1]["data"]] and errors[0]["code"] == "run_failed"
    assert "analysis worker crashed" in errors[0]["message"] == result["error"] == run.error
    assert result["status"] == run.status == "error" and result["report"] is None
    assert (agents["triage"].status, agents["data"].status, agents["data"].error) == ("success", "error", run.error)


async def _two_at_once(resources: AppResources, user_id: Owner) -> list[dict[str, Any]]:
    opened = [await records.open_run(resources, user_id, PLAIN) for _ in range(2)]
    return list(await asyncio.gather(*(execute_run(resources, user_id, run_id, thread_id, PLAIN)
                                       for thread_id, run_id in opened)))


def test_two_runs_at_once_share_the_store_and_both_succeed(resources, mixed):
    results = run_scenario(resources, _two_at_once)
    assert [r["status"] for r in results] == ["success", "success"], [r["error"] for r in results]
    assert all(r["report"]["grounded"] for r in results) and results[0]["thread_id"] != results[1]["thread_id"]


async def _scoping(resources: AppResources, user_id: Owner) -> dict[str, Any]:
    thread_id, run_id = await records.open_run(resources, user_id, "x" * 100 + "\n why?", strategy="parallel")
    failed = await records.record_agent(resources, user_id, run_id, "data", "failed", "boom")
    again = await records.record_agent(resources, user_id, run_id, "data", "done")
    other = await user(resources, "eve@example.com")
    with pytest.raises(NotFoundError):
        await records.open_run(resources, other, "mine now?", thread_id=thread_id)
    return {"failed": failed, "again": again, "owner": await records.run_owner(resources, run_id)}


def test_records_keep_the_first_failure_and_scope_threads_to_their_owner(resources):
    seen = run_scenario(resources, _scoping)
    assert seen["failed"].status == "error" and seen["failed"].error == "boom" and seen["again"] is None
    assert seen["owner"] == Owner(seen["failed"].user_id, seen["failed"].workspace_id)


@pytest.mark.parametrize(("question", "title"), [
    ("Why so slow?", "Why so slow?"),
    ("x" * 100, "x" * 80),
    ("  cut\n  spend   now ", "cut spend now"),
], ids=["short", "long", "whitespace"])
def test_thread_title_is_the_question_on_one_line_truncated(question, title):
    assert records.title_of(question) == title
