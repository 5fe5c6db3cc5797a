"""Resilience around model calls: the endpoint's circuit breaker decides, failures count.

    reply = guarded(settings, lambda: model.invoke(messages))   # raises ModelUnavailable

A call goes out only while the breaker of the endpoint (`NETRA_LLM_BASE_URL`, or OpenAI's)
allows it; an open breaker raises `ModelUnavailable` at once. A call that still fails
after the client's own retries (any `openai.APIError`: connection refused, timeout, 429,
5xx, 4xx) counts as a breaker failure and raises `ModelUnavailable`; a call that answers
closes the breaker. An answer the caller cannot use (invalid JSON, an unknown name) is
the caller's business: the breaker is left as it is. The API key is never logged: only
the endpoint and the error's type are.

A refusal is not a failure: an endpoint that answers that it lacks a feature (a llama.cpp
server refusing `response_format: json_schema` or `tools`, with HTTP 400 or 500 and a
validation message) or that the prompt exceeds its context has answered, so the breaker
closes and `FeatureRefused` (its `kind`: `unsupported` or `context`) is raised: the caller
tries another method, or answers offline for that step.
"""

from __future__ import annotations

import logging
import re
from typing import Callable, TypeVar

from netra.config import Settings
from netra.llm.breaker import CircuitBreaker, breaker_for

LOG = logging.getLogger("netra.llm")
OPENAI_ENDPOINT = "https://api.openai.com/v1"
T = TypeVar("T")
# statuses a refusal comes with (llama.cpp answers 500 to an unsupported response_format)
REFUSAL_STATUSES = frozenset({400, 404, 422, 500, 501})
# refusal kind -> what its message says (the first that matches wins: context before feature)
REFUSALS: dict[str, re.Pattern[str]] = {
    "context": re.compile(r"context (window|length|size)|maximum context|too many tokens|exceed_context", re.I),
    "unsupported": re.compile(r"response_format|json_schema|json_object|\btools?\b.*(param|support|jinja)"
                              r"|tool_choice|not supported|unsupported", re.I),
}


class ModelUnavailable(RuntimeError):
    """The model endpoint failed after retries, or its circuit breaker is open."""


class FeatureRefused(RuntimeError):
    """The endpoint refused a request it cannot serve: a feature it lacks, or a prompt over its context."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def refusal_of(exc: Exception) -> str | None:
    """Return the refusal kind of an endpoint error (`unsupported`, `context`), or None for a failure."""
    if getattr(exc, "status_code", None) not in REFUSAL_STATUSES:
        return None
    message = str(getattr(exc, "message", "") or exc)
    return next((kind for kind, pattern in REFUSALS.items() if pattern.search(message)), None)


def endpoint_of(settings: Settings) -> str:
    """Return the model endpoint the breaker is kept for."""
    return settings.llm_base_url or OPENAI_ENDPOINT


def breaker_of(settings: Settings) -> CircuitBreaker:
    """Return the process's breaker of the configured endpoint (threshold/reset from settings)."""
    return breaker_for(endpoint_of(settings), failure_threshold=max(1, settings.llm_breaker_threshold),
                       reset_after_s=settings.llm_breaker_reset_s)


def endpoint_errors() -> tuple[type[Exception], ...]:
    """Return the errors of a failed endpoint call: the openai client's (imported on the first failure:
    `except` evaluates it only then, and the client that failed has loaded it already)."""
    import openai

    return (openai.APIError,)


def guarded(settings: Settings, call: Callable[[], T]) -> T:
    """Run one model call behind the endpoint's breaker; raise `ModelUnavailable` on failure."""
    breaker = _admitted(settings)
    try:
        result = call()
    except endpoint_errors() as exc:
        raise _failed(breaker, exc) from exc
    breaker.record_success()
    return result


def _admitted(settings: Settings) -> CircuitBreaker:
    breaker = breaker_of(settings)
    if not breaker.allow():
        raise ModelUnavailable(f"circuit breaker open for {breaker.endpoint}")
    return breaker


def _failed(breaker: CircuitBreaker, exc: Exception) -> Exception:
    kind = refusal_of(exc)
    if kind is not None:
        return _refused(breaker, kind, exc)
    breaker.record_failure()
    status = getattr(exc, "status_code", None)
    LOG.warning("model endpoint %s failed: %s%s", breaker.endpoint, type(exc).__name__, f" {status}" if status else "")
    return ModelUnavailable(f"model endpoint failed: {type(exc).__name__}" + (f" {status}" if status else ""))


def _refused(breaker: CircuitBreaker, kind: str, exc: Exception) -> FeatureRefused:
    breaker.record_success()  # the endpoint answered: it is up, it only cannot serve this request
    LOG.info("model endpoint %s refused a request (%s)", breaker.endpoint, kind)
    return FeatureRefused(kind, f"model endpoint refused the request ({kind}): {str(exc)[:300]}")
