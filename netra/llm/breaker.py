"""Circuit breakers, one per model endpoint, shared by the process.

A breaker is `closed` while calls succeed. `failure_threshold` failures in a row open it:
calls are refused (`allow()` is False) for `reset_after_s`, after which one trial call is
let through (`half_open`); its success closes the breaker, its failure opens it again.

    breaker = breaker_for("http://127.0.0.1:8000/v1")
    if breaker.allow(): ...call...; breaker.record_success()  (or record_failure())
    snapshots()   # [{"endpoint": ..., "state": "open", "failures": 5, "retry_in_s": 12.3, ...}]
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

FAILURE_THRESHOLD = 5
RESET_AFTER_S = 30.0


@dataclass
class CircuitBreaker:
    """The state of one endpoint's breaker (thread-safe)."""

    endpoint: str
    failure_threshold: int = FAILURE_THRESHOLD
    reset_after_s: float = RESET_AFTER_S
    failures: int = 0
    opened_at: float | None = None
    calls: int = 0
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def state(self) -> str:
        """`closed`, `open`, or `half_open` (open, but the reset time has passed)."""
        if self.opened_at is None:
            return "closed"
        return "half_open" if time.monotonic() - self.opened_at >= self.reset_after_s else "open"

    def allow(self) -> bool:
        """Return whether a call may go out now (refusals are counted)."""
        with self.lock:
            allowed = self.state != "open"
            self.calls, self.refused = self.calls + allowed, self.refused + (not allowed)
        return allowed

    def record_success(self) -> None:
        """A call succeeded: close the breaker."""
        with self.lock:
            self.failures, self.opened_at = 0, None

    def record_failure(self) -> None:
        """A call failed: count it, and open (or re-open) the breaker at the threshold."""
        with self.lock:
            self.failures += 1
            if self.failures >= self.failure_threshold or self.opened_at is not None:
                self.opened_at = time.monotonic()

    def snapshot(self) -> dict[str, Any]:
        """Return the breaker's state for the health endpoint."""
        retry_in = 0.0 if self.opened_at is None else self.reset_after_s - (time.monotonic() - self.opened_at)
        return {"endpoint": self.endpoint, "state": self.state, "failures": self.failures,
                "calls": self.calls, "refused": self.refused, "retry_in_s": round(max(0.0, retry_in), 3)}


BREAKERS: dict[str, CircuitBreaker] = {}
_LOCK = threading.Lock()


def breaker_for(endpoint: str, **options: Any) -> CircuitBreaker:
    """Return the process's breaker of `endpoint`, created with `options` on first use."""
    with _LOCK:
        if endpoint not in BREAKERS:
            BREAKERS[endpoint] = CircuitBreaker(endpoint, **options)
        return BREAKERS[endpoint]


def snapshots() -> list[dict[str, Any]]:
    """Return every breaker's state, by endpoint."""
    return [BREAKERS[name].snapshot() for name in sorted(BREAKERS)]
