"""Model mode through the real `ChatOpenAI` client against a scripted local OpenAI-compatible server.

The workload (mixed, 20,000 events, seed 7, 14 days) is loaded once for the module, and one
offline run of the optimisation question gives the state the reporting tests write from.
"""

from __future__ import annotations

import dataclasses
import json
import socket
from contextlib import contextmanager
from typing import Iterator

import pytest

from netra.config import Settings
from netra.graph.deps import Deps
from netra.graph.runner import ask
from netra.llm import chat_model
from netra.llm.breaker import BREAKERS, snapshots
from netra.nodes import triage_rules
from netra.nodes._model import UNAVAILABLE_NOTE
from netra.nodes.data import data
from netra.nodes.reporting import reporting
from netra.nodes.tool_choice import choose
from netra.nodes.tool_loop import offered
from netra.nodes.triage import data_end, known_names, triage
from tests.support.graphs import OPTIMIZE, PLAIN, Recorder, make_deps
from tests.support.llm_server import Reply, ScriptedLLM, offered_tools
from tests.support.model_mode import CACHE_WARNINGS, QUESTION, TRIAGE
from tests.support.servers import serving

EXPECTED = {"intent": "optimize", "filters": {"model": "gpt-4o"}, "target_saving_pct": 25, "window_label": "last week",
            "preserve_quality": True, "constraints": {"max_quality_drop": 0}}
PARALLEL = [("throughput_analyzer", {}), ("error_rate_analyzer", {"min_failures": 1}),
            ("latency_analyzer", {"group_by": "model"})]
HALLUCINATED = "## Executive summary\n\nSpend is $987,654.32 per month. Act now."
REPAIRED = {"status": "repaired", "ungrounded": [{"number": "$987,654.32", "sentence": "Spend is $987,654.32 per month."}]}


@pytest.fixture(scope="module")
def offline_state(workload, catalog, tmp_path_factory):
    """The final state of an offline run of the optimisation question."""
    deps = make_deps(workload, catalog, tmp_path_factory.mktemp("offline"), Recorder())
    return ask(deps, OPTIMIZE, strategy="conditional")


@contextmanager
def scripted_server() -> Iterator[ScriptedLLM]:
    """A scripted model server, served while the block runs (its breakers are forgotten afterwards)."""
    scripted = ScriptedLLM()
    with serving(scripted.app):
        yield scripted
    BREAKERS.pop(scripted.base_url, None)


@pytest.fixture
def llm():
    """A scripted model server for one test."""
    with scripted_server() as scripted:
        yield scripted


def model_deps(workload, catalog, tmp_path, base_url: str, recorder: Recorder | None = None, **overrides) -> Deps:
    """Deps over the workload with the factory's ChatOpenAI pointed at `base_url`."""
    deps = make_deps(workload, catalog, tmp_path, recorder or Recorder(),
                     **{"llm_base_url": base_url, "llm_max_retries": 1, **overrides})
    return dataclasses.replace(deps, llm=chat_model(deps.settings))


def grounded_prose(body: dict) -> Reply:
    """A reply quoting the run's monthly spend exactly as the figures list writes it."""
    prompt = next(m["content"] for m in body["messages"] if "Figures (JSON):" in str(m.get("content")))
    figures = json.loads(prompt.split("Figures (JSON):\n", 1)[1])
    spend = next(f["text"] for f in figures if f["name"] == "monthly_cost_usd")
    return Reply(content=f"## Executive summary\n\nSpend runs at {spend} per month.\n\n"
                         "## Rationale\n\nThe changes below cut it without touching quality.")


def test_triage_reads_the_models_structured_answer(workload, catalog, tmp_path, llm):
    llm.script(Reply(content=json.dumps(TRIAGE)))
    update = triage(model_deps(workload, catalog, tmp_path, llm.base_url), {"question": QUESTION})
    assert {k: update["request"][k] for k in EXPECTED} == EXPECTED
    assert update["request"]["start"] and len(update["plan"]) == 5
    sent = llm.requests[0]
    assert sent["response_format"]["json_schema"]["name"] == "TriageOut" and not sent.get("stream")


@pytest.mark.parametrize("answer", [
    json.dumps({**TRIAGE, "filters": {"model": "gpt-9-ultra"}}),
    "You probably want to save money.",
    json.dumps({**TRIAGE, "intent": "maybe"}),
], ids=["unknown-name", "not-json", "off-schema"])
def test_a_bad_triage_answer_falls_back_to_the_rules(workload, catalog, tmp_path, llm, answer):
    llm.script(Reply(content=answer))
    deps = model_deps(workload, catalog, tmp_path, llm.base_url)
    update = triage(deps, {"question": QUESTION})
    assert update["request"] == triage_rules.parse(QUESTION, data_end(deps), known_names(deps))
    assert "errors" not in update and len(llm.requests) == 1


@pytest.fixture
def parallel(workload, catalog, tmp_path, llm):
    """The data agent's update after a model turn asking for three tools at once."""
    llm.script(Reply(tool_calls=PARALLEL), Reply(content="Throughput, errors and latency are in."))
    deps = model_deps(workload, catalog, tmp_path, llm.base_url)
    request = triage_rules.parse(PLAIN, data_end(deps), known_names(deps))
    return {**data(deps, {"request": request, "question": PLAIN, "strategy": "sequential"}), "request": request}


def test_parallel_tool_calls_all_run_and_a_planned_one_runs_once(parallel):
    tools = sorted(call["tool"] for call in parallel["tool_calls"])
    assert tools == ["error_rate_analyzer", "latency_analyzer", "throughput_analyzer"]
    assert parallel["analyses"]["latency"]["args"]["model"] == "gpt-4o" and len(parallel["analyses"]) == 3


def test_parallel_tool_results_go_back_together(parallel, llm):
    first, second = llm.requests
    chosen = choose(offered("data"), parallel["request"], parallel["tasks"])
    assert [t["function"]["name"] for t in first["tools"]] == list(chosen) and second["stream"]
    assert "latency_analyzer" not in chosen  # planned: it runs anyway, so it is not offered
    assert [m["role"] for m in second["messages"][-4:]] == ["assistant", "tool", "tool", "tool"]
    assert [m["tool_call_id"] for m in second["messages"][-3:]] == [f"call_{i}_{n}" for i, (n, _) in enumerate(PARALLEL)]
    assert second["messages"][-1]["content"].startswith("error: 'latency_analyzer' is not offered here")


def test_a_hallucinated_number_is_caught_and_repaired(offline_state, workload, catalog, tmp_path, llm):
    llm.script(Reply(content=HALLUCINATED), Reply(make=grounded_prose))
    report = reporting(model_deps(workload, catalog, tmp_path, llm.base_url), offline_state)["report"]
    assert report["grounding"] == REPAIRED
    assert '"Spend is $987,654.32 per month."' in llm.requests[1]["messages"][-1]["content"]
    markdown = report["markdown"]
    assert "Spend runs at $" in markdown and "987,654" not in markdown
    assert markdown.index("## Executive summary") < markdown.index("## Summary") < markdown.index("## Appendix")


def test_hallucinating_twice_falls_back_to_the_template(offline_state, workload, catalog, tmp_path, llm):
    llm.script(Reply(content=HALLUCINATED), Reply(content=HALLUCINATED))
    update = reporting(model_deps(workload, catalog, tmp_path, llm.base_url), offline_state)
    grounding = update["report"]["grounding"]
    assert grounding["status"] == "fallback" and grounding["ungrounded"][0]["number"] == "$987,654.32"
    template = update["report"]["markdown"].split("\n\n## Appendix: model usage")[0]
    assert template == offline_state["report"]["markdown"].rstrip() and "errors" not in update


def test_a_429_is_retried_by_the_client(offline_state, workload, catalog, tmp_path, llm):
    llm.script(Reply(status=429), Reply(make=grounded_prose))
    report = reporting(model_deps(workload, catalog, tmp_path, llm.base_url, llm_max_retries=2), offline_state)["report"]
    assert len(llm.requests) == 2 and report["grounding"]["status"] == "grounded"
    assert report["markdown"].count("## Executive summary") == 1


def closed_port_url() -> str:
    """A base URL nothing listens on (a port just released), unique to this test."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/dead-endpoint/v1"


@pytest.fixture
def dead_run(workload, catalog, tmp_path):
    """A run whose model endpoint refuses connections; its final state and breaker snapshot."""
    base_url = closed_port_url()
    deps = model_deps(workload, catalog, tmp_path, base_url, llm_max_retries=0, llm_breaker_threshold=2)
    try:
        state = ask(deps, OPTIMIZE, strategy="conditional")
        yield state, next(s for s in snapshots() if s["endpoint"] == base_url)
    finally:
        BREAKERS.pop(base_url, None)


def test_a_dead_endpoint_opens_the_breaker_and_the_run_completes_offline(dead_run, offline_state):
    state, snapshot = dead_run
    assert snapshot["state"] == "open" and snapshot["refused"] >= 2
    assert UNAVAILABLE_NOTE in state["report"]["markdown"] and state["report"]["grounding"]["status"] == "fallback"
    fallen = [e["agent"] for e in state["errors"] if e["type"] == "ModelUnavailable"]
    assert fallen == ["triage", "data", "optimizations_core", "reporting"]
    assert [r["policy_id"] for r in state["recommendations"]] == [r["policy_id"] for r in offline_state["recommendations"]]


@pytest.mark.filterwarnings(*CACHE_WARNINGS)
def test_an_identical_request_is_served_by_the_llm_cache(workload, catalog, tmp_path, llm):
    llm.script(Reply(content=json.dumps(TRIAGE)))
    deps = model_deps(workload, catalog, tmp_path, llm.base_url)
    first, second = (triage(deps, {"question": QUESTION})["request"] for _ in range(2))
    assert first == second and first["target_saving_pct"] == 25
    assert len(llm.requests) == 1
    assert deps.llm.cache.stats() == {"backend": "memory", "entries": 1, "hits": 1, "misses": 1, "hit_rate": 0.5}


def full_script(llm: ScriptedLLM) -> None:
    """Script a model-mode run: triage, data (two tools, then text), optimizations (one tool), report."""
    llm.script(Reply(content=json.dumps({**TRIAGE, "window_days": None, "filters": {}, "target_savings_pct": 30})),
               offered_tools(2),
               Reply(content="Throughput and the forecast are in."),
               Reply(tool_calls=[("max_tokens_optimizer", {})]),
               Reply(content="Routing and caching matter most."),
               Reply(make=grounded_prose))


@pytest.fixture(scope="module")
def full_run(workload, catalog, tmp_path_factory):
    """A scripted model-mode run of the optimisation question, once for the module (its tests only read it):
    final state, custom events and the scripted server."""
    events: list[tuple[str, dict]] = []
    with scripted_server() as llm:
        full_script(llm)
        deps = model_deps(workload, catalog, tmp_path_factory.mktemp("full-run"), llm.base_url)
        state = ask(deps, OPTIMIZE, strategy="conditional", on_event=lambda mode, chunk: events.append((mode, chunk)))
    return state, [chunk for mode, chunk in events if mode == "custom"], llm


def test_a_full_run_in_model_mode(full_run, offline_state):
    state, events, llm = full_run
    assert all(state["agent_status"][a] == "done" for a in state["plan"]) and state["errors"] == [] and not llm.replies
    asked = {t["function"]["name"] for t in llm.requests[1]["tools"][:2]}
    assert asked | {"max_tokens_optimizer"} <= {a["tool"] for a in state["analyses"].values()}
    assert state["report"]["grounding"] == {"status": "grounded", "ungrounded": []}
    assert {e["agent"] for e in events if "token" in e} == {"data", "optimizations_core", "reporting"}
    assert asked <= {e["tool"] for e in events if e["event"] == "tool_call"}


def test_the_reports_figures_and_recommendations_are_those_of_offline_mode(full_run, offline_state):
    state = full_run[0]
    assert [r["policy_id"] for r in state["recommendations"]] == [r["policy_id"] for r in offline_state["recommendations"]]
    cited = [[(c["figure"], c["text"]) for c in s["report"]["citations"]] for s in (state, offline_state)]
    assert cited[0] == cited[1] and cited[0]


def test_every_agent_with_a_model_path_used_it(full_run):
    usage = full_run[0]["report"]["usage"]
    assert {agent for agent, used in usage["agents"].items() if used["sent"]} == {"triage", "data", "optimizations_core",
                                                                                  "reporting"}
