"""Findings: one writer per analysis, quoting its figures and its top rows (templated prose; names as code).

A finding is a title and clauses, each a template over figures: `- Latency: p50 …, p95 …, p99
…; error rate ….`. A clause whose figure is not in the telemetry (value None) says so
instead of quoting a number: `- Latency: p50/p95/p99 not in the telemetry (19,366 of 19,366
events lack latency_ms); …`; one computed over part of the events says how many lacked its field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from netra.report.cite import Citations
from netra.report.markup import code

Writer = Callable[[dict[str, Any], Citations], list[str]]
TOP_ROWS = 3


def _name_of(row: dict[str, Any]) -> str:
    for key in ("value", "feature", "model", "user_id", "provider", "name", "group"):
        if key in row:
            return str(row[key])
    return "?"


def _drivers(what: str) -> Writer:
    def write(result: dict[str, Any], cite: Citations) -> list[str]:
        return [f"- {what} {code(_name_of(r))} takes {cite.cell(result, r, 'share', 'ratio', 'share of spend')} "
                f"of spend ({cite.cell(result, r, 'cost_usd', 'usd', 'cost in window')})."
                for r in result.get("rows", [])[:TOP_ROWS] if "share" in r and "cost_usd" in r]
    return write


@dataclass(frozen=True)
class Clause:
    """Part of a finding: a template quoting `names`, and what they are about (`subject`) when not in the telemetry."""

    template: str
    names: tuple[str, ...]
    subject: str = ""

    def write(self, result: dict[str, Any], cite: Citations) -> str:
        """Quote the figures; or, when one is not in the telemetry, say so for the subject."""
        absent = next((n for n in self.names if result["figures"][n]["value"] is None), None)
        if absent is not None:
            return f"{self.subject} {cite.figure(result, absent)}".strip()
        quoted = self.template.format(*(cite.figure(result, n) for n in self.names))
        return quoted + cite.coverage(result, self.names[0])


@dataclass(frozen=True)
class Finding:
    """One line of the findings: a title and its clauses (none written unless the result has every figure)."""

    title: str
    clauses: tuple[Clause, ...]

    def __call__(self, result: dict[str, Any], cite: Citations) -> list[str]:
        """Return the finding's line, or nothing when the result lacks one of its figures."""
        names = [n for clause in self.clauses for n in clause.names]
        if not all(n in result.get("figures", {}) for n in names):
            return []
        return [f"- {self.title}: " + "; ".join(c.write(result, cite) for c in self.clauses) + "."]


FINDINGS: dict[str, Writer] = {
    "cost_by_feature": _drivers("Feature"),
    "cost_by_model": _drivers("Model"),
    "latency": Finding("Latency", (
        Clause("p50 {}, p95 {}, p99 {}", ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms"), "p50/p95/p99"),
        Clause("error rate {}", ("error_rate",), "error rate"))),
    "tokens": Finding("Tokens", (
        Clause("{} input and {} output", ("input_tokens", "output_tokens"), "token counts"),
        Clause("cache reads cover {} of input", ("cache_read_share",), "cache reads"))),
    "cache": Finding("Prefix replay", (
        Clause("{} of input tokens repeat an earlier prefix ({} of blocks)", ("token_hit_ratio", "block_hit_ratio")),)),
    "models": Finding("Model mix", (
        Clause("{} models; premium models take {} of spend", ("models", "premium_cost_share")),)),
}
