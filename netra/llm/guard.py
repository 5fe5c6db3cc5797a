"""Resilience around model calls: the endpoint's circuit breaker decides, failures count.

    reply = guarded(settings, lambda: model.invoke(messages))   # raises ModelUnavailable

A call goes out only while the breaker of the endpoint (`NETRA_LLM_BASE_URL`, or OpenAI's)
allows it; an open breaker raises `ModelUnavailable` at once. A call that still fails
after the client's own retries (any `openai.APIError`: connection refused, timeout, 429,
5xx, 4xx) counts as a breaker failure and raises `ModelUnavailable`; a call that answers
closes the breaker. An answer the caller cannot use (invalid JSON, an unknown name) is
the caller's business: the breaker is left as it is. The API key is never logged: only
the endpoint and the error's type are.
"""

from __future__ import annotations

import logging
from typing import Callable, TypeVar

import openai

from netra.config import Settings
from netra.llm.breaker import CircuitBreaker, breaker_for

LOG = logging.getLogger("netra.llm")
OPENAI_ENDPOINT = "https://api.openai.com/v1"
ENDPOINT_ERRORS: tuple[type[Exception], ...] = (openai.APIError,)
T = TypeVar("T")


class ModelUnavailable(RuntimeError):
    """The model endpoint failed after retries, or its circuit breaker is open."""


def endpoint_of(settings: Settings) -> str:
    """Return the model endpoint the breaker is kept for."""
    return settings.llm_base_url or OPENAI_ENDPOINT


def breaker_of(settings: Settings) -> CircuitBreaker:
    """Return the process's breaker of the configured endpoint (threshold/reset from settings)."""
    return breaker_for(endpoint_of(settings), failure_threshold=max(1, settings.llm_breaker_threshold),
                       reset_after_s=settings.llm_breaker_reset_s)


def guarded(settings: Settings, call: Callable[[], T]) -> T:
    """Run one model call behind the endpoint's breaker; raise `ModelUnavailable` on failure."""
    breaker = _admitted(settings)
    try:
        result = call()
    except ENDPOINT_ERRORS as exc:
        raise _failed(breaker, exc) from exc
    breaker.record_success()
    return result


def _admitted(settings: Settings) -> CircuitBreaker:
    breaker = breaker_of(settings)
    if not breaker.allow():
        raise ModelUnavailable(f"circuit breaker open for {breaker.endpoint}")
    return breaker


def _failed(breaker: CircuitBreaker, exc: Exception) -> ModelUnavailable:
    breaker.record_failure()
    status = getattr(exc, "status_code", None)
    LOG.warning("model endpoint %s failed: %s%s", breaker.endpoint, type(exc).__name__, f" {status}" if status else "")
    return ModelUnavailable(f"model endpoint failed: {type(exc).__name__}" + (f" {status}" if status else ""))
