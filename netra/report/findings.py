"""Findings: one writer per analysis, quoting its figures and its top rows (templated prose)."""

from __future__ import annotations

from typing import Any, Callable

from netra.report.cite import Citations

Writer = Callable[[dict[str, Any], Citations], list[str]]
TOP_ROWS = 3


def _name_of(row: dict[str, Any]) -> str:
    for key in ("value", "feature", "model", "user_id", "provider", "name", "group"):
        if key in row:
            return str(row[key])
    return "?"


def _drivers(what: str) -> Writer:
    def write(result: dict[str, Any], cite: Citations) -> list[str]:
        return [f"- {what} `{_name_of(r)}` takes {cite.cell(result, r, 'share', 'ratio', 'share of spend')} "
                f"of spend ({cite.cell(result, r, 'cost_usd', 'usd', 'cost in window')})."
                for r in result.get("rows", [])[:TOP_ROWS] if "share" in r and "cost_usd" in r]
    return write


def _figure_line(template: str, *names: str) -> Writer:
    def write(result: dict[str, Any], cite: Citations) -> list[str]:
        if not all(n in result.get("figures", {}) for n in names):
            return []
        return [template.format(*(cite.figure(result, n) for n in names))]
    return write


FINDINGS: dict[str, Writer] = {
    "cost_by_feature": _drivers("Feature"),
    "cost_by_model": _drivers("Model"),
    "latency": _figure_line("- Latency: p50 {}, p95 {}, p99 {}; error rate {}.",
                            "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "error_rate"),
    "tokens": _figure_line("- Tokens: {} input and {} output; cache reads cover {} of input.",
                           "input_tokens", "output_tokens", "cache_read_share"),
    "cache": _figure_line("- Prefix replay: {} of input tokens repeat an earlier prefix ({} of blocks).",
                          "token_hit_ratio", "block_hit_ratio"),
    "models": _figure_line("- Model mix: {} models; premium models take {} of spend.",
                           "models", "premium_cost_share"),
}
