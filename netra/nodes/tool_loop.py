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
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass, field
from typing import Any, Callable

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import Runnable

from netra.errors import ToolNotFoundError
from netra.graph.deps import Deps
from netra.llm.guard import guarded
from netra.llm.stream import stream_invoke
from netra.nodes._common import dump, record, scope_args
from netra.nodes._model import log, with_model
from netra.tools import ToolRegistry, ToolResult
from netra.tools.base import ToolSpec
from netra.tools.dispatcher import call_id

MAX_STEPS = 6
MAX_WORKERS = 8
ROWS_SHOWN = 5
MAX_TOOL_TEXT = 4000
_FINDERS_EXCLUDED = ("policy_proposer",)

# agent -> which tools it offers the model
OFFERED: dict[str, Callable[[ToolSpec], bool]] = {
    "data": lambda s: s.family == "analysis",
    "optimizations_core": lambda s: s.family == "optimization" and "policies" not in s.args_model.model_fields
    and s.name not in _FINDERS_EXCLUDED,
}
SYSTEM = {
    "data": "You are the data agent of Netra, which analyses a team's LLM request telemetry with Apex tools. "
            "These analyses run anyway, do not repeat them: {planned}. Call the tools the question needs "
            "beyond those (several at once when they are independent), then say in two or three sentences "
            "what the results show.",
    "optimizations_core": "You are the optimizations agent of Netra. policy_proposer runs anyway and turns "
                          "the standard finders' findings into policies. Call a finder only where the question "
                          "needs more detail (several at once when independent), then say in two sentences "
                          "which opportunities matter most.",
}
COMMON = ("\nQuestion: {question}\nScope (the window and filters are added to every tool that takes them): "
          "{scope}\nQuote numbers only as the tools returned them.")


def openai_tool(spec: ToolSpec) -> dict[str, Any]:
    """Return a tool as an OpenAI function tool: name, description, JSON schema of its arguments."""
    return {"type": "function", "function": {"name": spec.name, "description": spec.description,
                                             "parameters": spec.args_model.model_json_schema()}}


def offered(agent: str) -> dict[str, ToolSpec]:
    """Return the tools `agent` offers the model, by name."""
    return {s.name: s for s in ToolRegistry().specs() if OFFERED[agent](s)}


def scoped(spec: ToolSpec, args: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    """Return the model's arguments with the request's window and filters (model's values win)."""
    return {**scope, **args} if "start" in spec.args_model.model_fields else dict(args)


def summary(result: ToolResult) -> str:
    """Return what the model sees of a tool result: figures, first rows, notes (as JSON)."""
    figures = {name: {"value": f.value, "unit": f.unit, "label": f.label} for name, f in result.figures.items()}
    text = json.dumps({"call_id": result.call_id, "figures": figures, "rows": result.rows[:ROWS_SHOWN],
                       "notes": result.notes}, default=str)
    return text[:MAX_TOOL_TEXT]


@dataclass
class Outcome:
    """One tool call's answer to the model, and its result when it ran."""

    message: ToolMessage
    result: ToolResult | None = None


def run_call(deps: Deps, specs: dict[str, ToolSpec], scope: dict[str, Any], call: dict[str, Any]) -> Outcome:
    """Run one model-requested call; a failure goes back to the model as an error message."""
    try:
        if call["name"] not in specs:
            raise ToolNotFoundError(f"{call['name']!r} is not offered here; offered: {', '.join(specs)}")
        result = deps.dispatcher().run(call["name"], scoped(specs[call["name"]], call.get("args") or {}, scope))
    except Exception as exc:  # the model may correct a bad call on its next turn
        return Outcome(ToolMessage(content=f"error: {exc}", tool_call_id=call["id"], status="error"))
    return Outcome(ToolMessage(content=summary(result), tool_call_id=call["id"]), result)


def run_calls(deps: Deps, specs: dict[str, ToolSpec], scope: dict[str, Any], calls: list[dict]) -> list[Outcome]:
    """Run one turn's calls in parallel, each worker in a copy of this thread's context."""
    with ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(calls))) as pool:
        futures = [pool.submit(copy_context().run, run_call, deps, specs, scope, call) for call in calls]
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
    results: list[ToolResult] = field(default_factory=list)

    def step(self) -> bool:
        """One model turn; run the tools it asked for. Return whether it asked for any."""
        reply = guarded(self.deps.settings, lambda: stream_invoke(self.model, self.messages, self.agent))
        self.messages.append(reply)
        if reply.tool_calls:
            self._run(reply.tool_calls)
        return bool(reply.tool_calls)

    def _run(self, calls: list[dict[str, Any]]) -> None:
        outcomes = run_calls(self.deps, self.specs, self.scope, calls)
        self.messages.extend(o.message for o in outcomes)
        self.results.extend(o.result for o in outcomes if o.result is not None)

    def run(self, steps: int = MAX_STEPS) -> list[ToolResult]:
        """Turn until the model stops asking for tools, or `steps` turns."""
        for _ in range(steps):
            if not self.step():
                return self.results
        log(self.agent, f"tool loop stopped after {steps} model turns")
        return self.results


def prompt(agent: str, state: dict, tasks: list[dict[str, Any]]) -> list[BaseMessage]:
    """Return the agent's instructions (question, scope, planned tasks) and the question."""
    request = state.get("request", {})
    question = request.get("question") or state.get("question", "")
    planned = ", ".join(f"{t['tool']}({json.dumps(t['args'])})" for t in tasks) or "none"
    system = SYSTEM[agent].format(planned=planned) + COMMON.format(question=question, scope=json.dumps(scope_args(request)))
    return [SystemMessage(content=system), HumanMessage(content=question)]


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


def _loop(deps: Deps, agent: str, llm: BaseChatModel, state: dict, tasks: list[dict[str, Any]]) -> dict:
    specs = offered(agent)
    bound = llm.bind_tools([openai_tool(s) for s in specs.values()])
    loop = ToolLoop(deps, agent, bound, specs, scope_args(state.get("request", {})), prompt(agent, state, tasks))
    return to_state(loop.run(), planned_ids(tasks))


def model_tools(deps: Deps, agent: str, state: dict, tasks: list[dict[str, Any]]) -> dict:
    """Run `agent`'s tool loop; return its state update ({} offline; the note when the model fails)."""
    return with_model(deps, agent, lambda llm: _loop(deps, agent, llm, state, tasks), dict)
