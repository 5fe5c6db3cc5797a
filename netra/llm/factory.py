"""The chat model factory: `ChatOpenAI` for any OpenAI-compatible server, or None offline.

Offline (no `NETRA_LLM_API_KEY`/`OPENAI_API_KEY` and no `NETRA_LLM_BASE_URL`) the agents
use rules and templates. A base URL without a key (a local vLLM, Ollama or llama.cpp
server) gets a placeholder key, since the client insists on one.
"""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from netra.config import Settings

LOCAL_PLACEHOLDER_KEY = "not-needed"


def chat_model(settings: Settings) -> BaseChatModel | None:
    """Return the configured chat model, or None when Netra runs offline."""
    if settings.offline:
        return None
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(model=settings.llm_model, base_url=settings.llm_base_url or None,
                      api_key=settings.openai_api_key() or LOCAL_PLACEHOLDER_KEY,
                      timeout=settings.llm_timeout_s, max_retries=2)
