"""Triage with a model: the question read into `TriageOut` (structured output), then a Request.

The model answers in JSON, asked with the strongest method the endpoint serves
(`netra.llm.negotiate`: `response_format` json_schema built from `TriageOut`, else tool
calling, else json_object with the schema in the prompt); the prompt must fit the call's
context budget (`netra.llm.budget`), else it is not sent. The answer is validated with `TriageOut`, and its filters must name models, features or users that
exist in the store (any other name is a hallucination and fails the read, so triage falls
back to the rules). The JSON schema is passed as a dict rather than the class so the answer
is plain JSON, which the LLM cache can store and replay.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from netra.config import Settings
from netra.graph.state import Request
from netra.llm.budget import budget_for
from netra.llm.negotiate import compact_schema, structured
from netra.llm.tokens import count_text, langchain_tokens
from netra.nodes import triage_rules

NAMES_SHOWN = 50
SYSTEM = """You are the triage agent of Netra, which analyses a team's LLM request telemetry.
Read the user's question into the JSON schema:
- intent: "optimize" when the question asks to cut, reduce, save, optimise, improve or for recommendations; else "question".
- goal: "cost", "latency" or "both".
- window_days: the look-back the question names, in days (7 for "last week", 30 for "last month"); null for all data.
- filters: a model, feature or user the question names, spelled exactly as one of the known names below; else null.
- constraints: max_quality_drop 0 when quality must not suffer; max_latency_increase in percent; null when not stated.
- target_savings_pct: a savings target, such as 30 for "cut 30%"; null when none.
- topics: which of cost, latency, tokens, cache, models the question is about.
Known names (JSON): {names}"""


class TriageFilters(BaseModel):
    """A model, feature or user the question is about (names from the store)."""

    model: str | None = Field(None, description="a known model name, or null")
    feature: str | None = Field(None, description="a known feature name, or null")
    user_id: str | None = Field(None, description="a known user id, or null")


class TriageConstraints(BaseModel):
    """Limits the user set on a change."""

    max_quality_drop: float | None = Field(None, description="largest acceptable quality drop in points; 0 = keep quality")
    max_latency_increase: float | None = Field(None, description="largest acceptable p95 latency increase, percent")


class TriageOut(BaseModel):
    """What the question asks: intent, goal, window, filters, constraints, target, topics."""

    intent: Literal["optimize", "question"]
    goal: Literal["cost", "latency", "both"] = "cost"
    window_days: float | None = Field(None, gt=0, description="look-back in days; null = all data")
    filters: TriageFilters = Field(default_factory=TriageFilters)
    constraints: TriageConstraints = Field(default_factory=TriageConstraints)
    target_savings_pct: float | None = Field(None, gt=0, le=100)
    topics: list[Literal["cost", "latency", "tokens", "cache", "models"]] = Field(default_factory=list)


def messages(question: str, names: dict[str, list[str]]) -> list:
    """Return the triage prompt: instructions with the known names, then the question."""
    shown = {column: sorted(map(str, options))[:NAMES_SHOWN] for column, options in sorted(names.items())}
    return [SystemMessage(content=SYSTEM.format(names=json.dumps(shown))), HumanMessage(content=question)]


def read(settings: Settings, llm: BaseChatModel, question: str, names: dict[str, list[str]]) -> TriageOut:
    """Ask the model (behind the breaker, within the budget) and validate its JSON answer."""
    schema, prompt = TriageOut.model_json_schema(), messages(question, names)
    budget = budget_for(settings, "structured")
    budget.admit(langchain_tokens(prompt) + count_text(compact_schema(schema)), "triage", "structured")
    return TriageOut.model_validate(structured(settings, llm, schema, prompt, "triage", budget.answer))


def known_filters(filters: TriageFilters, names: dict[str, list[str]]) -> dict[str, str]:
    """Return the filters spelled as in the store; raise ValueError on a name it does not hold."""
    chosen = {column: value for column, value in filters.model_dump().items() if value}
    spelled = {c: {str(n).lower(): str(n) for n in names.get(c, [])} for c in chosen}
    unknown = [f"{c}={v!r}" for c, v in chosen.items() if v.lower() not in spelled[c]]
    if unknown:
        raise ValueError(f"the model named what the store does not hold: {', '.join(unknown)}")
    return {c: spelled[c][v.lower()] for c, v in chosen.items()}


def _label(question: str, days: float | None) -> str:
    if days is None:
        return "all data"
    rule_days, words = triage_rules.window_days(question)
    return words if rule_days == days else f"last {days:g} days"


def to_request(out: TriageOut, question: str, data_end: datetime | None, names: dict[str, list[str]]) -> Request:
    """Return the Request the rules would build, from the model's reading."""
    filters, quality = known_filters(out.filters, names), out.constraints.max_quality_drop is not None
    return Request(question=question, intent=out.intent, goal=out.goal, filters=filters,
                   target_saving_pct=out.target_savings_pct, preserve_quality=quality,
                   topics=list(dict.fromkeys(out.topics)) or ["cost"],
                   constraints=out.constraints.model_dump(exclude_none=True),
                   **triage_rules.anchored(out.window_days, _label(question, out.window_days), data_end))
