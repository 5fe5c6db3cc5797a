"""The prompt-caching rules of docs/caching.md ("Sourced rules"), as the reference reads them.

    rule = cache_rule("anthropic", "claude-sonnet-4-5", prices)   # None: not replayed

Written from the page's table, not from `netra.workloads.caching`. Which rule applies is
decided by the logged provider (the catalog entry's provider when none was logged), then by
the catalog key the model resolves to; a model the catalog does not know, or whose entry says
it offers no prompt caching, is not replayed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping


@dataclass(frozen=True)
class CacheRule:
    """How one provider caches prompts for one model."""

    minimum: int  # the shortest prefix (tokens) that can be cached or served
    ttl_ms: Mapping[str, int]  # TTL option -> how long an entry lives after its last use
    write_class: Mapping[str, str]  # TTL option -> the token class a cache write is billed as
    read_step: int = 1  # reads are served in multiples of this many tokens


# Anthropic, "Prompt caching" (docs.anthropic.com/en/docs/build-with-claude/prompt-caching):
# cache lifetime 5 minutes or 1 hour, refreshed on each use; writes at 1.25x / 2x input
ANTHROPIC_TTL_MS = {"5m": 300_000, "1h": 3_600_000}
ANTHROPIC_WRITE_CLASS = {"5m": "cache_write", "1h": "cache_write_1h"}
# same page, minimum cacheable prompt length: catalog key contains -> tokens, first match wins
# (Haiku 3 and 3.5 as catalog keys spell them: `claude-3-haiku-...`, `claude-3-5-haiku-...`);
# every other Claude model (Sonnet 4.5, Sonnet 4, Opus 4.1, Opus 4, Sonnet 3.7) caches from 1,024
CLAUDE_MINIMUMS = (("opus-4-5", 4096), ("opus-4-6", 4096), ("haiku-4-5", 4096),
                   ("sonnet-4-6", 2048), ("haiku-3", 2048), ("3-haiku", 2048), ("3-5-haiku", 2048))
CLAUDE_OTHER_MINIMUM = 1024
# OpenAI, "Prompt caching" (platform.openai.com/docs/guides/prompt-caching): automatic from
# 1,024 tokens, hits in 128-token steps, kept at least 5 minutes; no write premium. Its one
# retention is not chosen: docs/caching.md replays it under either choice, writes as input
OPENAI_RULE = CacheRule(1024, {"5m": 300_000, "1h": 300_000}, {"5m": "input", "1h": "input"},
                        read_step=128)


def claude_rule(key: str, prices: Mapping[str, float]) -> CacheRule | None:
    """Return Anthropic's rule for a Claude catalog key."""
    minimum = next((m for part, m in CLAUDE_MINIMUMS if part in key), CLAUDE_OTHER_MINIMUM)
    return CacheRule(minimum, ANTHROPIC_TTL_MS, ANTHROPIC_WRITE_CLASS)


def openai_rule(key: str, prices: Mapping[str, float]) -> CacheRule | None:
    """Return OpenAI's rule for a model with a cache-read price (others do not cache)."""
    return OPENAI_RULE if "cache_read" in prices else None


def not_replayed(key: str, prices: Mapping[str, float]) -> CacheRule | None:
    """Return no rule: Gemini's implicit caching publishes no TTL, so it is not replayed."""
    return None


# provider (as logged, else the catalog's) -> its rule maker; any other provider: not replayed
RULES_BY_PROVIDER: dict[str, Callable[[str, Mapping[str, float]], CacheRule | None]] = {
    "anthropic": claude_rule, "openai": openai_rule, "azure": openai_rule,
    "gemini": not_replayed, "vertex_ai": not_replayed, "vertex_ai-language-models": not_replayed,
}


def cache_rule(provider: str, key: str | None, prices: Mapping[str, float] | None) -> CacheRule | None:
    """Return the caching rule of a logged provider and catalog key, or None (not replayed)."""
    if key is None or prices is None or not prices.get("supports_prompt_caching", True):
        return None
    maker = RULES_BY_PROVIDER.get(provider or str(prices.get("provider", "")))
    return None if maker is None else maker(key, prices)
