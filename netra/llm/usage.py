"""Netra's own model usage: one record per model call, collected by the agent that made it.

    with ledger() as calls:                       # an agent's model path (netra.nodes._model)
        reply = metered(settings, "data", "tool_step", lambda: model.invoke(messages))
    [c.to_dict() for c in calls]                  # -> the run's `llm_usage`

`metered` runs the call behind the endpoint's breaker (`guarded`) and records what it
cost: input tokens (cached ones apart), output and reasoning tokens from the answer's
usage, the latency, the HTTP attempts the client made (retries are attempts past the
first; none at all means the LLM response cache answered: a cache hit, no tokens
billed), and how it ended: `ok`, `refused` (the endpoint lacks a feature, or the prompt
exceeds its context: `reason`), `failed` (unavailable). A call Netra did not send because
it could not fit the context budget is recorded `skipped` by the caller (`note`).
The attempt count comes from an httpx request hook on the model's client
(`http_client`), read through a context variable, so parallel agents count apart.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, TypeVar

import httpx
from langchain_core.messages import AIMessage

from netra.config import Settings
from netra.llm.clients import tls_context
from netra.llm.guard import FeatureRefused, ModelUnavailable, guarded

T = TypeVar("T")
_ATTEMPTS: ContextVar[list[int] | None] = ContextVar("netra_llm_attempts", default=None)
_LEDGER: ContextVar[list["CallRecord"] | None] = ContextVar("netra_llm_ledger", default=None)
# exception type -> the status of the call it ended
ENDINGS: dict[type[Exception], str] = {FeatureRefused: "refused", ModelUnavailable: "failed"}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


@dataclass
class CallRecord:
    """One model call of an agent: tokens by class, latency, attempts and how it ended."""

    agent: str
    purpose: str
    method: str = ""
    status: str = "ok"
    reason: str = ""
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    latency_ms: float = 0.0
    cache_hit: bool = False
    retries: int = 0
    attempts: int = 0  # HTTP requests made; 0 with an error: the call never reached the endpoint
    planned_tokens: int = 0
    at: str = field(default_factory=_now)

    def measure(self, reply: AIMessage | None) -> None:
        """Fill the token counts from the answer's usage."""
        usage = (reply.usage_metadata if reply is not None else None) or {}
        self.input_tokens, self.output_tokens = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
        self.cached_input_tokens = int((usage.get("input_token_details") or {}).get("cache_read", 0) or 0)
        self.reasoning_tokens = int((usage.get("output_token_details") or {}).get("reasoning", 0) or 0)

    def finish(self, started: float, attempts: int, exc: BaseException | None) -> None:
        """Record the latency, retries, cache hit and ending of the call."""
        self.latency_ms = round((time.perf_counter() - started) * 1000, 1)
        self.attempts, self.retries, self.cache_hit = attempts, max(0, attempts - 1), attempts == 0 and exc is None
        if self.cache_hit:  # answered from the LLM cache: no request, nothing billed
            self.input_tokens = self.cached_input_tokens = self.output_tokens = self.reasoning_tokens = 0
        if exc is not None:
            self.status = next((s for t, s in ENDINGS.items() if isinstance(exc, t)), "failed")
            self.reason = getattr(exc, "kind", type(exc).__name__)

    def to_dict(self) -> dict[str, Any]:
        """Return the record as plain data (the run's `llm_usage` entries)."""
        return asdict(self)


def count_attempt(request: httpx.Request) -> None:
    """httpx request hook: count one HTTP attempt of the current model call."""
    attempts = _ATTEMPTS.get()
    if attempts is not None:
        attempts[0] += 1


def http_client() -> httpx.Client:
    """Return a new HTTP client for a model, whose requests are counted per call (over the shared TLS context)."""
    return httpx.Client(event_hooks={"request": [count_attempt]}, verify=tls_context())


@contextmanager
def ledger() -> Iterator[list[CallRecord]]:
    """Collect the records of the model calls made in this block (and this context)."""
    calls: list[CallRecord] = []
    token = _LEDGER.set(calls)
    try:
        yield calls
    finally:
        _LEDGER.reset(token)


def note(record: CallRecord) -> None:
    """Add a record to the current ledger (none outside an agent's model path)."""
    calls = _LEDGER.get()
    if calls is not None:
        calls.append(record)


def reply_of(result: Any) -> AIMessage | None:
    """Return the model's message in a call's result (structured output keeps it as `raw`)."""
    if isinstance(result, AIMessage):
        return result
    raw = result.get("raw") if isinstance(result, dict) else None
    return raw if isinstance(raw, AIMessage) else None


@dataclass
class Meter:
    """Measures one model call: attempts counted while it runs, recorded when it ends."""

    record: CallRecord
    attempts: list[int] = field(default_factory=lambda: [0])
    started: float = 0.0

    def __enter__(self) -> "Meter":
        self.token, self.started = _ATTEMPTS.set(self.attempts), time.perf_counter()
        return self

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        _ATTEMPTS.reset(self.token)
        self.record.finish(self.started, self.attempts[0], exc)
        note(self.record)


def metered(settings: Settings, agent: str, purpose: str, call: Callable[[], T], method: str = "",
            planned: int = 0) -> T:
    """Run one model call behind the breaker and record its usage in the current ledger."""
    with Meter(CallRecord(agent, purpose, method=method, planned_tokens=planned)) as meter:
        result = guarded(settings, call)
        meter.record.measure(reply_of(result))
    return result
