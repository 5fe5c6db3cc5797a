"""`Report`: one record from `build_report` through the graph state to the client, grounding kept."""

from __future__ import annotations

import json
from dataclasses import replace

from netra.report import Report, build_report

COST = {"tool": "cost_analyzer", "call_id": "cost_analyzer-1",
        "figures": {"total_cost_usd": {"value": 1234.5, "unit": "usd", "label": "total cost"}}}
PROSE_CHECK = {"status": "repaired", "ungrounded": []}


def built() -> Report:
    """The template report of one cost analysis."""
    return build_report({"question": "How much do we spend?", "request": {"intent": "question"},
                         "analyses": {"cost": COST}, "tool_calls": []})


def test_the_template_report_is_grounded_when_every_number_is_cited():
    report = built()
    assert report.grounded and report.ungrounded == [] and report.citations
    assert report.grounding is None and report.call_id is None


def test_the_state_form_is_json_and_reads_back_to_the_same_report():
    report = replace(built(), call_id="final_report_generator-1", grounding=PROSE_CHECK, usage={"calls": 2})
    state = json.loads(json.dumps(report.to_state()))
    assert Report.of(state) == report


def test_unset_optional_parts_stay_out_of_the_state():
    assert set(built().to_state()) == {"markdown", "citations", "ungrounded", "grounded"}


def test_the_prose_check_reaches_the_client_with_the_report():
    report = Report.of(replace(built(), grounding=PROSE_CHECK).to_state())
    wire = report.to_wire("r1")
    assert wire["grounding"] == PROSE_CHECK and wire["report_id"] == "r1" and wire["markdown"] == report.markdown
    assert report.columns()["grounded"] is True
