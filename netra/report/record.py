"""The report as one typed record, from the graph's state to the client.

    report = build_report(inputs)              # the template: markdown, citations, ungrounded, grounded
    state["report"] = report.to_state()        # the graph state's JSON (checkpointed, the thread's values)
    report = Report.of(state["report"])        # read back by the run engine
    report.columns()                           # the `agent_reports` row: markdown, structured, grounded
    report.to_wire(report_id)                  # JSON for clients: the `agent_completed` event, run results

`build_report` makes the template's report; the reporting node adds `call_id`, `usage` (the
run's model calls) and, when a model wrote prose, `grounding` ({"status": "grounded" |
"repaired" | "fallback", "ungrounded": [...]}) with `dataclasses.replace`. The graph state
keeps `to_state()` (a checkpoint holds JSON, not this class); `Report.of` reads it back, and
every later shape is a method here, so the prose's grounding status reaches the client with
the rest.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

JsonObject = dict[str, Any]
_OPTIONAL = ("call_id", "usage", "grounding")  # left out of the state while unset


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

    def to_state(self) -> JsonObject:
        """Return the report as the graph state keeps it (the optional parts only when present)."""
        state = asdict(self)
        return {name: value for name, value in state.items() if value is not None or name not in _OPTIONAL}

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
