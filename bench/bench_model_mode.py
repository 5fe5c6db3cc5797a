"""Benchmark: input tokens of a full optimisation question in model mode, before and after budgets.

Loads the `mixed` scenario (20,000 events, seed 7, 14 days) into a temporary chDB store and
answers the optimisation question through the real ChatOpenAI client against the scripted
OpenAI-compatible server (`tests.support.llm_server`), which counts tokens with the real tokenizer
(`netra.llm.tokens`: cl100k_base, offline). Rows:

* `before`: the former planning, emulated: every tool of the agent's family bound with its
  whole description and schema, results of up to ~1,000 tokens, the whole report and up to
  200 figures (every field) for the writer, no per-call cap;
* `after`: context budgets, tools chosen for the question, compact descriptions;
* `after, llama.cpp 8k`: the same against a server that refuses json_schema and has an
  8,192-token context (triage negotiates tool calling);
* `repeated`: the same question again: the LLM response cache answers.

Targets (after): at most 12,000 input tokens in total, no call over 4,000, every call
within 8,192 with its answer; the report's figures equal offline mode's.

    python bench/bench_model_mode.py
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import tempfile
import warnings
from contextlib import ExitStack, nullcontext
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the scripted server lives in tests/

from netra.config import Settings  # noqa: E402
from netra.graph.deps import Deps  # noqa: E402
from netra.graph.hooks import Hooks  # noqa: E402
from netra.graph.runner import ask  # noqa: E402
from netra.llm import chat_model  # noqa: E402
from netra.llm.budget import ANSWER_TOKENS  # noqa: E402
from netra.llm.tokens import encoding_name  # noqa: E402
from netra.nodes import report_model, tool_loop  # noqa: E402
from netra.persistence.analytics import open_store  # noqa: E402
from netra.workloads.catalog import load_catalog  # noqa: E402
from netra.workloads.synthetic import generate_and_load  # noqa: E402
from tests.support.llm_server import Limits, Reply, ScriptedLLM, offered_tools  # noqa: E402
from tests.support.servers import serving  # noqa: E402

QUESTION = "How can we cut our LLM spend by 30% without hurting quality?"
TRIAGE = {"intent": "optimize", "goal": "cost", "window_days": None, "filters": {},
          "constraints": {"max_quality_drop": 0}, "target_savings_pct": 30, "topics": ["cost"]}
CONTEXT = 8192
TARGET_TOTAL, TARGET_CALL = 12_000, 4_000
HEADER = (f"tokenizer {{tokenizer}}; targets: total <= {{total:,}}, call <= {{call:,}}, context {{context:,}}\n"
          f"{'case':<22}{'calls':>6}{'input':>10}{'max call':>10}{'>ctx':>7}{'hits':>7}  cost      figures=offline")


def full_tool(spec) -> dict:
    """A tool as the former planning bound it: whole description, whole schema."""
    return {"type": "function", "function": {"name": spec.name, "description": spec.description,
                                             "parameters": spec.args_model.model_json_schema()}}


def legacy() -> ExitStack:
    """Patch the planning back to the former one: every tool, whole schemas, long results, every figure."""
    stack = ExitStack()
    stack.enter_context(mock.patch.object(tool_loop, "choose", lambda specs, request, tasks: specs))
    stack.enter_context(mock.patch.object(tool_loop, "compact_tool", full_tool))
    stack.enter_context(mock.patch.object(tool_loop, "RESULT_TOKENS", 1000))
    stack.enter_context(mock.patch.object(report_model, "LEFT_OUT", re.compile(r"\n## Appendix\b.*", re.S)))
    stack.enter_context(mock.patch.object(report_model, "shown_figures", lambda figures, room: figures[:200]))
    return stack


def prose(body: dict) -> Reply:
    """The report writer's answer, quoting the monthly spend as the figures list writes it."""
    figures = json.loads(body["messages"][-1]["content"].split("Figures (JSON):\n", 1)[1])
    spend = next(f["text"] for f in figures if f["name"] == "monthly_cost_usd")
    return Reply(content=f"## Executive summary\n\nSpend runs at {spend} per month.\n\n## Rationale\n\nCut it safely.")


def script(llm: ScriptedLLM, triage_as_tool: bool) -> None:
    """Triage, data (two tools, then text), optimizations (one tool, then text), the report."""
    triage = Reply(tool_calls=[("TriageOut", TRIAGE)]) if triage_as_tool else Reply(content=json.dumps(TRIAGE))
    llm.script(triage, offered_tools(2), Reply(content="Two analyses are in."), offered_tools(1),
               Reply(content="Caching matters most."), Reply(make=prose))


@dataclasses.dataclass
class Case:
    """One measured configuration."""

    name: str
    limits: Limits
    before: bool = False
    repeat: bool = False

    def settings(self, home: Path, base_url: str) -> Settings:
        """Return the run's settings: the scripted endpoint, no retries; no per-call cap `before`."""
        return Settings(home=home, llm_base_url=base_url, llm_max_retries=0,
                        llm_call_input_tokens=10**6 if self.before else 4000)

    def run(self, store, catalog, home: Path) -> dict:
        """Answer the question (twice when `repeat`); return the last state."""
        llm = ScriptedLLM(limits=self.limits)
        script(llm, "json_schema" in self.limits.refuse)
        with serving(llm.app), (legacy() if self.before else nullcontext()):
            settings = self.settings(home, llm.base_url)
            deps = Deps(store=store, catalog=catalog, settings=settings, hooks=Hooks(), llm=chat_model(settings))
            return [ask(deps, QUESTION, strategy="conditional") for _ in range(2 if self.repeat else 1)][-1]


CASES = (Case("before", Limits(), before=True), Case("after", Limits()),
         Case("after, llama.cpp 8k", Limits(refuse=frozenset({"json_schema"}), context_tokens=CONTEXT)),
         Case("repeated (LLM cache)", Limits(), repeat=True))


def row(case: Case, state: dict, offline: list) -> str:
    """One line of the table, from the run's own usage records: calls sent, input, largest call, over the context."""
    sent = [r for r in state["llm_usage"] if r["status"] in ("ok", "refused") and not r["cache_hit"]]
    inputs = [r["input_tokens"] for r in sent]
    over = sum(r["input_tokens"] + ANSWER_TOKENS[r["purpose"]] > CONTEXT for r in sent)
    total, same = state["report"]["usage"]["total"], [(c["figure"], c["text"]) for c in state["report"]["citations"]] == offline
    return (f"{case.name:<22}{len(sent):>6}{sum(inputs):>10,}{max(inputs, default=0):>10,}{over:>7}"
            f"{total['cache_hits']:>7}  ${total['cost_usd'] or 0:.5f}  {'yes' if same else 'NO'}")


def offline_figures(store, catalog, home: Path) -> list[tuple[str, str]]:
    """Return the figures (name, text) the offline report cites."""
    state = ask(Deps(store=store, catalog=catalog, settings=Settings(home=home), hooks=Hooks()), QUESTION)
    return [(c["figure"], c["text"]) for c in state["report"]["citations"]]


def main() -> None:
    """Load the workload, run every case, print the table."""
    home = Path(tempfile.mkdtemp(prefix="netra-bench-model-"))
    store, catalog = open_store(f"chdb://{home / 'analytics'}"), load_catalog()
    generate_and_load(store, catalog, "mixed", 20_000, 7, 14.0)
    offline = offline_figures(store, catalog, home)
    print(HEADER.format(tokenizer=encoding_name(), total=TARGET_TOTAL, call=TARGET_CALL, context=CONTEXT))
    for case in CASES:
        print(row(case, case.run(store, catalog, home), offline))


if __name__ == "__main__":
    warnings.simplefilter("ignore")  # the LLM cache's beta notices would interleave with the table
    main()
