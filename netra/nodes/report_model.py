"""Reporting with a model: prose around the template's tables, every number grounded.

The model gets the question, the templated report (without its appendix) and the run's
figures (name, label, value, unit, formatted text, tool and call id: the template's
citations first, then every other figure of the run's tool calls), and writes an
executive summary and a rationale. The figures table, findings, recommendations, plan and
appendix stay the template's. The prose is checked by `netra.report.grounding`: a draft
quoting a number no figure accounts for is sent back once, naming the sentences; if the
second draft fails too, the report is the template alone. The outcome is recorded as
the report's `grounding` = `{"status": "grounded" | "repaired" | "fallback", "ungrounded": [...]}`.

The prompt fits the call's context budget (`netra.llm.budget`), with room left for the
repair turn: the report goes without its action plan and appendix, and the figures are
listed compactly (name, label, text), the report's citations first, as many as fit. The
prose is still checked against every figure of the run. A prompt that cannot fit is not
sent, and the template answers alone.
"""

from __future__ import annotations

import json
import re
from functools import partial
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from netra.config import Settings
from netra.llm.budget import Budget, answer_limited, budget_for
from netra.llm.stream import stream_invoke
from netra.llm.tokens import count_text, langchain_tokens
from netra.llm.usage import metered
from netra.nodes._model import log
from netra.report.cite import fmt
from netra.report.grounding import GroundingResult, validate_text
from netra.report.record import Report

AGENT = "reporting"
MAX_FIGURES_SHOWN = 200
REPAIR_ROOM = 200  # the repair request's own tokens, on top of the first draft
LEFT_OUT = re.compile(r"\n## (Action plan|Appendix)\b.*?(?=\n## |\Z)", re.S)
SYSTEM = """You are the reporting agent of Netra. Write two markdown sections for the team that asked:
"## Executive summary" (three to five sentences that answer the question) and "## Rationale" (why these
recommendations: trade-offs, risks, what to watch; a short paragraph or a few bullets).
Rules: every number you write must be one of the figures listed, written as its `text` (rounding is fine,
such as $1.2M). Compute no new numbers (no sums, differences or ratios of your own); write counts in words.
The figures listed first are those the report quotes; later ones come from other tool calls (one policy's
simulation, an extra analysis): say which when you use one. Put model, feature and user names in backticks.
No tables and no other headings: the report's tables follow."""
REPAIR = """These sentences quote numbers that match no figure of this run:
{sentences}
Rewrite both sections. Use only numbers from the figures list, written as their `text`, or leave the number out."""


def _figure(name: str, f: dict[str, Any], tool: str, cid: str, text: str | None = None) -> dict[str, Any]:
    return {"name": name, "label": f.get("label") or name, "value": f["value"], "unit": f.get("unit", ""),
            "text": text or fmt(f["value"], f.get("unit", "")), "tool": tool, "call_id": cid}


def run_figures(state: dict, citations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the run's figures: the report's citations, then every other tool-call figure."""
    cited = [_figure(c["figure"], c, c["tool"], c["call_id"], c["text"]) for c in citations]
    seen = {(c["call_id"], c["name"]) for c in cited}
    others = [_figure(name, f, call.get("tool", ""), call.get("call_id", ""))
              for call in state.get("tool_calls", []) for name, f in call.get("figures", {}).items()]
    return cited + [f for f in others if (f["call_id"], f["name"]) not in seen]


def names_of(state: dict) -> list[str]:
    """Return names the prose may write (digits inside them are not figures)."""
    recs = state.get("recommendations", [])
    found = [str(r.get(k, "")) for r in recs for k in ("feature", "model", "policy_id")]
    found += [str(r.get("params", {}).get("target_model", "")) for r in recs]
    return found + [str(v) for v in state.get("request", {}).get("filters", {}).values()]


def shown_figures(figures: list[dict[str, Any]], room: int) -> list[dict[str, str]]:
    """Return the figures the prompt lists (name, label, text), in order, as many as fit `room` tokens."""
    lines = [{"name": f["name"], "label": f["label"], "text": f["text"]} for f in figures[:MAX_FIGURES_SHOWN]]
    used = 0
    for index, line in enumerate(lines):
        used += count_text(json.dumps(line)) + 1
        if used > room:
            return lines[:index]
    return lines


def prompt(state: dict, markdown: str, figures: list[dict[str, Any]], room: int = 10**9) -> list[BaseMessage]:
    """Return the instructions, then the question, the report and as many figures as fit `room` tokens."""
    question = state.get("request", {}).get("question") or state.get("question", "")
    body = (f"Question: {question}\n\nThe report your text goes into (without its action plan and appendix):"
            f"\n\n{LEFT_OUT.sub('', markdown).strip()}\n\nFigures (JSON):\n")
    head = [SystemMessage(content=SYSTEM), HumanMessage(content=body)]
    shown = shown_figures(figures, room - langchain_tokens(head))
    return [head[0], HumanMessage(content=body + json.dumps(shown, separators=(",", ":")))]


def repair_prompt(result: GroundingResult) -> str:
    """Return the repair request naming each offending sentence and its numbers."""
    numbers = {s: [u["number"] for u in result.ungrounded if u["sentence"] == s] for s in result.sentences()}
    lines = [f'- "{s}" (no figure for: {", ".join(n)})' for s, n in numbers.items()]
    return REPAIR.format(sentences="\n".join(lines))


def draft(settings: Settings, llm: BaseChatModel, messages: list[BaseMessage], budget: Budget) -> str:
    """Ask the model (behind the breaker, within the budget, tokens streamed) for the prose."""
    planned = langchain_tokens(messages)
    budget.admit(planned, AGENT, "report")
    model = answer_limited(llm, budget.answer)
    reply = metered(settings, AGENT, "report", lambda: stream_invoke(model, messages, AGENT), planned=planned)
    return reply.content if isinstance(reply.content, str) else ""


def outcome(status: str, prose: str, result: GroundingResult) -> dict[str, Any]:
    """Return {"prose", "grounding"}; prose only when it is grounded."""
    kept = prose if status != "fallback" else ""
    return {"prose": kept.strip(), "grounding": {"status": status, "ungrounded": list(result.ungrounded)}}


def write(settings: Settings, llm: BaseChatModel, state: dict, report: Report) -> dict[str, Any]:
    """Draft the prose, check it, repair it once if needed; return {"prose", "grounding"}."""
    figures, budget = run_figures(state, report.citations), budget_for(settings, "report")
    check = partial(validate_text, figures=figures, question=state.get("question", ""), names=names_of(state))
    messages = prompt(state, report.markdown, figures, budget.limit - budget.answer - REPAIR_ROOM)
    first = draft(settings, llm, messages, budget)
    result = check(first)
    return outcome("grounded", first, result) if result.ok else _repair(settings, llm, messages, first, result, check)


def _repair(settings: Settings, llm: BaseChatModel, messages: list[BaseMessage], first: str,
            result: GroundingResult, check) -> dict[str, Any]:
    log(AGENT, "draft rejected: ungrounded numbers; asking once more", ungrounded=result.ungrounded)
    repair = [*messages, AIMessage(content=first), HumanMessage(content=repair_prompt(result))]
    second = draft(settings, llm, repair, budget_for(settings, "report"))
    again = check(second)
    return outcome("repaired", second, result) if again.ok else _given_up(second, again)


def _given_up(second: str, again: GroundingResult) -> dict[str, Any]:
    log(AGENT, "second draft ungrounded too: the report is the template alone", ungrounded=again.ungrounded)
    return outcome("fallback", second, again)


def splice(markdown: str, prose: str, notes: list[str]) -> str:
    """Insert notes and prose after the report's title block, before its first section."""
    extra = [f"**Note:** {n}" for n in notes] + ([prose] if prose else [])
    if not extra:
        return markdown
    head, sep, rest = markdown.partition("\n## ")
    return f"{head}\n" + "\n\n".join(extra) + (f"\n\n## {rest}" if sep else "\n")
