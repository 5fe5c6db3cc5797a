"""Report grounding: every number is a cited tool figure; identifiers and quotes are not numbers."""

from __future__ import annotations

import pytest

from netra.report import build_report
from netra.report.cite import Citations, fmt, ungrounded

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
    assert "$1,234.50" in report["markdown"] and report["ungrounded"] == []
    assert {e["call_id"] for e in report["citations"]} == {"cost_analyzer-1"}
    assert "| $2,645.36 | monthly | `cost_analyzer` | `cost_analyzer-1` |" in report["markdown"]
