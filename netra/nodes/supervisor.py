"""Supervisor: reads the state, picks the next agent by the plan, ends when all are finished."""

from __future__ import annotations

from langchain_core.messages import HumanMessage
from langgraph.graph import END

from netra.graph.deps import Deps
from netra.graph.hooks import emit
from netra.graph.state import AGENT_ENDED, fresh_run
from netra.nodes._common import last_human, pending_question


def next_agent(state: dict) -> str:
    """Return the next unfinished agent of the plan (triage first), or END."""
    status = state.get("agent_status", {})
    plan = state.get("plan") or ["triage"]
    if status.get("triage") == "failed":
        plan = ["triage", "reporting"]
    pending = [a for a in plan if status.get(a) not in AGENT_ENDED]
    return pending[0] if pending else END


def supervisor(deps: Deps, state: dict) -> dict:
    """Start afresh when a new question arrives on a finished thread; announce the next agent."""
    question = pending_question(state)
    update = restart(state, question) if question and _answered(state) else {}
    emit("supervisor_decision", {"agent": "supervisor", "next": "triage" if update else next_agent(state)})
    return update


def restart(state: dict, question: str) -> dict:
    """Clear the last run's results for `question`; put it in the thread if it came bare."""
    update = fresh_run(question, state.get("strategy") or "")
    return update if last_human(state) == question else {**update, "messages": [HumanMessage(content=question)]}


def _answered(state: dict) -> bool:
    # the last run reached its report, so a pending question is a new run
    return state.get("agent_status", {}).get("reporting") in AGENT_ENDED
