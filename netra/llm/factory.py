"""The chat model factory: `ChatOpenAI` for any OpenAI-compatible server, or None offline.

Offline (no `NETRA_LLM_API_KEY`/`OPENAI_API_KEY` and no `NETRA_LLM_BASE_URL`) the agents
use rules and templates. A base URL without a key (a local vLLM, Ollama or llama.cpp
server) gets a placeholder key, since the client insists on one.

    model = chat_model(settings)                      # LLM cache opened from NETRA_REDIS_URL
    model = chat_model(settings, cache=resources.cache("llm_cache"))   # the server's cache

Retries are the openai client's own: `NETRA_LLM_MAX_RETRIES` retries of connection errors,
timeouts, 408/409/429 and 5xx answers, with exponential backoff (0.5 s doubling, at most
8 s, each delay cut by up to 25% at random: jitter) or the server's `Retry-After`. The
Chat Completions API is used (`use_responses_api=False`), which every compatible server has.
The HTTP client counts each call's attempts for Netra's usage records (`netra.llm.usage`).
"""

from __future__ import annotations

from langchain_core.caches import BaseCache
from langchain_core.language_models import BaseChatModel

from netra.config import Settings
from netra.llm.usage import http_client

LOCAL_PLACEHOLDER_KEY = "not-needed"


def llm_cache(settings: Settings) -> BaseCache:
    """Return an LLM response cache over NETRA_REDIS_URL (in-process when unset)."""
    from netra.llm.cache import LLMCache
    from netra.persistence.cache import open_cache

    return LLMCache(open_cache(settings.redis_url, name="llm", prefix=""), ttl_s=settings.llm_cache_ttl_s)


def chat_model(settings: Settings, cache: BaseCache | None = None) -> BaseChatModel | None:
    """Return the configured chat model (answers cached in `cache`), or None when offline."""
    if settings.offline:
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(http_client=http_client(), model=settings.llm_model, base_url=settings.llm_base_url or None,
                      api_key=settings.openai_api_key() or LOCAL_PLACEHOLDER_KEY, timeout=settings.llm_timeout_s,
                      max_retries=settings.llm_max_retries, use_responses_api=False, stream_usage=True,
                      cache=cache if cache is not None else llm_cache(settings))
