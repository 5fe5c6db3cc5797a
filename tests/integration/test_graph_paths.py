"""The graph's paths: each strategy, the short path, hooks, retries, failures, threads."""

from __future__ import annotations

import pytest

from netra.graph.runner import ask, run_config, stream_run
from netra.graph.topology import build_graph
from netra.persistence.checkpoint import open_checkpointer
from netra.graph.state import AGENTS
from tests.support.graphs import OPTIMIZE, PLAIN, Recorder, make_deps

SHORT = ["triage", "data", "reporting"]


@pytest.fixture
def mixed(workload):
    """The session's store holding `mixed` (20k events, seed 7, 14 days: `load_mixed`'s defaults),
    planted once for the module: the graph's runs only read it, so every test sees the same events."""
    return workload


@pytest.fixture
def store(mixed):
    """The store the runs read: the module's `mixed` (never emptied between tests, unlike conftest's `store`)."""
    return mixed


def run(store, catalog, tmp_path, question: str, strategy: str, **kw):
    recorder = Recorder()
    deps = make_deps(store, catalog, tmp_path, recorder, **kw)
    return ask(deps, question, strategy=strategy, on_event=recorder.on_event), recorder


@pytest.mark.parametrize(("strategy", "question", "agents", "fanned_out"), [
    ("sequential", OPTIMIZE, list(AGENTS), False),
    ("parallel", OPTIMIZE, list(AGENTS), True),
    ("conditional", OPTIMIZE, list(AGENTS), True),
    ("conditional", PLAIN, SHORT, True),
    ("parallel", PLAIN, list(AGENTS), True),
    ("sequential", PLAIN, list(AGENTS), False),
], ids=["seq-optimize", "par-optimize", "cond-optimize", "cond-plain", "par-plain", "seq-plain"])
def test_strategy_selects_agents_and_fan_out(mixed, store, catalog, tmp_path, strategy, question, agents, fanned_out):
    state, recorder = run(store, catalog, tmp_path, question, strategy)
    ran = [a for a in dict.fromkeys(recorder.started()) if a != "supervisor"]
    assert ran == agents
    assert ("data_task" in recorder.nodes) is fanned_out
    assert all(state["agent_status"][a] == "done" for a in agents)
    assert state["report"]["grounded"], state["report"]["ungrounded"]


def test_plain_question_takes_the_short_path_with_filters(mixed, store, catalog, tmp_path):
    state, recorder = run(store, catalog, tmp_path, PLAIN, "conditional")
    assert state["request"]["filters"] == {"model": "gpt-4o"} and state["request"]["window_label"] == "last week"
    assert "optimizations_core" not in recorder.nodes and state["analyses"]["latency"]["args"]["model"] == "gpt-4o"
    p95 = state["analyses"]["latency"]["figures"]["latency_p95_ms"]["value"]
    assert f"{p95:,.0f} ms" in state["report"]["markdown"]


def test_optimize_report_has_every_section(mixed, store, catalog, tmp_path):
    state, _ = run(store, catalog, tmp_path, OPTIMIZE, "conditional")
    markdown = state["report"]["markdown"]
    for heading in ("## Summary", "## Findings", "## Recommendations", "## Action plan",
                    "## Success criteria", "## Appendix: provenance"):
        assert heading in markdown
    assert state["request"]["target_saving_pct"] == 30.0 and state["request"]["preserve_quality"]
    assert len(state["recommendations"]) >= 4 and len(state["actions"]) == len(state["recommendations"])


def test_every_agent_fires_before_and_after_hooks(mixed, store, catalog, tmp_path):
    _, recorder = run(store, catalog, tmp_path, OPTIMIZE, "sequential")
    for agent in AGENTS:
        assert ("before_agent", agent) in recorder.calls and ("after_agent", agent) in recorder.calls


class FlakyStore:
    """The real store, except that its first `failures` calls of `count` raise."""

    def __init__(self, store, failures: int) -> None:
        self._store, self.failures = store, failures

    def count(self, workspace_id: str | None = None) -> int:
        self.failures -= 1
        if self.failures >= 0:
            raise ConnectionError("analytics store unavailable")
        return self._store.count(workspace_id)

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_a_failing_agent_is_retried_with_the_retry_hook(mixed, store, catalog, tmp_path):
    state, recorder = run(FlakyStore(store, failures=1), catalog, tmp_path, PLAIN, "conditional")
    assert ("on_retry", "triage") in recorder.calls and ("on_error", "triage") not in recorder.calls
    assert state["agent_status"]["triage"] == "done" and state["errors"] == []


def test_an_agent_that_keeps_failing_is_reported_not_fatal(mixed, store, catalog, tmp_path):
    state, recorder = run(FlakyStore(store, failures=99), catalog, tmp_path, PLAIN, "conditional")
    assert ("on_error", "triage") in recorder.calls and state["agent_status"]["triage"] == "failed"
    assert state["errors"][0]["message"] == "analytics store unavailable"
    assert "## Problems during the run" in state["report"]["markdown"]


def test_a_second_question_on_a_thread_starts_fresh(mixed, store, catalog, tmp_path):
    recorder = Recorder()
    deps = make_deps(store, catalog, tmp_path, recorder)
    first = ask(deps, OPTIMIZE, thread_id="t1")
    second = ask(deps, PLAIN, thread_id="t1")
    assert first["recommendations"] and second["recommendations"] == []
    assert set(second["analyses"]) == {"latency"} and len(second["messages"]) == 4


@pytest.mark.parametrize("follow_up", [{"question": PLAIN}, {"messages": [("human", PLAIN)]}],
                         ids=["question-key", "chat-message"])
def test_a_bare_follow_up_input_restarts_a_finished_thread(mixed, store, catalog, tmp_path, follow_up):
    deps = make_deps(store, catalog, tmp_path, Recorder())
    ask(deps, OPTIMIZE, thread_id="t2")
    with open_checkpointer(deps.settings.resolved_database_url()) as saver:
        state = stream_run(build_graph(deps).compile(checkpointer=saver), follow_up, run_config("t2"), None)
    assert state["request"]["question"] == PLAIN and set(state["analyses"]) == {"latency"}
