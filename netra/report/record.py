"""The report as one typed record, from the graph's state to the client.

    report = Report.of(state["report"])        # what `build_report` and the reporting node made
    report.columns()                           # the `agent_reports` row: markdown, structured, grounded
    report.to_wire(report_id)                  # JSON for clients: the `agent_completed` event, run results

`build_report` returns the template's {markdown, citations, ungrounded}; the reporting node
adds `grounded` (every number of the report cited), `call_id`, `usage` (the run's model
calls) and, when a model wrote prose, `grounding` ({"status": "grounded" | "repaired" |
"fallback", "ungrounded": [...]}). The graph state keeps that dict (it is checkpointed and
shown as the thread's values); `Report.of` reads it once, and every later shape is a method
here, so the prose's grounding status reaches the client with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class Report:
    """A run's report: markdown, the citations behind its figures, and how well it is grounded."""

    markdown: str
    citations: list[JsonObject] = field(default_factory=list)
    ungrounded: list[Any] = field(default_factory=list)  # numbers of the report no figure backs
    grounded: bool = False
    call_id: str | None = None
    usage: JsonObject | None = None
    grounding: JsonObject | None = None  # the model prose's check; None: template only

    @classmethod
    def of(cls, state: Mapping[str, Any] | None) -> Report:
        """Return the report of the graph state's `report` (empty when the graph made none)."""
        state = state or {}
        return cls(str(state.get("markdown") or ""), list(state.get("citations") or []),
                   list(state.get("ungrounded") or []), bool(state.get("grounded")), state.get("call_id"),
                   state.get("usage"), state.get("grounding"))

    def structured(self) -> JsonObject:
        """Return the structured part: citations, the generator's call id, ungrounded numbers, model usage."""
        return {"citations": self.citations, "call_id": self.call_id, "ungrounded": self.ungrounded,
                "usage": self.usage}

    def columns(self) -> JsonObject:
        """Return the columns of the report's `agent_reports` row."""
        return {"markdown": self.markdown, "structured": self.structured(), "grounded": self.grounded}

    def to_wire(self, report_id: str) -> JsonObject:
        """Return the report as clients are sent it (the `agent_completed` event, a run's result)."""
        return {"markdown": self.markdown, "structured": self.structured(), "grounded": self.grounded,
                "grounding": self.grounding, "report_id": report_id}


def structured_of(state: Mapping[str, Any] | None) -> JsonObject:
    """Return the structured part of the graph state's `report`."""
    return Report.of(state).structured()
