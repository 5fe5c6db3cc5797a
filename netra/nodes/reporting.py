"""Reporting: compile the report with `final_report_generator` and answer in the thread.

With a model, the model writes an executive summary and a rationale around the template's
tables (`report_model`), grounded in the run's figures; when its endpoint is down the
template answers alone with a note, as it does when other agents answered offline. In
model mode the run's model calls (every agent's `llm_usage`, and reporting's own) are
accounted at the end (`own_usage`): `report["usage"]` and the report's usage appendix.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.errors import GraphBubbleUp

from netra.graph.deps import Deps
from netra.llm.guard import ModelUnavailable
from netra.llm.usage import ledger
from netra.nodes import report_model
from netra.nodes._common import question_of
from netra.nodes._model import UNAVAILABLE_NOTE, log, unavailable, unavailable_agents
from netra.nodes.own_usage import account, with_usage
from netra.report.record import Report

_INPUTS = ("question", "strategy", "request", "analyses", "recommendations", "simulation",
           "actions", "errors", "tool_calls")


def reporting(deps: Deps, state: dict) -> dict:
    """Compile the report and post it to the thread."""
    result = deps.dispatcher().run("final_report_generator", report_inputs(deps, state))
    report, extra = _report(result), {}
    if deps.llm is not None:
        report, extra = with_model(deps, state, report)
    return {"report": report.to_state(), "messages": [AIMessage(content=report.markdown)],
            "answered": question_of(state), "agent_status": {"reporting": "done"}, **extra}


def report_inputs(deps: Deps, state: dict) -> dict[str, Any]:
    """Return the report generator's arguments: the run's results and the projection minimum."""
    inputs = {k: state[k] for k in _INPUTS if state.get(k) is not None}
    return inputs | {"min_projection_days": deps.settings.min_projection_hours / 24}


def _report(result) -> Report:
    """Return the template's report from the generator's result (grounded: no number without a source)."""
    row = result.rows[0]
    return Report(row["markdown"], row["citations"], result.notes, result.value("ungrounded_numbers") == 0,
                  result.call_id)


def _written(deps: Deps, state: dict, report: Report) -> tuple[dict[str, Any], Exception | None]:
    try:
        return report_model.write(deps.settings, deps.llm, state, report), None
    except Exception as exc:  # the template answers alone
        return _template_only(exc), exc


def _template_only(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, GraphBubbleUp):  # interrupts are control flow, not failures
        raise exc
    log("reporting", f"model prose failed ({type(exc).__name__}: {exc}); template only", fallback=True)
    return {"prose": "", "grounding": {"status": "fallback", "ungrounded": [], "reason": str(exc)}}


def notes(state: dict, exc: Exception | None) -> list[str]:
    """Return the report's note about a model endpoint that was unavailable, if it was."""
    if isinstance(exc, ModelUnavailable):
        return [UNAVAILABLE_NOTE]
    agents = unavailable_agents(state)
    return [f"The model endpoint was unavailable to {', '.join(agents)}; they answered offline."] if agents else []


def with_model(deps: Deps, state: dict, report: Report) -> tuple[Report, dict]:
    """Return the report with the model's prose and the run's model usage, and the state's extra keys."""
    with ledger() as calls:
        report, extra = with_prose(deps, state, report)
    own = [call.to_dict() for call in calls]
    usage = account(deps, [*state.get("llm_usage", []), *own])
    return with_usage(report, usage), {**extra, "llm_usage": own}


def with_prose(deps: Deps, state: dict, report: Report) -> tuple[Report, dict]:
    """Return the report with the model's grounded prose (or the template and a note), and errors."""
    written, exc = _written(deps, state, report)
    markdown = report_model.splice(report.markdown, written["prose"], notes(state, exc))
    errors = [unavailable("reporting", exc)] if isinstance(exc, ModelUnavailable) else []
    return replace(report, markdown=markdown, grounding=written["grounding"]), ({"errors": errors} if errors else {})
