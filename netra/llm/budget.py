"""Context budgets: every model call is planned to fit the endpoint's context, answer included.

    budget = budget_for(settings, "tool_step")
    budget.limit            # most input tokens this call may send
    budget.fits(tokens)     # False: the call is not sent (the agent answers offline for it)
    model = answer_limited(llm, budget.answer)   # max_tokens = the answer's room

The endpoint's context is `NETRA_LLM_CONTEXT_TOKENS`, or, when that is 0, what the server
says: llama.cpp's `/props` (`n_ctx`, or `default_generation_settings.n_ctx`), else the
`meta` of `/v1/models` (`n_ctx`, else `n_ctx_train`); read once per endpoint (over the model
path's shared TLS context, `netra.llm.clients`). When neither tells, the context is unknown
and only the per-call cap applies. The cap,
`NETRA_LLM_CALL_INPUT_TOKENS` (4,000), keeps each call small whatever the context: the
limit of a call is the cap, or the context less the answer's room and a margin for the
server's own template tokens, whichever is smaller.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable

import httpx
from langchain_core.language_models import BaseChatModel

from netra.config import Settings
from netra.llm.clients import tls_context

PROBE_TIMEOUT_S = 3.0
TEMPLATE_MARGIN = 64  # chat-template tokens a server adds around the messages
# call purpose -> output tokens reserved for its answer (sent as max_tokens)
ANSWER_TOKENS: dict[str, int] = {"structured": 400, "tool_step": 600, "report": 1000}
_LOCK = threading.Lock()
CONTEXTS: dict[str, int | None] = {}


def _props(body: dict[str, Any]) -> Any:
    return body.get("n_ctx") or (body.get("default_generation_settings") or {}).get("n_ctx")


def _models(body: dict[str, Any]) -> Any:
    meta = ((body.get("data") or [{}])[0] or {}).get("meta") or {}
    return meta.get("n_ctx") or meta.get("n_ctx_train")


# where a server tells its context: (URL from the base URL, how to read the answer)
PROBES: tuple[tuple[Callable[[str], str], Callable[[dict[str, Any]], Any]], ...] = (
    (lambda base: base.rstrip("/").removesuffix("/v1") + "/props", _props),
    (lambda base: base.rstrip("/") + "/models", _models),
)


def _asked(url: str, read: Callable[[dict[str, Any]], Any]) -> int | None:
    try:
        response = httpx.get(url, timeout=PROBE_TIMEOUT_S, verify=tls_context())
        value = read(response.json()) if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError, IndexError):
        return None
    return int(value) if isinstance(value, (int, float)) and value > 0 else None


def discover(base_url: str) -> int | None:
    """Return the context the server at `base_url` says it has (llama.cpp), or None."""
    return next((n for url, read in PROBES if (n := _asked(url(base_url), read)) is not None), None)


def context_tokens(settings: Settings) -> int | None:
    """Return the endpoint's context: the setting, else what its server said (asked once), else None."""
    if settings.llm_context_tokens > 0:
        return settings.llm_context_tokens
    return _discovered(settings.llm_base_url) if settings.llm_base_url else None


def _discovered(base_url: str) -> int | None:
    """Return what the server at `base_url` said its context is, asking it on first use."""
    with _LOCK:
        if base_url not in CONTEXTS:
            CONTEXTS[base_url] = discover(base_url)
        return CONTEXTS[base_url]


class OverBudget(RuntimeError):
    """A model call could not be made to fit its context budget: it was not sent."""


@dataclass(frozen=True)
class Budget:
    """The room of one call: the endpoint's context (None: unknown), the cap, the answer's room."""

    context: int | None
    cap: int
    answer: int

    @property
    def limit(self) -> int:
        """Return the most input tokens the call may send."""
        if self.context is None:
            return self.cap
        return max(0, min(self.cap, self.context - self.answer - TEMPLATE_MARGIN))

    def fits(self, tokens: int) -> bool:
        """Return whether a prompt of `tokens` may be sent."""
        return tokens <= self.limit

    def admit(self, tokens: int, agent: str, purpose: str) -> None:
        """Let a prompt of `tokens` go; else record the call `skipped` and raise OverBudget."""
        if self.fits(tokens):
            return
        from netra.llm.usage import CallRecord, note

        reason = f"context budget: {tokens} input tokens > {self.limit}"
        note(CallRecord(agent, purpose, status="skipped", reason=reason, planned_tokens=tokens))
        raise OverBudget(f"{purpose} call not sent: {reason} (context {self.context or 'unknown'})")


def budget_for(settings: Settings, purpose: str) -> Budget:
    """Return the budget of a call of `purpose` (`structured`, `tool_step`, `report`)."""
    return Budget(context_tokens(settings), settings.llm_call_input_tokens, ANSWER_TOKENS[purpose])


def answer_limited(llm: BaseChatModel, tokens: int) -> BaseChatModel:
    """Return the model with `max_tokens` set to the answer's room (as is when it has no such field)."""
    if not tokens or "max_tokens" not in type(llm).model_fields:
        return llm
    return llm.model_copy(update={"max_tokens": tokens})
