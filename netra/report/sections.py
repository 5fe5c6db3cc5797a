"""Report sections, one function each; every number goes through `Citations`, every data value through
`markup` (`code`, `text`), so a name holding Markdown shows as literal text."""

from __future__ import annotations

from typing import Any

from netra.report.cite import Citations
from netra.report.markup import code, text

Inputs = dict[str, Any]
SHORT_WINDOW = ("The window is shorter than the projection minimum (`NETRA_MIN_PROJECTION_HOURS`), too short "
                "to project a month: figures are window totals, and monthly figures below are not a forecast.")


def _has(result: dict | None, *names: str) -> bool:
    return bool(result) and all(n in result.get("figures", {}) for n in names)


def title(inp: Inputs, cite: Citations) -> list[str]:
    """Title, the question and the analysed window."""
    request = inp.get("request", {})
    window = f"{code(request.get('start') or 'first event')} → {code(request.get('end') or 'last event')}"
    return ["# Netra report", "", f"> {text(inp.get('question', ''))}", "",
            f"Window: {code(request.get('window_label', 'all data'))} ({window}); "
            f"strategy {code(inp.get('strategy', ''))}.", ""]


def summary(inp: Inputs, cite: Citations) -> list[str]:
    """Spend in the window and per month, and achievable savings (not double-counted)."""
    cost, sim = inp["analyses"].get("cost"), inp.get("simulation")
    return ["## Summary", "", *_spend(inp, cost, cite), *_savings(inp, sim, cite), *_target(inp, sim, cite), ""]


def _projects(inp: Inputs, result: dict | None, days_figure: str) -> bool:
    """Whether the window of `result` is long enough to project a month (the setting's hours)."""
    days = (result or {}).get("figures", {}).get(days_figure, {}).get("value")
    return days is not None and days >= inp.get("min_projection_days", 1.0)


def _spend(inp: Inputs, cost: dict | None, cite: Citations) -> list[str]:
    if not _has(cost, "total_cost_usd", "monthly_cost_usd", "span_days", "requests"):
        return []
    line = (f"- Spend in the window: {cite.figure(cost, 'total_cost_usd')} over {cite.figure(cost, 'span_days')} "
            f"days and {cite.figure(cost, 'requests')} requests")
    if not _projects(inp, cost, "span_days"):
        return [line + f". {SHORT_WINDOW}"]
    return [line + f", {cite.figure(cost, 'monthly_cost_usd')} per month."]


def _savings(inp: Inputs, sim: dict | None, cite: Citations) -> list[str]:
    if not _has(sim, "combined_monthly_saving_usd", "combined_saving_pct"):
        return []
    if _has(sim, "combined_window_saving_usd", "window_days") and not _projects(inp, sim, "window_days"):
        return [f"- Achievable savings in the window: {cite.figure(sim, 'combined_window_saving_usd')} "
                f"({cite.figure(sim, 'combined_saving_pct')} of spend), overlaps counted once; not projected."]
    return [f"- Achievable savings: {cite.figure(sim, 'combined_monthly_saving_usd')} per month "
            f"({cite.figure(sim, 'combined_saving_pct')} of spend), overlaps counted once."]


def _target(inp: Inputs, sim: dict | None, cite: Citations) -> list[str]:
    if not _has(sim, "target_saving_pct", "meets_target"):
        return []
    met, short = sim["figures"]["meets_target"]["value"] >= 1, not _projects(inp, sim, "window_days")
    gap = "" if short else f"; short by {cite.figure(sim, 'gap_monthly_usd')} per month"
    verdict = "met" if met else f"not met{gap}"
    return [f"- Target: cut {cite.figure(sim, 'target_saving_pct')}: {verdict}."]


def findings(inp: Inputs, cite: Citations) -> list[str]:
    """One line per analysis, from its figures and top rows."""
    from netra.report.findings import FINDINGS

    analyses = inp["analyses"]
    lines = [line for key, write in FINDINGS.items() if key in analyses and "error" not in analyses[key]
             for line in write(analyses[key], cite)]
    return ["## Findings", "", *lines, ""]


def recommendations(inp: Inputs, cite: Citations) -> list[str]:
    """The recommendations table, from the combined simulation's rows."""
    sim, recs = inp.get("simulation") or {}, inp.get("recommendations", [])
    head = ["## Recommendations", "", "| policy | change | monthly saving | % of spend | quality risk "
            "| latency impact | confidence |", "|---|---|---|---|---|---|---|"]
    rows = [_rec_row(sim, r, cite) for r in recs]
    return head + (rows or ["| — | no change found worth making | | | | | |"]) + [""]


def _rec_row(sim: dict, rec: dict, cite: Citations) -> str:
    row = _cite_policy_text(rec, cite)
    saving = cite.cell(sim, row, "attributed_monthly_saving_usd", "usd", "attributed monthly saving") if row else "—"
    pct = cite.cell(sim, row, "pct_of_baseline", "pct", "share of monthly spend") if row else "—"
    confidence = cite.cell(sim, row, "confidence", "ratio", "confidence") if "confidence" in row else "—"
    return (f"| {code(rec['policy_id'], cell=True)} | {text(rec.get('description', ''))} | {saving} | {pct} | "
            f"{text(rec.get('quality_risk', ''))} | {text(rec.get('latency_impact', ''))} | {confidence} |")


def _cite_policy_text(rec: dict, cite: Citations) -> dict:
    """Accept the policy's own prose and parameters; return its simulated row."""
    cite.params(rec)
    cite.tool_text(rec.get("description", ""), rec.get("latency_impact", ""))
    return rec.get("simulated") or {}


def action_plan(inp: Inputs, cite: Citations) -> list[str]:
    """Ordered steps per chosen policy."""
    lines = ["## Action plan", ""]
    for action in inp.get("actions", []):
        lines += [f"### {code(action['policy_id'])}: {action['title']}", ""]
        lines += [f"{i}. {step}" for i, step in enumerate(action["steps"], start=1)] + [""]
    return lines


def success_criteria(inp: Inputs, cite: Citations) -> list[str]:
    """How to tell each change worked, with the saving to expect."""
    sim, lines = inp.get("simulation") or {}, ["## Success criteria", ""]
    for action, rec in zip(inp.get("actions", []), inp.get("recommendations", [])):
        row = rec.get("simulated") or {}
        saving = cite.cell(sim, row, "attributed_monthly_saving_usd", "usd", "attributed monthly saving") if row else ""
        lines += [f"- {code(action['policy_id'])}: {c}: {saving} per month." for c in action["success_criteria"]]
    return lines + [""]


def answer(inp: Inputs, cite: Citations) -> list[str]:
    """For a plain question: every figure of each analysis that was run."""
    lines = ["## Answer", ""]
    for key, result in inp["analyses"].items():
        figures = result.get("figures", {})
        lines += [f"- {text(f.get('label') or name)} ({code(key)}): {cite.figure(result, name)}"
                  for name, f in figures.items()]
    return lines + [""]


def errors(inp: Inputs, cite: Citations) -> list[str]:
    """What failed during the run, if anything."""
    errs = inp.get("errors", [])
    lines = [f"- {code(e.get('agent'))}: {code(e.get('message'))}" for e in errs]
    return ["## Problems during the run", "", *lines, ""] if errs else []


def appendix(inp: Inputs, cite: Citations) -> list[str]:
    """Tie every quoted figure to the tool call that produced it, and list the calls."""
    lines = ["## Appendix: provenance", "", "| value | figure | tool | call id |", "|---|---|---|---|"]
    lines += [f"| {e['text']} | {text(e['label'])} | {code(e['tool'], cell=True)} | {code(e['call_id'], cell=True)} |"
              for e in cite.entries]
    lines += ["", "### Tool calls", ""]
    for call in inp.get("tool_calls", []):
        lines.append(f"- {code(call['call_id'])} args {code(_compact(call.get('args', {})))}")
    return lines + [""]


def _compact(args: dict) -> str:
    shown = {k: v for k, v in args.items() if k != "policies"}
    return ", ".join(f"{k}={v}" for k, v in shown.items()) + (" (+policies)" if "policies" in args else "")
