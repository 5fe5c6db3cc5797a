"""A figure not in the telemetry reads as such in a report, never as 0 ms or 0.0%, and grounding still holds.

The analyses are dumped tool results as the graph holds them: a figure's `value` None with a
`missing` record means no scoped event carried its field; a value with a record means it was
computed over the events that did.
"""

from __future__ import annotations

import pytest

from netra.report import Report, build_report
from netra.report.cite import Citations, fmt
from netra.report.grounding import validate_text
from netra.report.validate import check, figures_of

ALL = {"field": "latency_ms", "lacking": 19366, "events": 19366, "text": "19,366 of 19,366 events lack latency_ms"}
HALF = {"field": "latency_ms", "lacking": 10, "events": 20, "text": "10 of 20 events lack latency_ms"}
STATUS = {"field": "status", "lacking": 19366, "events": 19366, "text": "19,366 of 19,366 events lack status"}


def latency(value: float | None, missing: dict | None, error_rate: float | None = 0.02) -> dict:
    """A dumped latency_analyzer result whose p50/p95/p99 are `value` and whose latency `missing` record is given."""
    figures = {name: {"value": value, "unit": "ms", "label": name, "missing": missing}
               for name in ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms")}
    rate = {"value": error_rate, "unit": "ratio", "label": "error rate", "missing": None if error_rate else STATUS}
    return {"tool": "latency_analyzer", "call_id": "latency_analyzer-1", "figures": figures | {"error_rate": rate}}


def report(result: dict, intent: str = "optimize") -> Report:
    """Build the report of one latency analysis."""
    return build_report({"question": "How fast are we?", "request": {"intent": intent},
                         "analyses": {"latency": result}, "tool_calls": []})


@pytest.mark.parametrize("unit", ["ms", "ratio", "%", "usd", "requests"])
def test_no_value_formats_as_not_in_the_telemetry(unit):
    assert fmt(None, unit) == "not in the telemetry"


def test_a_citation_of_an_absent_figure_says_how_many_events_lack_its_field():
    cite = Citations()
    text = cite.figure(latency(None, ALL), "latency_p50_ms")
    entry = cite.entries[0]
    assert text == "not in the telemetry (19,366 of 19,366 events lack latency_ms)"
    assert (entry["value"], entry["text"], "19,366" in cite.allowed()) == (None, "not in the telemetry", True)


@pytest.mark.parametrize("result, line", [
    (latency(None, ALL, None), "- Latency: p50/p95/p99 not in the telemetry (19,366 of 19,366 events lack "
                               "latency_ms); error rate not in the telemetry (19,366 of 19,366 events lack status)."),
    (latency(600, HALF), "- Latency: p50 600 ms, p95 600 ms, p99 600 ms (10 of 20 events lack latency_ms); "
                         "error rate 2.0%."),
    (latency(600, None), "- Latency: p50 600 ms, p95 600 ms, p99 600 ms; error rate 2.0%."),
], ids=["absent", "partial", "complete"])
def test_the_latency_finding_says_what_the_telemetry_lacks(result, line):
    built = report(result)
    assert line in built.markdown and built.ungrounded == []


def test_an_absent_figure_prints_no_zero_and_the_appendix_no_number():
    markdown = report(latency(None, ALL, None)).markdown
    appendix = markdown.split("## Appendix")[1]
    assert "0 ms" not in markdown and "0.0%" not in markdown
    assert "| not in the telemetry | latency\\_p50\\_ms | `latency_analyzer` | `latency_analyzer-1` |" in appendix


def test_a_plain_answer_lists_an_absent_figure_with_its_count():
    markdown = report(latency(None, ALL), intent="question").markdown
    assert f"- latency\\_p95\\_ms (`latency`): not in the telemetry ({ALL['text']})" in markdown


@pytest.mark.parametrize("text, ungrounded", [
    ("Latency is not in the telemetry: 19,366 of 19,366 events lack latency_ms.", []),
    ("Median latency was 0 ms.", ["0 ms"]),
    ("The error rate was 0%.", ["0%"]),
])
def test_model_prose_may_quote_the_counts_but_no_value_for_an_absent_figure(text, ungrounded):
    figures = [{"name": "latency_p50_ms", "value": None, "unit": "ms", "missing": ALL}]
    assert [u["number"] for u in validate_text(text, figures).ungrounded] == ungrounded


def test_a_stored_report_with_an_absent_figure_still_checks_grounded():
    built = report(latency(None, ALL, None))
    stored = {"citations": built.citations}
    assert check(built.markdown.split("## Appendix")[0], figures_of(stored))["grounded"]
    assert {f.missing for f in figures_of(stored) if f.value is None} == {ALL["text"], STATUS["text"]}
