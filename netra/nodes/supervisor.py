"""Supervisor: reads the state, picks the next agent by the plan, ends when all are finished."""

from __future__ import annotations

from langgraph.graph import END

from netra.graph.deps import Deps
from netra.graph.hooks import emit
from netra.graph.state import FINISHED


def next_agent(state: dict) -> str:
    """Return the next unfinished agent of the plan (triage first), or END."""
    status = state.get("agent_status", {})
    plan = state.get("plan") or ["triage"]
    if status.get("triage") == "failed":
        plan = ["triage", "reporting"]
    pending = [a for a in plan if status.get(a) not in FINISHED]
    return pending[0] if pending else END


def supervisor(deps: Deps, state: dict) -> dict:
    """Announce the decision; `next_agent` is the router that acts on it."""
    emit("supervisor_decision", {"agent": "supervisor", "next": next_agent(state)})
    return {}
