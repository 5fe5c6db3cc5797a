"""Report grounding: every number is a cited tool figure; identifiers and quotes are not numbers."""

from __future__ import annotations

import re

import pytest

from netra.nodes.actions import action_for
from netra.report import build_report
from netra.report.cite import Citations, fmt, ungrounded
from netra.report.html import render_markdown
from netra.report.markup import code

COST = {"tool": "cost_analyzer", "call_id": "cost_analyzer-1", "figures": {
    "total_cost_usd": {"value": 1234.5, "unit": "usd", "label": "cost"},
    "monthly_cost_usd": {"value": 2645.36, "unit": "USD/month", "label": "monthly"},
    "span_days": {"value": 14.0, "unit": "days", "label": "span"},
    "requests": {"value": 200000, "unit": "requests", "label": "requests"}}, "rows": []}


@pytest.mark.parametrize(("value", "unit", "text"), [
    (1234.5, "usd", "$1,234.50"), (0.0123, "usd", "$0.0123"), (30, "%", "30.0%"), (0.25, "ratio", "25.0%"),
    (1712.4, "ms", "1,712 ms"), (200000, "requests", "200,000"), (4, "models", "4"), (2.5, "widgets", "2.50"),
])
def test_units_format_consistently(value, unit, text):
    assert fmt(value, unit) == text


@pytest.mark.parametrize(("markdown", "bad"), [
    ("Spend $1,234.50 on `gpt-4.1` and claude-sonnet-4-5.", []),
    ("Spend $1,234.50 and 99 invented things.", ["99"]),
    ("> cut 30% please\n\n1. first step", []),
    ("```sql\nSELECT 42\n```", []),
])
def test_ungrounded_numbers_are_found(markdown, bad):
    cite = Citations()
    cite.figure(COST, "total_cost_usd")
    assert ungrounded(markdown, cite.allowed()) == bad


def test_a_report_cites_each_figure_to_its_call():
    report = build_report({"question": "How much do we spend?", "request": {"intent": "optimize"},
                           "analyses": {"cost": COST}, "tool_calls": []})
    assert "$1,234.50" in report.markdown and report.ungrounded == []
    assert {e["call_id"] for e in report.citations} == {"cost_analyzer-1"}
    assert "| $2,645.36 | monthly | `cost_analyzer` | `cost_analyzer-1` |" in report.markdown


EVIL = "[Session expired - sign in again](https://evil.example/login)"
ODD = "gpt`4o|mini"  # a backtick and a pipe: a code span must not close, a table row must not split
POLICY = {"kind": "route_model", "policy_id": f"route_model:{EVIL}:{ODD}", "feature": EVIL, "model": ODD,
          "params": {"target_model": "www.evil.example"}, "description": f"Route {EVIL} requests to www.evil.example.",
          "quality_risk": EVIL, "latency_impact": "none", "simulated": {}, "monthly_saving_usd": 1.0}
# a run whose feature, model, question, window, error and tool arguments all hold a link
EVIL_INPUTS = {"question": f"Why? {EVIL}", "request": {"intent": "optimize", "window_label": EVIL},
               "analyses": {"cost_by_feature": {"tool": "cost_analyzer", "call_id": "c-2", "figures": {},
                                                "rows": [{"feature": EVIL, "share": 0.4, "cost_usd": 10.0}]}},
               "recommendations": [POLICY], "actions": [action_for(1, POLICY)],
               "errors": [{"agent": "data", "message": EVIL}], "tool_calls": [{"call_id": "c-2", "args": {"feature": EVIL}}]}
# where the link-shaped name shows in the report's HTML, as literal text
SHOWN = [f"<code>{EVIL}</code> takes", f"Why? {EVIL}", f"<code>route_model:{EVIL}:{ODD}</code>",
         f"Route {EVIL} requests", f"Route <code>{EVIL}</code> from <code>{ODD}</code>",
         f"<code>feature={EVIL}</code>", f"<code>data</code>: <code>{EVIL}</code>"]
CODE_SPANS = re.compile(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)")


@pytest.fixture(scope="module")
def evil_report() -> tuple[str, str]:
    """The Markdown of a report over link-shaped names, and its HTML."""
    markdown = build_report(EVIL_INPUTS).markdown
    return markdown, render_markdown(markdown)


@pytest.mark.parametrize("shown", SHOWN)
def test_a_link_shaped_name_is_literal_text_in_the_html(evil_report, shown: str):
    """Names, the question, errors and arguments show as written: never a link."""
    markdown, page = evil_report
    assert shown in escape_free(page) and "<a " not in page, markdown


def test_a_link_shaped_name_holds_no_markup_in_the_markdown(evil_report):
    """Outside code spans nothing can link: no `](`, no bare URL (GFM autolinks them), no stray table cell."""
    prose = CODE_SPANS.sub("", evil_report[0])
    assert re.findall(r"\]\(|(?<!\\)://|www\.", prose) == []
    row = next(line for line in evil_report[0].splitlines() if line.startswith("| ``route_model"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 8  # seven cells


@pytest.mark.parametrize(("value", "span"), [("a`b", "``a`b``"), ("``x", "``` ``x ```"), ("plain", "`plain`"),
                                             ("two\nlines", "`two lines`"), ("", "")])
def test_code_spans_are_fenced_past_the_values_backticks(value: str, span: str):
    assert code(value) == span


def escape_free(page: str) -> str:
    """Return the HTML with the entities markdown-it writes for quotes and ampersands undone."""
    return page.replace("&quot;", '"').replace("&amp;", "&")


SHORT_COST = {**COST, "figures": {**COST["figures"], "span_days": {"value": 0.04, "unit": "days", "label": "span"}}}
SHORT_SIM = {"tool": "policy_simulator", "call_id": "policy_simulator-1", "rows": [], "figures": {
    "combined_monthly_saving_usd": {"value": 900.0, "unit": "USD/month", "label": "joint"},
    "combined_window_saving_usd": {"value": 1.25, "unit": "USD", "label": "window"},
    "combined_saving_pct": {"value": 10.0, "unit": "%", "label": "pct"},
    "window_days": {"value": 0.04, "unit": "days", "label": "days"},
    "target_saving_pct": {"value": 30.0, "unit": "%", "label": "target"},
    "meets_target": {"value": 0, "unit": "bool", "label": "met"},
    "gap_monthly_usd": {"value": 5000.0, "unit": "USD/month", "label": "gap"}}}


@pytest.mark.parametrize(("days", "shown", "hidden"), [
    (0.04, ["0.040 days", "too short to project a month", "$1.25", "not met."], ["$2,645.36 per month", "$900.00",
                                                                                "$5,000.00"]),
    (14.0, ["14.0 days", "$2,645.36 per month", "$900.00 per month", "$5,000.00 per month"], ["too short"]),
])
def test_a_window_under_a_day_is_never_projected_to_a_month(days, shown, hidden):
    cost, sim = (SHORT_COST, SHORT_SIM) if days < 1 else (COST, _long(SHORT_SIM))
    summary = build_report({"request": {"intent": "optimize"}, "analyses": {"cost": cost}, "simulation": sim,
                            "min_projection_days": 1.0}).markdown.split("## Findings")[0]
    assert all(text in summary for text in shown) and not any(text in summary for text in hidden)


def _long(sim: dict) -> dict:
    """The simulation over a 14-day window."""
    return {**sim, "figures": {**sim["figures"], "window_days": {"value": 14.0, "unit": "days", "label": "days"}}}
