"""Shapes that several planted workloads share: a feature whose requests fail and are retried."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netra.evals.planted._planter import Planter

BILLED_PARTIAL_OUTPUT = (20, 200)  # a failed attempt that was billed had written this many output tokens


@dataclass(frozen=True)
class Storm:
    """A user feature without prefix hashes: `share` of its requests fail `fails` times, each retried 1-5 s later.

    A failed attempt has `error_type` `error`; it reports some output (billed) or none (refused).
    `timed` is False for a source that logs neither latency nor first-token time.
    """

    feature: str
    model: str
    share: float
    fails: tuple[int, int]
    error: str
    billed: bool
    inputs: tuple[int, int]
    outputs: tuple[int, int]
    max_tokens: int
    timed: bool = True

    def add(self, planter: Planter, times: list[int]) -> None:
        """Add one request, with its failed attempts, per arrival."""
        for ms in times:
            failures = planter.rng.randint(*self.fails) if planter.rng.random() < self.share else 0
            planter.attempts(ms, failures, self.failed(planter), self.feature, self.model, [],
                             **self.columns(planter, ms))

    def failed(self, planter: Planter) -> dict[str, Any]:
        """Return the columns of a failed attempt."""
        output = planter.rng.randint(*BILLED_PARTIAL_OUTPUT) if self.billed else 0
        return {"status": "error", "error_type": self.error, "finish_reason": "error", "output_tokens": output}

    def columns(self, planter: Planter, ms: int) -> dict[str, Any]:
        """Return the columns of a request: tokens, limit, and its user (with or without timings)."""
        person = planter.person(ms)
        if not self.timed:
            person = {k: v for k, v in person.items() if k not in ("latency_ms", "ttft_ms")}
        return {"input_tokens": planter.rng.randint(*self.inputs), "output_tokens": planter.rng.randint(*self.outputs),
                "max_tokens": self.max_tokens, **person}
