"""Hooks around every agent (before, after, on error, on retry) and retry with backoff.

An agent that still fails after its last attempt does not crash the run: `on_error` fires,
the failure is recorded in `errors` and `agent_status`, and the supervisor moves on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from langgraph.config import get_stream_writer
from langgraph.errors import GraphBubbleUp

Hook = Callable[[str, dict[str, Any]], None]
NodeFn = Callable[[dict], dict]
HOOK_NAMES = ("before_agent", "after_agent", "on_error", "on_retry")


def emit(event: str, payload: dict[str, Any]) -> None:
    """Write a progress event to the run's custom stream (no-op outside a run)."""
    try:
        get_stream_writer()({"event": event, **payload})
    except RuntimeError:  # called outside a graph run
        pass


@dataclass
class Hooks:
    """Lists of callbacks per hook; each gets (agent name, payload)."""

    before_agent: list[Hook] = field(default_factory=list)
    after_agent: list[Hook] = field(default_factory=list)
    on_error: list[Hook] = field(default_factory=list)
    on_retry: list[Hook] = field(default_factory=list)

    def fire(self, hook: str, agent: str, payload: dict[str, Any]) -> None:
        """Call every callback registered for `hook`."""
        for callback in getattr(self, hook):
            callback(agent, payload)


def streaming_hooks() -> Hooks:
    """Hooks that turn each hook into a progress event on the custom stream."""
    events = {"before_agent": "agent_started", "after_agent": "agent_completed",
              "on_error": "agent_error", "on_retry": "agent_retry"}
    made = {h: [lambda a, p, e=e: emit(e, {"agent": a, **p})] for h, e in events.items()}
    return Hooks(**made)


@dataclass(frozen=True)
class RetrySettings:
    """How often an agent is attempted and the first backoff delay (doubling each time)."""

    max_attempts: int = 3
    backoff_s: float = 0.5


@dataclass
class AgentNode:
    """An agent wrapped with the hooks and retry with exponential backoff."""

    name: str
    fn: NodeFn
    hooks: Hooks
    retry: RetrySettings

    def __call__(self, state: dict) -> dict:
        """Run the agent: before hook, attempts, after hook."""
        self.hooks.fire("before_agent", self.name, {})
        update = self._attempts(state)
        self.hooks.fire("after_agent", self.name, {"status": update.get("agent_status", {}).get(self.name, "")})
        return update

    def _attempts(self, state: dict) -> dict:
        """Try the agent up to `max_attempts` times, backing off between failures."""
        for attempt in range(1, max(self.retry.max_attempts, 1)):
            outcome = self._outcome(state)
            if not isinstance(outcome, Exception):
                return outcome
            self._backoff(attempt, outcome)
        outcome = self._outcome(state)
        return self._failed(outcome) if isinstance(outcome, Exception) else outcome

    def _outcome(self, state: dict) -> dict | Exception:
        """Return the agent's state update, or the failure it raised."""
        try:
            return self.fn(state)
        except GraphBubbleUp:  # interrupts and cancellation are control flow, not failures
            raise
        except Exception as exc:  # an agent failure of any kind is retried, then recorded
            return exc

    def _backoff(self, attempt: int, exc: Exception) -> None:
        """Fire `on_retry`, then sleep the attempt's delay (doubling from `backoff_s`)."""
        delay = self.retry.backoff_s * 2 ** (attempt - 1)
        self.hooks.fire("on_retry", self.name, {"attempt": attempt, "error": str(exc), "delay_s": delay})
        time.sleep(delay)

    def _failed(self, exc: Exception) -> dict:
        """Fire `on_error` and return the state update that records the failure."""
        error = {"agent": self.name, "type": type(exc).__name__, "message": str(exc)}
        self.hooks.fire("on_error", self.name, error)
        return {"errors": [error], "agent_status": {self.name: "failed"}}


def wrap_agent(name: str, fn: NodeFn, hooks: Hooks, retry: RetrySettings) -> NodeFn:
    """Return `fn` wrapped with the hooks and retry with exponential backoff."""
    return AgentNode(name, fn, hooks, retry)
