"""Structured output that negotiates: the strongest method the endpoint supports, remembered.

    answer = structured(settings, llm, schema, messages, agent="triage")   # a dict

The methods, strongest first: `json_schema` (the server enforces the schema), then tool
calling (`function_calling`: the schema as the one tool's arguments), then `json_mode`
(`response_format: json_object`, the schema written into the system prompt). A method the
endpoint refuses (`FeatureRefused` of kind `unsupported`: llama.cpp answers 500 to a
json_schema response format) is remembered as unsupported for that endpoint, and the next
is tried; the one that answered is remembered too, so later calls start there. Memory is
per endpoint and model (`NETRA_LLM_BASE_URL` + `NETRA_LLM_MODEL`), for the process.
Refusals are not endpoint failures (`netra.llm.guard`). A context refusal, an unusable
answer or an unavailable endpoint ends the negotiation: the caller falls back.
"""

from __future__ import annotations

import json
import threading
from functools import partial
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, SystemMessage

from netra.config import Settings
from netra.llm.budget import answer_limited
from netra.llm.guard import FeatureRefused, endpoint_of
from netra.llm.usage import metered

METHODS = ("json_schema", "function_calling", "json_mode")
# method -> the endpoint feature it needs (what a refusal of it tells about the endpoint)
FEATURE = {"json_schema": "json_schema", "function_calling": "tools", "json_mode": "json_object"}
T = TypeVar("T")
SCHEMA_IN_PROMPT = "\nAnswer with one JSON object (no prose) that fits this JSON schema: {schema}"


@dataclass
class Capabilities:
    """What one endpoint+model was seen to support: refused features and the method that worked."""

    refused: set[str] = field(default_factory=set)
    method: str | None = None

    def methods(self) -> list[str]:
        """Return the methods to try, the one that worked first, refused ones left out."""
        order = [m for m in METHODS if FEATURE[m] not in self.refused]
        return sorted(order, key=lambda m: m != self.method)


KNOWN: dict[tuple[str, str], Capabilities] = {}
_LOCK = threading.Lock()


def capabilities(settings: Settings) -> Capabilities:
    """Return what the configured endpoint+model is known to support (process-wide)."""
    with _LOCK:
        return KNOWN.setdefault((endpoint_of(settings), settings.llm_model), Capabilities())


def supports(settings: Settings, feature: str) -> bool:
    """Return whether the endpoint has not refused `feature` (`tools`, `json_schema`, ...)."""
    return feature not in capabilities(settings).refused


def mark_refused(settings: Settings, feature: str) -> None:
    """Remember that the endpoint refused `feature`."""
    known = capabilities(settings)
    with _LOCK:
        known.refused.add(feature)


def refuse(settings: Settings, feature: str, call: Callable[[], T]) -> T:
    """Run `call`; an `unsupported` refusal marks `feature` refused for the endpoint, then is raised."""
    try:
        return call()
    except FeatureRefused as exc:
        if exc.kind == "unsupported":
            mark_refused(settings, feature)
        raise


def compact_schema(schema: dict[str, Any]) -> str:
    """Return a JSON schema as short JSON (titles left out)."""
    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "title"}
        return [strip(v) for v in node] if isinstance(node, list) else node
    return json.dumps(strip(schema), separators=(",", ":"))


def prompt_for(method: str, schema: dict[str, Any], messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """Return the messages of a method: json_mode writes the schema into the system prompt."""
    if method != "json_mode" or not messages or not isinstance(messages[0], SystemMessage):
        return list(messages)
    system = SystemMessage(content=f"{messages[0].content}{SCHEMA_IN_PROMPT.format(schema=compact_schema(schema))}")
    return [system, *messages[1:]]


@dataclass
class Negotiation:
    """One structured question to the model, asked with each method in turn until one is served."""

    settings: Settings
    llm: BaseChatModel
    schema: dict[str, Any]
    agent: str
    answer_tokens: int = 0

    def ask(self, messages: Sequence[BaseMessage]) -> dict[str, Any]:
        """Return the parsed answer of the first method the endpoint serves."""
        known = capabilities(self.settings)
        for method in known.methods():
            answer = self._tried(method, messages)
            if answer is not None:
                known.method = method
                return parsed(method, answer)
        raise FeatureRefused("unsupported", "the endpoint serves no structured output method")

    def _tried(self, method: str, messages: Sequence[BaseMessage]) -> dict[str, Any] | None:
        """Return the raw structured answer of `method`, or None when the endpoint refused the method."""
        try:
            return refuse(self.settings, FEATURE[method], partial(self._asked, method, messages))
        except FeatureRefused as exc:
            if exc.kind != "unsupported":
                raise
            return None

    def _asked(self, method: str, messages: Sequence[BaseMessage]) -> dict[str, Any]:
        runnable = answer_limited(self.llm, self.answer_tokens).with_structured_output(  # type: ignore[attr-defined]
            self.schema, method=method, include_raw=True)
        prompt = prompt_for(method, self.schema, messages)
        return metered(self.settings, self.agent, "structured", lambda: runnable.invoke(prompt), method=method)


def parsed(method: str, answer: dict[str, Any]) -> dict[str, Any]:
    """Return the parsed JSON of a structured answer; raise ValueError when the model's text is not that."""
    if answer.get("parsing_error") is not None or not isinstance(answer.get("parsed"), dict):
        raise ValueError(f"the model's {method} answer is not the JSON asked for: {answer.get('parsing_error')}")
    return answer["parsed"]


def structured(settings: Settings, llm: BaseChatModel, schema: dict[str, Any], messages: Sequence[BaseMessage],
               agent: str, answer_tokens: int = 0) -> dict[str, Any]:
    """Ask for a JSON answer fitting `schema` with the strongest method the endpoint serves."""
    return Negotiation(settings, llm, schema, agent, answer_tokens).ask(messages)
