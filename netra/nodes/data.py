"""Data agent: plans one analysis task per topic and runs them, fanned out with `Send`.

With a model, the model's tool loop (`tool_loop.model_tools`) runs first on the agent's
first visit and may add analyses; planned tasks it already ran are not run again.
"""

from __future__ import annotations

from typing import Any

from langgraph.types import Send

from netra.graph.deps import Deps
from netra.graph.strategies import get_strategy
from netra.nodes._common import dump, record, scope_args
from netra.nodes.tool_loop import model_tools

# topic -> (task key, tool, extra arguments)
TOPIC_TASKS: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "cost": [("cost", "cost_analyzer", {}),
             ("cost_by_feature", "cost_driver_identifier", {"dimension": "feature"}),
             ("cost_by_model", "cost_driver_identifier", {"dimension": "model"})],
    "latency": [("latency", "latency_analyzer", {"group_by": "model"})],
    "tokens": [("tokens", "token_usage_analyzer", {})],
    "cache": [("cache", "kv_cache_finder", {})],
    "models": [("models", "model_mix_analyzer", {})],
}
OPTIMIZE_TOPICS = ("cost", "latency", "tokens", "cache", "models")


def plan_tasks(request: dict) -> list[dict[str, Any]]:
    """Return the analysis tasks for a request: every topic for optimisation, else its topics."""
    topics = OPTIMIZE_TOPICS if request.get("intent") == "optimize" else request.get("topics", ["cost"])
    scope = scope_args(request)
    tasks = [{"key": k, "tool": t, "args": {**scope, **a}} for topic in topics for k, t, a in TOPIC_TASKS[topic]]
    return tasks


def run_task(deps: Deps, task: dict[str, Any]) -> dict[str, Any]:
    """Run one analysis task; a failing tool is recorded, not fatal to the others."""
    try:
        result = deps.dispatcher().run(task["tool"], task["args"])
    except Exception as exc:  # one failed analysis must not lose the rest
        error = {"agent": "data", "task": task["key"], "type": type(exc).__name__, "message": str(exc)}
        return {"analyses": {task["key"]: {"tool": task["tool"], "error": str(exc)}}, "errors": [error]}
    return {"analyses": {task["key"]: dump(result)}, "tool_calls": [record(result)]}


def pending(state: dict) -> list[dict[str, Any]]:
    """Return the planned tasks that have no result yet."""
    done = state.get("analyses", {})
    return [t for t in state.get("tasks", []) if t["key"] not in done]


def data(deps: Deps, state: dict) -> dict:
    """Plan on the first visit and fan out (or run in turn); close when the workers return."""
    if state.get("agent_status", {}).get("data") == "running":
        return {"agent_status": {"data": "done"}}
    tasks = plan_tasks(state.get("request", {}))
    extra = model_tools(deps, "data", state, tasks)
    if get_strategy(state.get("strategy") or deps.settings.strategy).fan_out:
        return {"tasks": tasks, **extra, "agent_status": {"data": "running"}}
    return _run_in_turn(deps, tasks, extra)


def _start(tasks: list[dict[str, Any]], extra: dict[str, Any]) -> dict[str, Any]:
    return {"tasks": tasks, "analyses": dict(extra.get("analyses", {})), "tool_calls": list(extra.get("tool_calls", [])),
            "errors": list(extra.get("errors", [])), "llm_usage": list(extra.get("llm_usage", []))}


def _run_in_turn(deps: Deps, tasks: list[dict[str, Any]], extra: dict[str, Any]) -> dict:
    merged = _start(tasks, extra)
    for task in [t for t in tasks if t["key"] not in merged["analyses"]]:
        for key, value in run_task(deps, task).items():
            merged[key] = {**merged[key], **value} if isinstance(value, dict) else merged[key] + value
    return {**merged, "agent_status": {"data": "done"}}


def data_task(deps: Deps, payload: dict) -> dict:
    """Run one `Send`-dispatched analysis."""
    return run_task(deps, payload["task"])


def route_data(state: dict) -> list[Send] | str:
    """After `data`: send each pending task to a worker, or go back to the supervisor."""
    if state.get("agent_status", {}).get("data") != "running":
        return "supervisor"
    return [Send("data_task", {"task": t}) for t in pending(state)] or "data"
