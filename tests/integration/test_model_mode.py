"""Model mode on servers with limits: refused features, a small context, and Netra's own usage.

The real `ChatOpenAI` client talks to the scripted server (`tests.support.llm_server`) set up as a
llama.cpp server is: `response_format: json_schema` refused (500 or 400 with the
validation message), tools refused, a context limit counted with the real tokenizer.
"""

from __future__ import annotations

import dataclasses
import json
from contextlib import ExitStack, contextmanager
from typing import Callable, Iterator

import pytest
from rich.console import Console

from netra.cli.runs import show_report
from netra.config import Settings
from netra.graph.runner import ask
from netra.llm import chat_model
from netra.llm.accounting import usage_workspace
from netra.llm.breaker import BREAKERS
from netra.llm.budget import CONTEXTS, context_tokens
from netra.llm.negotiate import KNOWN, capabilities
from netra.nodes import triage_rules
from netra.nodes.data import data
from netra.nodes.triage import data_end, known_names, triage
from netra.tools import ToolContext, ToolDispatcher
from tests.support.graphs import OPTIMIZE, PLAIN, Recorder, make_deps
from tests.support.llm_server import Limits, Reply, ScriptedLLM, offered_tools
from tests.support.model_mode import CACHE_WARNINGS, QUESTION, TRIAGE
from tests.support.servers import serving

AGENTS_WITH_A_MODEL = {"triage", "data", "optimizations_core", "reporting"}
LLAMA_CPP = 8192


@contextmanager
def scripted_servers() -> Iterator[Callable[[Limits], ScriptedLLM]]:
    """Start scripted servers with given limits; forget their breakers, capabilities and contexts after."""
    servers = Servers()
    with ExitStack() as servers.stack:
        yield servers.start
    for llm in servers.started:
        forget(llm.base_url)


@pytest.fixture
def serve():
    """Scripted servers of one test."""
    with scripted_servers() as start:
        yield start


@pytest.fixture(scope="module")
def serve_shared():
    """Scripted servers of the module's shared runs (each server's own URL: nothing learned leaks to a test)."""
    with scripted_servers() as start:
        yield start


@dataclasses.dataclass
class Servers:
    """The scripted servers of one test, served until its stack closes."""

    stack: ExitStack = dataclasses.field(default_factory=ExitStack)
    started: list[ScriptedLLM] = dataclasses.field(default_factory=list)

    def start(self, limits: Limits) -> ScriptedLLM:
        """Serve a new scripted server with `limits`; return it."""
        self.started.append(ScriptedLLM(limits=limits))
        self.stack.enter_context(serving(self.started[-1].app))
        return self.started[-1]


def forget(base_url: str) -> None:
    """Drop what the process learned about an endpoint."""
    BREAKERS.pop(base_url, None)
    CONTEXTS.pop(base_url, None)
    for key in [k for k in KNOWN if k[0] == base_url]:
        KNOWN.pop(key)


def model_deps(workload, catalog, tmp_path, base_url: str, **overrides):
    """Deps over the workload with the factory's ChatOpenAI pointed at `base_url`."""
    deps = make_deps(workload, catalog, tmp_path, Recorder(), **{"llm_base_url": base_url, "llm_max_retries": 0, **overrides})
    return dataclasses.replace(deps, llm=chat_model(deps.settings))


@pytest.fixture(scope="module", params=[500, 400], ids=["llama-500", "strict-400"])
def no_json_schema(request, workload, catalog, tmp_path_factory, serve_shared):
    """Two triage questions to a server refusing json_schema (with `request.param`): updates, server, deps.
    Asked once per status for the module: its tests only read them."""
    llm = serve_shared(Limits(refuse=frozenset({"json_schema"}), refusal_status=request.param))
    llm.script(Reply(tool_calls=[("TriageOut", TRIAGE)]), Reply(tool_calls=[("TriageOut", TRIAGE)]))
    deps = model_deps(workload, catalog, tmp_path_factory.mktemp("no-json-schema"), llm.base_url)
    return [triage(deps, {"question": question}) for question in (QUESTION, QUESTION + " Thanks.")], llm, deps


def test_a_refused_json_schema_negotiates_tool_calling(no_json_schema):
    (first, second), llm, _ = no_json_schema
    assert first["request"]["filters"] == {"model": "gpt-4o"} and first["request"]["target_saving_pct"] == 25
    assert second["request"]["filters"] == first["request"]["filters"] and "errors" not in first
    assert [c["status"] for c in first["llm_usage"]] == ["refused", "ok"] and first["llm_usage"][0]["reason"] == "unsupported"


def test_the_refusal_is_remembered_and_never_counted_by_the_breaker(no_json_schema):
    _, llm, deps = no_json_schema
    assert len(llm.refused) == 1 and [r["tool_choice"]["function"]["name"] for r in llm.requests] == ["TriageOut"] * 2
    assert BREAKERS[llm.base_url].failures == 0 and capabilities(deps.settings).method == "function_calling"


def test_json_object_with_the_schema_in_the_prompt_when_tools_are_refused_too(workload, catalog, tmp_path, serve):
    llm = serve(Limits(refuse=frozenset({"json_schema", "tools"})))
    llm.script(Reply(content=json.dumps(TRIAGE)))
    update = triage(model_deps(workload, catalog, tmp_path, llm.base_url), {"question": QUESTION})
    assert update["request"]["filters"] == {"model": "gpt-4o"} and update["request"]["preserve_quality"]
    sent = llm.requests[0]
    assert sent["response_format"] == {"type": "json_object"} and '"target_savings_pct"' in sent["messages"][0]["content"]
    assert len(llm.refused) == 2 and BREAKERS[llm.base_url].failures == 0


def test_refused_tools_answer_with_the_planned_analyses_and_are_not_asked_again(workload, catalog, tmp_path, serve):
    llm = serve(Limits(refuse=frozenset({"tools"})))
    deps = model_deps(workload, catalog, tmp_path, llm.base_url)
    state = {"request": triage_rules.parse(PLAIN, data_end(deps), known_names(deps)), "strategy": "sequential"}
    first, second = data(deps, state), data(deps, state)
    assert sorted(first["analyses"]) == ["latency"] and first["errors"] == [] and len(llm.refused) == 1
    assert [c["status"] for c in first["llm_usage"]] == ["refused"] and second["llm_usage"] == []
    assert BREAKERS[llm.base_url].failures == 0 and llm.requests == []


def test_the_context_is_read_from_the_server(serve):
    with_props, models_only = serve(Limits(context_tokens=LLAMA_CPP)), serve(Limits(context_tokens=4096, serves_props=False))
    assert context_tokens(Settings(llm_base_url=with_props.base_url)) == LLAMA_CPP
    assert context_tokens(Settings(llm_base_url=models_only.base_url)) == 4096
    assert context_tokens(Settings(llm_base_url=models_only.base_url, llm_context_tokens=2048)) == 2048


OPTIMIZE_TRIAGE = {**TRIAGE, "window_days": None, "filters": {}, "target_savings_pct": 30}
# how triage's answer comes: as JSON content (json_schema, json_object), or as the schema's tool call
TRIAGE_REPLIES = {"content": Reply(content=json.dumps(OPTIMIZE_TRIAGE)),
                  "tool": Reply(tool_calls=[("TriageOut", OPTIMIZE_TRIAGE)])}


def full_script(llm: ScriptedLLM, triage_as: str = "content") -> None:
    """Script a model-mode run: triage, data (two tools, then text), optimizations (one tool, then text), report."""
    llm.script(TRIAGE_REPLIES[triage_as], offered_tools(2), Reply(content="Throughput and the forecast are in."),
               offered_tools(1), Reply(content="Routing and caching matter most."), Reply(make=grounded_prose))


def grounded_prose(body: dict) -> Reply:
    """A reply quoting the run's monthly spend exactly as the figures list writes it."""
    figures = json.loads(body["messages"][-1]["content"].split("Figures (JSON):\n", 1)[1])
    spend = next(f["text"] for f in figures if f["name"] == "monthly_cost_usd")
    return Reply(content=f"## Executive summary\n\nSpend runs at {spend} per month.\n\n## Rationale\n\nCut it safely.")


@pytest.fixture(scope="module")
def small_server_run(workload, catalog, tmp_path_factory, serve_shared):
    """The optimisation question answered against an 8,192-token llama.cpp-like server, once for the module:
    its tests only read it (and the usage workspace holds its calls only: the module's other runs come later)."""
    llm = serve_shared(Limits(refuse=frozenset({"json_schema"}), context_tokens=LLAMA_CPP))
    full_script(llm, "tool")
    deps = model_deps(workload, catalog, tmp_path_factory.mktemp("small-server"), llm.base_url)
    workload.delete_workspace(usage_workspace(deps.workspace_id))  # only this run's calls there
    return ask(deps, OPTIMIZE, strategy="conditional"), llm, deps


def test_the_whole_graph_uses_the_model_within_an_8k_context(small_server_run):
    state, llm, _ = small_server_run
    usage = state["report"]["usage"]
    assert state["errors"] == [] and not llm.replies and state["report"]["grounding"]["status"] == "grounded"
    assert [r.get("response_format", {}).get("type") for r in llm.refused] == ["json_schema"]
    assert all(usage["agents"][a]["sent"] >= 1 for a in AGENTS_WITH_A_MODEL) and set(usage["agents"]) == AGENTS_WITH_A_MODEL
    assert usage["total"]["input_tokens"] == sum(llm.prompts()) <= 12_000 and max(llm.prompts()) <= 4000
    assert all(p + int(r.get("max_completion_tokens") or 0) <= LLAMA_CPP for p, r in zip(llm.prompts(), llm.requests))


def test_the_runs_usage_is_priced_and_shown(small_server_run):
    usage, markdown = small_server_run[0]["report"]["usage"], small_server_run[0]["report"]["markdown"]
    assert usage["total"]["cost_usd"] > 0 and usage["total"]["cached_input_tokens"] > 0
    assert usage["total"]["refusals"] == 1 and usage["agents"]["triage"]["refusals"] == 1
    assert "## Appendix: model usage" in markdown and "| **total** | 7 |" in markdown


def test_the_runs_usage_is_stored_apart_and_analysable(small_server_run, workload):
    state, _, deps = small_server_run
    own = ToolDispatcher(ToolContext(workload, deps.catalog, None, workspace_id=usage_workspace(deps.workspace_id)))
    cost = own.run("cost_analyzer", {}).value("total_cost_usd")
    features = own.run("cost_driver_identifier", {"dimension": "feature"}).rows
    assert cost == pytest.approx(state["report"]["usage"]["total"]["cost_usd"], abs=1e-6)  # the tool rounds to 6 decimals
    assert {row["feature"] for row in features} == {"netra.triage", "netra.data", "netra.optimizations", "netra.reporting"}
    assert "netra.triage" not in known_names(deps)["feature"]


def test_a_call_that_cannot_fit_is_not_sent(workload, catalog, tmp_path, serve):
    llm = serve(Limits(context_tokens=1500))
    llm.script(TRIAGE_REPLIES["content"])
    state = ask(model_deps(workload, catalog, tmp_path, llm.base_url), OPTIMIZE, strategy="conditional")
    skipped = [c for c in state["llm_usage"] if c["status"] == "skipped"]
    assert llm.refused == [] and len(llm.requests) == 1 and state["errors"] == []
    assert {c["agent"] for c in skipped} == {"data", "optimizations_core", "reporting"}
    assert state["report"]["usage"]["total"]["skipped"] == 3 and state["report"]["grounding"]["status"] == "fallback"


@pytest.mark.filterwarnings(*CACHE_WARNINGS)
def test_a_repeated_question_costs_nothing(workload, catalog, tmp_path, serve):
    llm = serve(Limits(context_tokens=LLAMA_CPP))
    full_script(llm)
    deps = model_deps(workload, catalog, tmp_path, llm.base_url)
    first, again = (ask(deps, OPTIMIZE, strategy="conditional")["report"]["usage"]["total"] for _ in range(2))
    assert first["sent"] == 6 and len(llm.requests) == 6
    assert again["cache_hits"] == again["calls"] == 6 and again["input_tokens"] == 0 and again["cost_usd"] == 0


def test_netra_ask_prints_the_runs_usage(small_server_run):
    console = Console(record=True, width=200)
    show_report(console, small_server_run[0]["report"])
    text = console.export_text()
    assert "model usage (gpt-4o-mini): 7 calls, 0 from the LLM cache" in text and "Appendix: model usage" in text
