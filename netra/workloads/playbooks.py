"""Provider-specific steps for each policy kind, each with the document it follows.

    family = provider_family(catalog, "claude-sonnet-4-5", params)   # 'anthropic'
    steps = playbook("prompt_cache", family)                          # (Step(text, source), ...)

The family comes from the policy's `params.provider` (what the prompt-cache replay logged), else
from the catalog entry of its model (`PROVIDERS`); Azure OpenAI takes OpenAI's request body, so
kinds without an `azure` row use OpenAI's. A kind with no row for the family gets the generic
row ("") that names Netra's own documentation. Step text is Markdown with the placeholders
`{feature}`, `{model}`, `{target}`, `{cap}` (filled as code spans by the caller) and
`{cache_control}` (Anthropic's breakpoint for the replay's TTL, `cache_control(params)`). Steps
hold no numbers outside code spans: a report's numbers all come from tools.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from netra.workloads.catalog import PriceCatalog

# provider (lower-cased; as logged, else the catalog entry's) -> the family whose steps apply
PROVIDERS: dict[str, str] = {"openai": "openai", "azure": "azure", "anthropic": "anthropic", "gemini": "gemini",
                             "vertex_ai": "vertex_ai", "vertex_ai-language-models": "vertex_ai"}
FALLBACK: dict[str, str] = {"azure": "openai"}  # a family without a row of a kind uses this one's

OPENAI_CACHE = "https://platform.openai.com/docs/guides/prompt-caching"
AZURE_CACHE = "https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/prompt-caching"
ANTHROPIC_CACHE = "https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching"
GEMINI_CACHE = "https://ai.google.dev/gemini-api/docs/caching"
VERTEX_CACHE = "https://cloud.google.com/vertex-ai/generative-ai/docs/context-cache/context-cache-overview"
OPENAI_BATCH = "https://platform.openai.com/docs/guides/batch"
AZURE_BATCH = "https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/batch"
ANTHROPIC_BATCH = "https://docs.anthropic.com/en/docs/build-with-claude/batch-processing"
GEMINI_BATCH = "https://ai.google.dev/gemini-api/docs/batch-mode"
VERTEX_BATCH = "https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/batch-prediction-gemini"
OPENAI_REQUEST = "https://platform.openai.com/docs/api-reference/chat/create"
ANTHROPIC_REQUEST = "https://docs.anthropic.com/en/api/messages"
GEMINI_REQUEST = "https://ai.google.dev/api/generate-content#generationconfig"
VERTEX_REQUEST = "https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/GenerationConfig"
OPENAI_LIMITS = "https://platform.openai.com/docs/guides/rate-limits"
ANTHROPIC_LIMITS = "https://docs.anthropic.com/en/api/rate-limits"
GEMINI_LIMITS = "https://ai.google.dev/gemini-api/docs/rate-limits"
VERTEX_LIMITS = "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429"
QUALITY_DOC, TOOLS_DOC, CACHING_DOC = "docs/quality.md", "docs/tools.md", "docs/caching.md"

# the replay's TTL choice -> Anthropic's cache breakpoint (docs/caching.md; ANTHROPIC_CACHE)
CACHE_CONTROL: dict[str, dict[str, str]] = {"5m": {"type": "ephemeral", "ttl": "5m"},
                                            "1h": {"type": "ephemeral", "ttl": "1h"}}
TTL_OPTION = {300: "5m", 3600: "1h"}  # params.ttl_s -> the choice, when ttl_option is missing


@dataclass(frozen=True)
class Step:
    """One step of an action plan and the document it follows."""

    text: str
    source: str


def _steps(source: str, *texts: str) -> tuple[Step, ...]:
    """Return steps that all follow one document."""
    return tuple(Step(text, source) for text in texts)


_OPENAI_PREFIX = ("Put the static part of {feature}'s prompt (instructions, tools, examples) first and the "
                  "per-request content last, byte-identical from request to request: the provider caches a "
                  "repeated prefix automatically")
_GEMINI_CACHE = ("Implicit caching is on by default: put the large shared content of {feature} first and send "
                 "requests that share it close together",
                 "For a guaranteed discount, create an explicit cache (`cachedContents`) of the shared prefix with "
                 "a TTL and pass its name with each request; explicit caches bill storage per token-hour, so keep "
                 "the TTL to the hours {feature} reuses it",
                 "Watch `usageMetadata.cachedContentTokenCount` of {feature}")
_GEMINI_CAP = ("Set `generationConfig.maxOutputTokens` of {feature} to {cap}",
               "Alert on `finishReason` `MAX_TOKENS` for {feature}")
_GOOGLE_RETRY = ("Retry {feature}'s `429` (`RESOURCE_EXHAUSTED`) responses with exponential backoff and jitter",
                 "Cap the retries per request and raise the client timeout above the p99 latency")

# (policy kind, provider family) -> steps; family "" is the generic row
PLAYBOOKS: dict[tuple[str, str], tuple[Step, ...]] = {
    ("route_model", ""): (
        Step("Shadow-run {target} on a sample of {feature} traffic and log `quality_score` on both models",
             QUALITY_DOC),
        Step("Send a canary share of {feature} to {target}, then all of it, while its quality score stays within "
             "the budget", TOOLS_DOC),
        Step("Keep {model} configured, so the rollback can return to it", TOOLS_DOC)),
    ("prompt_cache", "openai"): _steps(
        OPENAI_CACHE, _OPENAI_PREFIX,
        "Send the same `prompt_cache_key` on the {feature} requests that share that prefix, where the model "
        "supports it",
        "Watch `usage.prompt_tokens_details.cached_tokens` of {feature}"),
    ("prompt_cache", "azure"): _steps(AZURE_CACHE, _OPENAI_PREFIX,
                                      "Watch `usage.prompt_tokens_details.cached_tokens` of {feature}"),
    ("prompt_cache", "anthropic"): _steps(
        ANTHROPIC_CACHE, "Order {feature}'s request as tools, system, then messages, with its static part first and "
                         "byte-identical from request to request",
        "End the static prefix with a cache breakpoint: {cache_control}",
        "Watch `usage.cache_read_input_tokens` and `usage.cache_creation_input_tokens` of {feature}"),
    ("prompt_cache", "gemini"): _steps(GEMINI_CACHE, *_GEMINI_CACHE),
    ("prompt_cache", "vertex_ai"): _steps(VERTEX_CACHE, *_GEMINI_CACHE),
    ("prompt_cache", ""): _steps(CACHING_DOC, "Put the shared prefix of {feature} first and keep it byte-identical; "
                                              "enable the provider's prompt caching as its documentation says"),
    ("batch_api", "openai"): _steps(
        OPENAI_BATCH, "Write {feature}'s requests to a JSONL file, one line per request with a `custom_id`, `method`, "
                      "`url` and `body`",
        "Upload it with purpose `batch` and create the batch on the same endpoint with `completion_window` `24h`",
        "Poll the batch, read its output file and match each line to its request by `custom_id`"),
    ("batch_api", "azure"): _steps(
        AZURE_BATCH, "Deploy {model} as a global batch deployment",
        "Write {feature}'s requests to a JSONL file (`custom_id`, `method`, `url`, `body`, the batch deployment as "
        "`model`), upload it with purpose `batch` and create the batch with `completion_window` `24h`",
        "Poll the batch and match its output lines to requests by `custom_id`"),
    ("batch_api", "anthropic"): _steps(
        ANTHROPIC_BATCH, "Send {feature}'s requests as one Message Batch: `requests` of `custom_id` and `params` "
                         "(the Messages API body)",
        "Poll the batch until its `processing_status` is `ended`, then read its results and match them by "
        "`custom_id`; requests not processed within the batch's window expire"),
    ("batch_api", "gemini"): _steps(
        GEMINI_BATCH, "Submit {feature}'s requests as a batch job (`batches.create`), inline or as a JSONL file "
                      "uploaded through the File API",
        "Poll the job until it succeeds and read its responses by key"),
    ("batch_api", "vertex_ai"): _steps(
        VERTEX_BATCH, "Write {feature}'s requests as JSONL `request` lines to Cloud Storage (or rows of a BigQuery "
                      "table)",
        "Create a batch prediction job (`batchPredictionJobs`) for {model} with that input and an output location",
        "Poll the job and read the predictions from the output location"),
    ("batch_api", ""): _steps(TOOLS_DOC, "Send {feature}'s requests through the provider's batch interface, as its "
                                         "documentation says, and collect the results asynchronously"),
    ("cap_max_tokens", "openai"): _steps(
        OPENAI_REQUEST, "Set `max_completion_tokens` (`max_output_tokens` in the Responses API) of {feature} to {cap}",
        "Alert on `finish_reason` `length` for {feature}"),
    ("cap_max_tokens", "anthropic"): _steps(ANTHROPIC_REQUEST, "Set `max_tokens` of {feature} to {cap}",
                                            "Alert on `stop_reason` `max_tokens` for {feature}"),
    ("cap_max_tokens", "gemini"): _steps(GEMINI_REQUEST, *_GEMINI_CAP),
    ("cap_max_tokens", "vertex_ai"): _steps(VERTEX_REQUEST, *_GEMINI_CAP),
    ("cap_max_tokens", ""): _steps(TOOLS_DOC, "Set the output-token limit of {feature} to {cap}",
                                   "Alert on responses cut at the limit for {feature}"),
    ("retry_budget", "openai"): _steps(
        OPENAI_LIMITS, "Retry {feature}'s rate-limited and timed-out requests with exponential backoff and jitter",
        "Cap the retries per request and raise the client timeout above the p99 latency"),
    ("retry_budget", "anthropic"): _steps(
        ANTHROPIC_LIMITS, "Retry {feature}'s `429` and `529` responses after the wait in their `retry-after` header, "
                          "with backoff and jitter",
        "Cap the retries per request and raise the client timeout above the p99 latency"),
    ("retry_budget", "gemini"): _steps(GEMINI_LIMITS, *_GOOGLE_RETRY),
    ("retry_budget", "vertex_ai"): _steps(VERTEX_LIMITS, *_GOOGLE_RETRY),
    ("retry_budget", ""): _steps(TOOLS_DOC, "Retry {feature} with exponential backoff and jitter",
                                 "Cap the retries per request and raise the client timeout above the p99 latency"),
}


def provider_family(catalog: PriceCatalog | None, model: str, params: Mapping[str, Any]) -> str:
    """Return the family of the policy's provider: `params.provider`, else its model's catalog entry ("" unknown)."""
    provider = str(params.get("provider") or "")
    if not provider and catalog is not None and catalog.resolve(model) is not None:
        provider = catalog.lookup(model).provider
    return PROVIDERS.get(provider.lower(), "")


def playbook(kind: str, family: str) -> tuple[Step, ...]:
    """Return the steps of `kind` for `family`: its own row, its fallback family's, else the generic row."""
    for key in (family, FALLBACK.get(family, ""), ""):
        if (kind, key) in PLAYBOOKS:
            return PLAYBOOKS[(kind, key)]
    raise KeyError(f"no playbook for policy kind {kind!r}")


def cache_control(params: Mapping[str, Any]) -> str:
    """Return Anthropic's cache breakpoint for the replay's TTL choice (`ttl_option`, else `ttl_s`), as code."""
    choice = params.get("ttl_option") or TTL_OPTION.get(params.get("ttl_s"))
    if choice not in CACHE_CONTROL:
        return "`cache_control` with the TTL (`5m` or `1h`) prompt_cache_savings_calculator chooses"
    return f'`"cache_control": {json.dumps(CACHE_CONTROL[choice])}`'
