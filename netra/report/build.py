"""Compile a report: sections by intent, grounding checked against the cited figures."""

from __future__ import annotations

from typing import Any

from netra.report import sections as s
from netra.report.cite import Citations, ungrounded
from netra.report.record import Report

LAYOUTS = {
    "optimize": [s.title, s.summary, s.findings, s.recommendations, s.action_plan,
                 s.success_criteria, s.errors, s.appendix],
    "question": [s.title, s.answer, s.errors, s.appendix],
}


def build_report(inputs: dict[str, Any]) -> Report:
    """Return the report of a run's collected results: grounded when every number in its body is cited."""
    cite = Citations()
    layout = LAYOUTS[inputs.get("request", {}).get("intent", "question")]
    body = [line for section in layout[:-1] for line in section(inputs, cite)]
    markdown = "\n".join(body + layout[-1](inputs, cite))
    missing = ungrounded("\n".join(body), cite.allowed())
    return Report(markdown, cite.entries, missing, grounded=not missing)
