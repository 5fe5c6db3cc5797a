"""Planted workloads where a repeated prefix is not the saving it looks like.

Every feature streams to users with sessions; outputs 100-400 tokens end in `stop` under a
`max_tokens` of 1,024. Nothing is read from or written to a cache as logged.

| workload | feature | model | prompt | traffic | the reference says |
|---|---|---|---|---|---|
| `sparse_cache` | `weekly_digest` | claude-sonnet-4-5 | one 3,072-token system prompt + 1-3 own blocks | 200 requests, 61-120 min apart (longer than either TTL) | every request writes, none reads: caching loses money |
| | `help_center` | claude-sonnet-4-5 | one 4,096-token system prompt + 1-3 own blocks | 143 a day, 08:00-18:00 | caching saves |
| `cross_model` | `translator` | gpt-4.1 and claude-sonnet-4-5 | 8 blocks of its own, sent to both models 2 s apart | 600 prompts, 1-3 min apart | nothing: a prompt never repeats within one model |
| | `glossary` | gpt-4.1 | one 1,536-token prefix + 2 own blocks | 1,500 requests, 20-90 s apart | caching saves |
| `below_minimum` | `faq_bot` | claude-haiku-4-5 | one 3,072-token system prompt + 1 own block | 1,500 requests, 20-90 s apart | nothing: below Haiku 4.5's 4,096-token minimum |
| | `autocomplete` | gpt-4o-mini | one 768-token prefix + 1 own block | 1,500 requests, 20-90 s apart | nothing: below OpenAI's 1,024-token minimum |
| | `policy_lookup` | claude-sonnet-4-5 | the same 3,072-token prompt as `faq_bot` | 1,500 requests, 20-90 s apart | caching saves (Sonnet 4.5 caches from 1,024) |
"""

from __future__ import annotations

from dataclasses import dataclass

from netra.evals.planted._planter import MINUTE_MS, Planter

DAYS = 14
MAX_TOKENS = 1024


@dataclass(frozen=True)
class Chat:
    """A streamed user feature whose prompts start with a shared prefix (`shared` blocks, may be 0)."""

    feature: str
    model: str
    shared: str | None
    shared_blocks: int
    own_blocks: int  # each prompt adds 1..own_blocks blocks of its own

    def add(self, planter: Planter, times: list[int]) -> None:
        """Add one request per arrival."""
        for ms in times:
            prompt = planter.prompt(self.shared, self.shared_blocks, planter.rng.randint(1, self.own_blocks))
            planter.add(ms, self.feature, self.model, prompt, output_tokens=planter.rng.randint(100, 400),
                        max_tokens=MAX_TOKENS, **planter.person(ms))


def dense(planter: Planter, count: int) -> list[int]:
    """Return `count` arrivals 20-90 s apart from the first morning."""
    return planter.gaps(count, planter.at(0, 8), 20_000, 90_000)


def sparse_cache(planter: Planter) -> None:
    """A rarely used system prompt (caching loses) beside a busy one (caching saves)."""
    Chat("weekly_digest", "claude-sonnet-4-5", "digest-system", 12, 3).add(
        planter, planter.gaps(200, 0, 61 * MINUTE_MS, 120 * MINUTE_MS))
    Chat("help_center", "claude-sonnet-4-5", "help-system", 16, 3).add(planter, planter.daily(DAYS, 8, 18, 143))


def cross_model(planter: Planter) -> None:
    """Each prompt goes to two models once (no reuse within a model), beside a reused OpenAI prefix."""
    for ms in planter.gaps(600, 0, MINUTE_MS, 3 * MINUTE_MS):
        prompt, person = planter.prompt(None, 0, 8), planter.person(ms)
        for offset, model in enumerate(("gpt-4.1", "claude-sonnet-4-5")):
            planter.add(ms + offset * 2_000, "translator", model, prompt,
                        output_tokens=planter.rng.randint(100, 400), max_tokens=MAX_TOKENS, **person)
    Chat("glossary", "gpt-4.1", "glossary-prefix", 6, 2).add(planter, dense(planter, 1500))


def below_minimum(planter: Planter) -> None:
    """Prefixes shorter than their model's minimum, and the same prefix on a model that caches it."""
    Chat("faq_bot", "claude-haiku-4-5", "faq-system", 12, 1).add(planter, dense(planter, 1500))
    Chat("autocomplete", "gpt-4o-mini", "complete-prefix", 3, 1).add(planter, dense(planter, 1500))
    Chat("policy_lookup", "claude-sonnet-4-5", "faq-system", 12, 1).add(planter, dense(planter, 1500))
