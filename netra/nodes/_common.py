"""Helpers every node uses: the question, the scope of a request, tool-call records."""

from __future__ import annotations

from typing import Any

from netra.graph.state import Request
from netra.tools.base import ToolResult

_SCOPE_KEYS = ("start", "end")


def last_human(state: dict) -> str:
    """Return the text of the thread's last human message ("" when none)."""
    humans = [m for m in state.get("messages", []) if getattr(m, "type", "") == "human"]
    return str(humans[-1].content) if humans else ""


def pending_question(state: dict) -> str | None:
    """Return a question the thread has not answered yet: `question` or the last human message."""
    answered = state.get("answered")
    return next((q for q in (state.get("question"), last_human(state)) if q and q != answered), None)


def question_of(state: dict) -> str:
    """Return the question to work on: a new one, else `question`, else the last message."""
    return pending_question(state) or state.get("question") or last_human(state)


def scope_args(request: Request) -> dict[str, Any]:
    """Return the tool arguments that scope analyses to the request's window and filters."""
    window = {k: request.get(k) for k in _SCOPE_KEYS if request.get(k)}
    return {**window, **request.get("filters", {})}


def record(result: ToolResult) -> dict[str, Any]:
    """Return the provenance record of one tool call."""
    return {"call_id": result.call_id, "tool": result.tool, "args": result.args,
            "figures": {k: f.model_dump() for k, f in result.figures.items()},
            "evidence": [e.model_dump(mode="json") for e in result.evidence]}


def dump(result: ToolResult) -> dict[str, Any]:
    """Return a tool result as plain JSON-able data for the state."""
    return result.model_dump(mode="json")
