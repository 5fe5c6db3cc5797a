"""Reporting: compile the report with `final_report_generator` and answer in the thread."""

from __future__ import annotations

from langchain_core.messages import AIMessage

from netra.graph.deps import Deps
from netra.nodes._common import question_of

_INPUTS = ("question", "strategy", "request", "analyses", "recommendations", "simulation",
           "actions", "errors", "tool_calls")


def reporting(deps: Deps, state: dict) -> dict:
    """Compile the report and post it to the thread."""
    result = deps.dispatcher().run("final_report_generator", {k: state[k] for k in _INPUTS if state.get(k) is not None})
    report = _report(result)
    return {"report": report, "messages": [AIMessage(content=report["markdown"])],
            "answered": question_of(state), "agent_status": {"reporting": "done"}}


def _report(result) -> dict:
    row = result.rows[0]
    return {"markdown": row["markdown"], "citations": row["citations"], "call_id": result.call_id,
            "grounded": result.value("ungrounded_numbers") == 0, "ungrounded": result.notes}
