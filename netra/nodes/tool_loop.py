"""Model mode for data and optimizations_core: a tool-calling loop over the Apex tools.

    update = model_tools(deps, "data", state, planned_tasks)   # {} offline

The agent's tools (data: the `analysis` family; optimizations_core: the opportunity
finders) are bound to the model as OpenAI function tools (name, description, JSON schema
of the arguments). Each model turn may ask for several tools: they run in parallel in a
thread pool over the dispatcher (each worker runs in a copy of the node's context, so
tool_call/tool_result events reach the run's stream), their results go back as
ToolMessages together, and the loop ends when the model answers without tool calls or
after MAX_STEPS turns. The request's window and filters are added to the arguments of
every tool that takes a window.

The offline task list still runs (the report's sections need its results); the model's
calls come on top. A model call equal to a planned task fills that task's key (so it is
not run twice); any other lands in `analyses` under its call id, and every call is in
`tool_calls` for the provenance appendix.

Each step fits a context budget (`netra.llm.budget`): the tools offered are those chosen
for the question, described compactly (`tool_choice`), results are cut to their share of
what is left, and a step that still cannot fit is not sent: the loop ends there with the
results it has, and says so. The system prompt is the same for every question of an agent
(a stable prefix a provider's prompt cache can reuse); the question, scope and planned
tasks follow it. An endpoint that refuses tools is remembered (`netra.llm.negotiate`):
later tool loops on it answer with the planned tasks at once.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass, field
from typing import Any, Callable

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import Runnable

from netra.errors import ToolNotFoundError
from netra.graph.deps import Deps
from netra.llm.budget import Budget, OverBudget, answer_limited, budget_for
from netra.llm.guard import FeatureRefused
from netra.llm.negotiate import refuse, supports
from netra.llm.stream import stream_invoke
from netra.llm.tokens import langchain_tokens
from netra.llm.usage import metered
from netra.nodes._common import dump, record, scope_args
from netra.nodes._model import log, with_model
from netra.nodes.tool_choice import RESULT_TOKENS, choose, compact_tool, summary
from netra.tools import ToolRegistry, ToolResult
from netra.tools.base import ToolSpec
from netra.tools.dispatcher import call_id

MAX_STEPS = 6
MAX_WORKERS = 8
MIN_RESULT_TOKENS = 120
_FINDERS_EXCLUDED = ("policy_proposer",)

# agent -> which tools it offers the model
OFFERED: dict[str, Callable[[ToolSpec], bool]] = {
    "data": lambda s: s.family == "analysis",
    "optimizations_core": lambda s: s.family == "optimization" and "policies" not in s.args_model.model_fields
    and s.name not in _FINDERS_EXCLUDED,
}
SYSTEM = {
    "data": "You are the data agent of Netra, which analyses a team's LLM request telemetry with Apex tools. "
            "The analyses the user message lists run anyway: do not repeat them. Call the tools the question "
            "needs beyond those (several at once when they are independent), then say in two or three "
            "sentences what the results show.",
    "optimizations_core": "You are the optimizations agent of Netra. policy_proposer runs anyway and turns "
                          "the standard finders' findings into policies. Call a finder only where the question "
                          "needs more detail (several at once when independent), then say in two sentences "
                          "which opportunities matter most.",
}
COMMON = ("\nThe request's window and filters are added to every tool that takes them. "
          "Quote numbers only as the tools returned them.")
ASKED = "Question: {question}\nScope: {scope}\nRun anyway: {planned}"


def offered(agent: str) -> dict[str, ToolSpec]:
    """Return the tools `agent` offers the model, by name."""
    return {s.name: s for s in ToolRegistry().specs() if OFFERED[agent](s)}


def scoped(spec: ToolSpec, args: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    """Return the model's arguments with the request's window and filters (model's values win)."""
    return {**scope, **args} if "start" in spec.args_model.model_fields else dict(args)


@dataclass
class Outcome:
    """One tool call's answer to the model, and its result when it ran."""

    message: ToolMessage
    result: ToolResult | None = None


@dataclass(frozen=True)
class Calls:
    """What one turn's tool calls run against: the offered tools, the scope, each result's token share."""

    deps: Deps
    specs: dict[str, ToolSpec]
    scope: dict[str, Any]
    result_tokens: int = RESULT_TOKENS

    def spec(self, name: str) -> ToolSpec:
        """Return the offered tool `name`; raise ToolNotFoundError for one not offered."""
        if name not in self.specs:
            raise ToolNotFoundError(f"{name!r} is not offered here; offered: {', '.join(self.specs)}")
        return self.specs[name]

    def run_one(self, call: dict[str, Any]) -> Outcome:
        """Run one model-requested call; a failure goes back to the model as an error message."""
        try:
            args = scoped(self.spec(call["name"]), call.get("args") or {}, self.scope)
            result = self.deps.dispatcher().run(call["name"], args)
        except Exception as exc:  # the model may correct a bad call on its next turn
            return Outcome(ToolMessage(content=f"error: {str(exc)[:500]}", tool_call_id=call["id"], status="error"))
        return Outcome(ToolMessage(content=summary(result, self.result_tokens), tool_call_id=call["id"]), result)

    def run(self, calls: list[dict]) -> list[Outcome]:
        """Run one turn's calls in parallel, each worker in a copy of this thread's context."""
        with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(calls))) as pool:
            futures = [pool.submit(copy_context().run, self.run_one, call) for call in calls]
            return [future.result() for future in futures]


@dataclass
class ToolLoop:
    """The conversation of one agent with the model, and the tool results it produced."""

    deps: Deps
    agent: str
    model: Runnable
    specs: dict[str, ToolSpec]
    scope: dict[str, Any]
    messages: list[BaseMessage]
    tools: list[dict[str, Any]]
    budget: Budget
    results: list[ToolResult] = field(default_factory=list)

    def tokens(self) -> int:
        """Return the input tokens of the next step: the conversation and the offered tools."""
        return langchain_tokens(self.messages, self.tools)

    def step(self) -> bool:
        """One model turn (within the budget); run the tools it asked for. Return whether it asked for any."""
        reply = self._asked()
        # only what the model said goes on: metadata (usage, ids) differs between a fresh and a
        # cached answer, and would make the next prompt miss the LLM cache
        self.messages.append(AIMessage(content=reply.content, tool_calls=reply.tool_calls))
        if reply.tool_calls:
            self._run(reply.tool_calls)
        return bool(reply.tool_calls)

    def _asked(self) -> AIMessage:
        planned = self.tokens()
        self.budget.admit(planned, self.agent, "tool_step")
        return metered(self.deps.settings, self.agent, "tool_step",
                       lambda: stream_invoke(self.model, self.messages, self.agent), planned=planned)

    def _run(self, calls: list[dict[str, Any]]) -> None:
        share = (self.budget.limit - self.tokens()) // (len(calls) + 1)
        outcomes = Calls(self.deps, self.specs, self.scope, max(MIN_RESULT_TOKENS, min(RESULT_TOKENS, share))).run(calls)
        self.messages.extend(o.message for o in outcomes)
        self.results.extend(o.result for o in outcomes if o.result is not None)

    def run(self, steps: int = MAX_STEPS) -> list[ToolResult]:
        """Turn until the model stops asking for tools, `steps` turns, or a turn that cannot fit."""
        try:
            if not self._turns(steps):
                log(self.agent, f"tool loop stopped after {steps} model turns")
        except OverBudget as exc:  # this step answers with the results so far
            log(self.agent, f"tool loop ended: {exc}", budget=True)
        return self.results

    def _turns(self, steps: int) -> bool:
        """Turn up to `steps` times; return whether the model stopped asking for tools."""
        for _ in range(steps):
            if not self.step():
                return True
        return False


def prompt(agent: str, state: dict, tasks: list[dict[str, Any]]) -> list[BaseMessage]:
    """Return the agent's fixed instructions (a cacheable prefix), then question, scope and planned tasks."""
    request = state.get("request", {})
    question = request.get("question") or state.get("question", "")
    planned = ", ".join(dict.fromkeys(t["tool"] for t in tasks)) or "none"
    asked = ASKED.format(question=question, scope=json.dumps(scope_args(request)), planned=planned)
    return [SystemMessage(content=SYSTEM[agent] + COMMON), HumanMessage(content=asked)]


def planned_ids(tasks: list[dict[str, Any]]) -> dict[str, str]:
    """Return {call id: task key} of the planned tasks (a model call with that id fills the key)."""
    registry = ToolRegistry()
    plain = {t["key"]: registry.get(t["tool"]).args_model.model_validate(t["args"]) for t in tasks}
    return {call_id(t["tool"], plain[t["key"]].model_dump(mode="json", exclude_none=True)): t["key"] for t in tasks}


def to_state(results: list[ToolResult], planned: dict[str, str]) -> dict[str, Any]:
    """Return the state update of the model's tool results ({} when it ran none)."""
    unique = list({r.call_id: r for r in results}.values())
    if not unique:
        return {}
    return {"analyses": {planned.get(r.call_id, r.call_id): dump(r) for r in unique},
            "tool_calls": [record(r) for r in unique]}


def served(deps: Deps) -> None:
    """Raise FeatureRefused when the endpoint is known to refuse tools (the agent answers offline)."""
    if not supports(deps.settings, "tools"):
        raise FeatureRefused("unsupported", "the model endpoint does not serve tool calls")


def _loop(deps: Deps, agent: str, llm: BaseChatModel, state: dict, tasks: list[dict[str, Any]]) -> dict:
    served(deps)
    request, budget = state.get("request", {}), budget_for(deps.settings, "tool_step")
    specs = choose(offered(agent), request, tasks)
    tools = [compact_tool(s) for s in specs.values()]
    loop = ToolLoop(deps, agent, answer_limited(llm, budget.answer).bind_tools(tools), specs, scope_args(request),
                    prompt(agent, state, tasks), tools, budget)
    return to_state(refuse(deps.settings, "tools", loop.run), planned_ids(tasks))


def model_tools(deps: Deps, agent: str, state: dict, tasks: list[dict[str, Any]]) -> dict:
    """Run `agent`'s tool loop; return its state update ({} offline; the note when the model fails)."""
    return with_model(deps, agent, lambda llm: _loop(deps, agent, llm, state, tasks), dict)
