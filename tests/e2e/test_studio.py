"""LangGraph Studio's path: `langgraph dev` loads langgraph.json and serves runs over its API.

One `langgraph dev` subprocess per module, on its own NETRA_HOME with 5,000 generated events;
runs are streamed with langgraph-sdk. Failures carry the tail of the server log.
"""

from __future__ import annotations

from typing import Callable

import pytest

from tests.e2e._langgraph_dev import (
    GRAPH_ID,
    DevServer,
    RunResult,
    ask,
    generate_data,
    graph_ids,
    hermetic_config,
    studio_env,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
EVENTS = 5_000
COST_QUESTION = "How can we cut our LLM spend by 30% without hurting quality?"
PLAIN_QUESTION = "What was the p95 latency of gpt-4o last week?"
AGENTS = {"triage", "data", "optimizations_core", "actions_to_meet_goals", "reporting", "supervisor"}


@pytest.fixture(scope="module")
def server(tmp_path_factory, request) -> DevServer:
    """A ready `langgraph dev` over a store holding the `mixed` workload (stopped at the end)."""
    workdir = tmp_path_factory.mktemp("studio")
    env = studio_env(workdir / "home")
    generate_data(env, workdir, EVENTS)
    started = DevServer.start(hermetic_config(workdir), env, workdir)
    request.addfinalizer(started.stop)
    started.wait_ready()
    return started


@pytest.fixture(scope="module")
def cost_run(server: DevServer) -> RunResult:
    """The streamed run of the cost question."""
    return _ask(server, COST_QUESTION)


@pytest.fixture(scope="module")
def plain_run(server: DevServer) -> RunResult:
    """The streamed run of a plain data question."""
    return _ask(server, PLAIN_QUESTION)


def _ask(server: DevServer, question: str) -> RunResult:
    try:
        return ask(server.url, question)
    except Exception as exc:  # any client-side failure: show it with the server's side
        pytest.fail(f"run of {question!r} failed: {type(exc).__name__}: {exc}\n{server.log_tail()}")


def _why(server: DevServer, run: RunResult) -> Callable[[str], str]:
    """Return a message builder that appends the run's errors and the server log tail."""
    return lambda what: f"{what}\nerror events: {run.of('error')}\n{server.log_tail()}"


def test_the_netra_graph_is_registered(server):
    ids = graph_ids(server.url)
    assert GRAPH_ID in ids, f"assistants' graph ids: {ids}\n{server.log_tail()}"


def test_the_cost_run_streams_without_error(server, cost_run):
    why = _why(server, cost_run)
    assert cost_run.events, why("no events streamed")
    assert not cost_run.of("error"), why("the run streamed an error event")


def test_the_cost_run_goes_through_all_six_agents(server, cost_run):
    missing = AGENTS - cost_run.updated_nodes()
    assert not missing, _why(server, cost_run)(f"no update from {sorted(missing)}")


def test_the_cost_run_streams_tool_calls(server, cost_run):
    tools = {call.get("tool") for call in cost_run.custom("tool_call")}
    assert tools, _why(server, cost_run)("no tool_call custom events")
    assert {"cost_analyzer", "policy_simulator"} <= tools, f"tools called: {sorted(tools)}"


def test_the_cost_run_ends_with_a_grounded_report(server, cost_run):
    report = cost_run.values.get("report") or {}
    assert report.get("markdown", "").startswith("# Netra report"), _why(server, cost_run)(
        f"report: {str(report)[:500]}")
    assert report.get("grounded") is True, f"ungrounded numbers: {report.get('ungrounded')}"


def test_a_plain_question_skips_optimizations(server, plain_run):
    why = _why(server, plain_run)
    assert not plain_run.of("error"), why("the run streamed an error event")
    assert {"triage", "data", "reporting"} <= plain_run.updated_nodes(), why("an agent is missing")
    assert "optimizations_core" not in plain_run.updated_nodes()
    assert (plain_run.values.get("report") or {}).get("markdown", "").startswith("# Netra report")
