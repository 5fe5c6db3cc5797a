"""Compile a report: sections by intent, grounding checked against the cited figures."""

from __future__ import annotations

from typing import Any

from netra.report import sections as s
from netra.report.cite import Citations, ungrounded

LAYOUTS = {
    "optimize": [s.title, s.summary, s.findings, s.recommendations, s.action_plan,
                 s.success_criteria, s.errors, s.appendix],
    "question": [s.title, s.answer, s.errors, s.appendix],
}


def build_report(inputs: dict[str, Any]) -> dict[str, Any]:
    """Return {markdown, citations, ungrounded} for a run's collected results."""
    cite = Citations()
    layout = LAYOUTS[inputs.get("request", {}).get("intent", "question")]
    body = [line for section in layout[:-1] for line in section(inputs, cite)]
    markdown = "\n".join(body + layout[-1](inputs, cite))
    return {"markdown": markdown, "citations": cite.entries,
            "ungrounded": ungrounded("\n".join(body), cite.allowed())}
