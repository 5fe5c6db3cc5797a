"""The graph's state: typed channels, with reducers where parallel tasks write at once."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

AgentName = Literal["triage", "data", "optimizations_core", "actions_to_meet_goals", "reporting"]
AGENTS: tuple[AgentName, ...] = ("triage", "data", "optimizations_core", "actions_to_meet_goals", "reporting")
AGENT_ENDED = ("done", "failed", "skipped")  # the agent states that end an agent (a run's statuses: netra.server.runs.status)


RESET = "__reset__"


def merge(left: dict | None, right: dict | None) -> dict:
    """Merge two dicts, right winning (parallel tasks write different keys); RESET clears."""
    right = right or {}
    if right.get(RESET):
        return {k: v for k, v in right.items() if k != RESET}
    return {**(left or {}), **right}


def extend(left: list | None, right: list | None) -> list:
    """Concatenate lists (parallel tasks append); a leading RESET starts afresh."""
    right = right or []
    if right[:1] == [RESET]:
        return list(right[1:])
    return (left or []) + right


def fresh_run(question: str, strategy: str) -> dict:
    """Return the input that starts a new run on a thread, clearing the last run's results."""
    cleared = {k: {RESET: True} for k in ("analyses", "simulations", "agent_status")}
    emptied = {k: [RESET] for k in ("findings", "errors", "tool_calls", "llm_usage")}
    blank = {"tasks": [], "policies": [], "recommendations": [], "actions": [], "plan": [],
             "simulation": {}, "report": {}, "request": {}}
    return {"question": question, "strategy": strategy, **cleared, **emptied, **blank}


class Request(TypedDict, total=False):
    """What triage understood: intent, goal, window, filters, constraints, target."""

    question: str
    intent: Literal["optimize", "question"]
    goal: Literal["cost", "latency", "both"]
    start: str | None
    end: str | None
    window_label: str
    filters: dict[str, str]
    target_saving_pct: float | None
    preserve_quality: bool
    topics: list[str]
    constraints: dict[str, float]


class NetraState(TypedDict, total=False):
    """State of one analysis run; `thread_id` in the config is the chat thread."""

    messages: Annotated[list[AnyMessage], add_messages]
    question: str
    answered: str
    strategy: str
    approval: bool  # pause for a human's approval before the actions agent acts (netra.graph.approval)
    request: Request
    plan: list[str]
    tasks: list[dict[str, Any]]
    analyses: Annotated[dict[str, dict[str, Any]], merge]
    findings: Annotated[list[dict[str, Any]], extend]
    policies: list[dict[str, Any]]
    simulations: Annotated[dict[str, dict[str, Any]], merge]
    recommendations: list[dict[str, Any]]
    simulation: dict[str, Any]
    actions: list[dict[str, Any]]
    report: dict[str, Any]
    agent_status: Annotated[dict[str, str], merge]
    errors: Annotated[list[dict[str, Any]], extend]
    tool_calls: Annotated[list[dict[str, Any]], extend]
    llm_usage: Annotated[list[dict[str, Any]], extend]  # Netra's own model calls (netra.llm.usage)
