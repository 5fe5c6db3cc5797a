"""Planted document pipelines: several policies on one feature, and prompts past a long-context tier.

Every request declares `batch_eligible=true` and carries no user: nobody waits for it. Outputs
finish with `stop`, except the runaways that run to `max_tokens` and end with `length`.

| workload | feature | model | prompts | outputs | failures | the reference says |
|---|---|---|---|---|---|---|
| `overlapping` | `contract_summaries` | claude-sonnet-4-5 | one 4,096-token system prompt + 2-6 own blocks, 215 a day 06:00-22:00 | 200-800; 6% run to 4,096 | 25% of requests fail 1-3 times (`timeout` after 20-200 output tokens, billed), retried 1-5 s later | prompt cache, cap, Batch API and retry budget all save, and together save less than their sum |
| `long_context` | `contract_review` | gemini-2.5-pro | 150k-200k tokens (40%) or 200,001-380k (60%), no prefix hashes, 300 over 14 days | 500-3,000; 5% run to 8,192 | none | Batch API and cap save, priced at the above-200k tier where the prompt passes it |
"""

from __future__ import annotations

from typing import Any

from netra.evals.planted._planter import Planter

DAYS = 14
DECLARED = {"attributes": {"batch_eligible": "true"}}


def output(planter: Planter, natural: tuple[int, int], runaway: float, limit: int) -> dict[str, Any]:
    """Return the output columns of a request: natural length, or a runaway to the limit."""
    if planter.rng.random() < runaway:
        return {"output_tokens": limit, "finish_reason": "length", "max_tokens": limit}
    return {"output_tokens": planter.rng.randint(*natural), "finish_reason": "stop", "max_tokens": limit}


def summary(planter: Planter, ms: int) -> None:
    """Add one contract summary with its failed attempts (a quarter of them fail 1-3 times first)."""
    failures = planter.rng.randint(1, 3) if planter.rng.random() < 0.25 else 0
    failed = {"status": "error", "error_type": "timeout", "finish_reason": "error",
              "output_tokens": planter.rng.randint(20, 200)}
    prompt = planter.prompt("contracts-system", 16, planter.rng.randint(2, 6))
    planter.attempts(ms, failures, failed, "contract_summaries", "claude-sonnet-4-5", prompt,
                     latency_ms=planter.rng.randint(4_000, 30_000), **output(planter, (200, 800), 0.06, 4096),
                     **DECLARED)


def overlapping(planter: Planter) -> None:
    """One feature that a prompt cache, a cap, the Batch API and a retry budget all apply to."""
    for ms in planter.daily(DAYS, 6, 22, 215):
        summary(planter, ms)


def long_context(planter: Planter) -> None:
    """Prompts around and past 200k tokens on a model whose prices rise above 200k."""
    for ms in planter.spread(300, 0, planter.at(DAYS)):
        long = planter.rng.random() < 0.6
        prompt_tokens = planter.rng.randint(200_001, 380_000) if long else planter.rng.randint(150_000, 200_000)
        planter.add(ms, "contract_review", "gemini-2.5-pro", [], input_tokens=prompt_tokens,
                    latency_ms=planter.rng.randint(20_000, 90_000), **output(planter, (500, 3_000), 0.05, 8192),
                    **DECLARED)
