"""What a tool-loop step shows the model: the tools chosen for the question, compactly, and results cut to fit.

    chosen = choose(offered("data"), request, tasks)     # at most MAX_OFFERED, best first
    tools = [compact_tool(s) for s in chosen.values()]    # OpenAI function tools, short
    text = summary(result, max_tokens=300)                # what the model sees of a result

A family's every tool with its whole schema is more than a small context holds (the data
agent's 19 tools are about 6,400 tokens), so a step offers the tools the question needs:
those of its topics (`TOPIC_TOOLS`; an optimisation question's goal adds its own), then
those whose name and description share words with the question, leaving out the tools the
planned tasks run anyway (what is still missing is what the model may add). Descriptions
are cut to their first sentence, argument descriptions shortened, titles dropped, and the
scope arguments (window and filters) left out of tools that take them: the loop adds the
request's scope to every such call. A result is shown as its figures, first rows and
notes, with fewer rows and figures until it fits its share of the budget.
"""

from __future__ import annotations

import json
import re
from typing import Any

from netra.llm.tokens import count_text
from netra.tools.base import Figure, ToolResult, ToolSpec

MAX_OFFERED = 6
DESCRIPTION_CHARS = 160
ARGUMENT_CHARS = 70
SCOPE_FIELDS = ("start", "end", "feature", "model", "user_id")
RESULT_TOKENS = 400
# (rows, figures, notes) shown of a result, most first: the first that fits is sent
RESULT_SHAPES = ((5, 40, 3), (3, 20, 2), (1, 12, 1), (0, 8, 0))
# topic -> the tools (of either family) that answer it
TOPIC_TOOLS: dict[str, tuple[str, ...]] = {
    "cost": ("cost_forecaster", "cost_anomaly_detector", "expensive_request_explainer", "price_comparator",
             "max_tokens_optimizer", "model_routing_recommender", "batch_opportunity_finder", "retry_waste_analyzer"),
    "latency": ("latency_bottleneck_identifier", "throughput_analyzer", "function_performance_analyzer",
                "error_rate_analyzer", "retry_waste_analyzer"),
    "tokens": ("context_window_utilization", "prompt_bloat_detector", "max_tokens_optimizer"),
    "cache": ("kv_cache_optimization_audit", "cache_policy_optimizer", "response_cache_estimator",
              "prompt_cache_savings_calculator", "kv_cache_finder"),
    "models": ("price_comparator", "supply_catalog_lookup", "model_routing_recommender"),
}
_WORD = re.compile(r"[a-z]{4,}")


def words(text: str) -> set[str]:
    """Return the words of four letters or more of `text`, lower-cased."""
    return set(_WORD.findall(text.lower()))


def topics_of(request: dict[str, Any]) -> list[str]:
    """Return the topics a request is about: its own, and its goal's."""
    goal = {"cost": ["cost"], "latency": ["latency"], "both": ["cost", "latency"]}.get(request.get("goal", ""), [])
    return list(dict.fromkeys([*request.get("topics", []), *goal]))


def relevance(spec: ToolSpec, topics: list[str], asked: set[str]) -> int:
    """Return how well a tool fits: 3 per topic it answers, 1 per word it shares with the question."""
    by_topic = sum(3 for topic in topics if spec.name in TOPIC_TOOLS.get(topic, ()))
    return by_topic + len(asked & words(spec.name.replace("_", " ") + " " + spec.description))


def choose(specs: dict[str, ToolSpec], request: dict[str, Any], tasks: list[dict[str, Any]],
           limit: int = MAX_OFFERED) -> dict[str, ToolSpec]:
    """Return the tools a step offers: the most relevant to the question, planned ones left out."""
    planned, topics = {t["tool"] for t in tasks}, topics_of(request)
    asked = words(str(request.get("question", "")))
    ranked = sorted((s for s in specs.values() if s.name not in planned),
                    key=lambda s: (-relevance(s, topics, asked), s.name))
    return {s.name: s for s in ranked[:limit]}


def first_sentence(text: str, chars: int) -> str:
    """Return the first sentence of `text`, at most `chars` characters."""
    sentence = re.split(r"(?<=[.:;])\s", " ".join(text.split()), maxsplit=1)[0]
    return sentence if len(sentence) <= chars else sentence[:chars - 1].rstrip() + "…"


def _compact_value(key: str, value: Any) -> Any:
    if key == "description" and isinstance(value, str):
        return first_sentence(value, ARGUMENT_CHARS)
    return _compact(value)


def _compact(node: Any) -> Any:
    if isinstance(node, list):
        return [_compact(v) for v in node]
    if not isinstance(node, dict):
        return node
    return {k: _compact_value(k, v) for k, v in node.items() if k != "title"}


def parameters(spec: ToolSpec) -> dict[str, Any]:
    """Return a tool's argument schema, compact, without the scope arguments the loop adds."""
    schema = _compact(spec.args_model.model_json_schema())
    scoped = "start" in spec.args_model.model_fields
    dropped = set(SCOPE_FIELDS) if scoped else set()
    schema["properties"] = {k: v for k, v in schema.get("properties", {}).items() if k not in dropped}
    if "required" in schema:
        schema["required"] = [k for k in schema["required"] if k not in dropped]
    return schema


def compact_tool(spec: ToolSpec) -> dict[str, Any]:
    """Return a tool as a short OpenAI function tool: name, first sentence, compact arguments."""
    return {"type": "function", "function": {"name": spec.name, "parameters": parameters(spec),
                                             "description": first_sentence(spec.description, DESCRIPTION_CHARS)}}


def _figure(figure: Figure) -> str:
    if figure.value is None:
        return "not in the telemetry"
    return f"{figure.value:g} {figure.unit}".strip()


def _shaped(result: ToolResult, rows: int, figures: int, notes: int) -> str:
    shown = list(result.figures.items())[:figures]
    data = {"call_id": result.call_id, "figures": {n: _figure(f) for n, f in shown},
            "rows": result.rows[:rows], "notes": result.notes[:notes]}
    return json.dumps(data, default=str, separators=(",", ":"))


def summary(result: ToolResult, max_tokens: int = RESULT_TOKENS) -> str:
    """Return what the model sees of a tool result, cut until it fits `max_tokens`."""
    text = ""
    for shape in RESULT_SHAPES:
        text = _shaped(result, *shape)
        if count_text(text) <= max_tokens:
            return text
    return text[:max(0, max_tokens) * 3]
