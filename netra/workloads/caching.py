"""Provider prompt-caching rules, as a sourced table (docs/caching.md, "Sourced rules").

    rules = cache_rules(catalog, "anthropic", "claude-sonnet-4-5")   # None: not replayed
    rules.minimum_tokens, rules.option("1h").ttl_s, rules.option("1h").write_class

Which rule applies is decided by the provider as logged (the catalog entry's provider when
none was logged), mapped to its family by `PROVIDER_FAMILY`, and by the catalog key the model
resolves to: the first row of `RULES` of that family whose test passes wins. A model the
catalog does not know, or whose entry says it offers no prompt caching, has no rule; so has a
provider or model with no row. `lookup` says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal, Mapping

from netra.workloads.catalog import ModelPrice, PriceCatalog

Choice = Literal["5m", "1h"]
WriteClass = Literal["cache_write", "cache_write_1h", "input"]
CHOICES: tuple[Choice, ...] = ("5m", "1h")

ANTHROPIC_SOURCE = ("Anthropic, Prompt caching (docs.anthropic.com/en/docs/build-with-claude/prompt-caching): "
                    "minimum cacheable prompt length, cache lifetime, pricing multipliers")
OPENAI_SOURCE = "OpenAI, Prompt caching (platform.openai.com/docs/guides/prompt-caching)"
GOOGLE_SOURCE = "Google, Context caching (ai.google.dev/gemini-api/docs/caching)"


@dataclass(frozen=True)
class TtlOption:
    """One way a provider keeps a cache entry: its lifetime after the last use, and the write price."""

    name: str  # '5m', '1h' (Anthropic) or 'auto' (OpenAI's automatic retention)
    ttl_s: int
    write_class: WriteClass  # the token class a cache write is billed as


@dataclass(frozen=True)
class CacheRules:
    """How one provider caches prompts for one model."""

    provider: str  # the family: 'anthropic' or 'openai'
    minimum_tokens: int  # the shortest prefix that can be cached or served
    read_step: int  # reads are served in multiples of this many tokens
    options: Mapping[Choice, TtlOption]  # the option each choice selects
    source: str

    def option(self, choice: Choice) -> TtlOption:
        """Return the TTL option `choice` ('5m' or '1h') selects for this provider."""
        return self.options[choice]


# Anthropic (ANTHROPIC_SOURCE): entries live 5 minutes or 1 hour after their last use (each
# use refreshes them); a 5-minute write costs `cache_write` (1.25 x input), a 1-hour write
# `cache_write_1h` (2 x input); reads cost `cache_read`; any number of tokens can be read.
ANTHROPIC_OPTIONS: dict[Choice, TtlOption] = {"5m": TtlOption("5m", 300, "cache_write"),
                                              "1h": TtlOption("1h", 3600, "cache_write_1h")}
# OpenAI (OPENAI_SOURCE): caching is automatic, entries are kept "5 to 10 minutes" after the
# last use (the documented minimum is replayed, whatever the choice), a write costs `input`
# (no write premium), hits are served in 128-token steps from 1,024 tokens.
OPENAI_AUTO = TtlOption("auto", 300, "input")
OPENAI_OPTIONS: dict[Choice, TtlOption] = {"5m": OPENAI_AUTO, "1h": OPENAI_AUTO}
OPENAI_READ_STEP = 128


def _anthropic(minimum_tokens: int) -> CacheRules:
    """Return Anthropic's rules with the given minimum cacheable prompt length."""
    return CacheRules("anthropic", minimum_tokens, 1, ANTHROPIC_OPTIONS, ANTHROPIC_SOURCE)


# provider (lower-cased; as logged, else the catalog's) -> family (docs/caching.md, "provider")
PROVIDER_FAMILY: dict[str, str] = {
    "anthropic": "anthropic",
    "openai": "openai", "azure": "openai",
    "gemini": "gemini", "vertex_ai": "gemini", "vertex_ai-language-models": "gemini",
}

KeyTest = Callable[[str, ModelPrice], bool]


def _key_contains(*parts: str) -> KeyTest:
    """Return a test passing when the lower-cased catalog key contains any of `parts`."""
    return lambda key, price: any(part in key for part in parts)


def _has_read_price(key: str, price: ModelPrice) -> bool:
    """Whether the catalog gives the model a cache-read price (OpenAI caches only those)."""
    return "cache_read" in price.prices


@dataclass(frozen=True)
class RuleRow:
    """One row of the rule book: family, which catalog keys, their rules (None: not replayed)."""

    family: str
    applies: KeyTest
    rules: CacheRules | None
    reason: str = ""  # why a matching model is not replayed (rules None)


RULES: tuple[RuleRow, ...] = (
    # ANTHROPIC_SOURCE, minimum cacheable prompt length: 4,096 tokens
    RuleRow("anthropic", _key_contains("opus-4-5", "opus-4-6", "haiku-4-5"), _anthropic(4096)),
    # 2,048 tokens: Sonnet 4.6, Haiku 3 and 3.5 (keys spell them `claude-3-haiku`, `claude-3-5-haiku`)
    RuleRow("anthropic", _key_contains("sonnet-4-6", "haiku-3", "3-haiku", "3-5-haiku"), _anthropic(2048)),
    # 1,024 tokens: every other Claude model (Sonnet 4.5, Sonnet 4, Opus 4.1, Opus 4, Sonnet 3.7)
    RuleRow("anthropic", _key_contains("claude"), _anthropic(1024)),
    # OPENAI_SOURCE: every model with a cache-read price, from 1,024 tokens
    RuleRow("openai", _has_read_price, CacheRules("openai", 1024, OPENAI_READ_STEP, OPENAI_OPTIONS, OPENAI_SOURCE)),
    # GOOGLE_SOURCE: 2.5 Pro and 2.5 Flash cache implicitly from 2,048 tokens, for a time not published
    RuleRow("gemini", _key_contains("2.5-pro", "2.5-flash"), None,
            "Google publishes no cache lifetime for implicit caching"),
)


@dataclass(frozen=True)
class Lookup:
    """The rules of one (provider, model), or why it is not replayed."""

    rules: CacheRules | None
    reason: str = ""


# (test on the catalog entry, None when unknown; reason): the first passing test skips the model
_SKIPS: tuple[tuple[Callable[[ModelPrice | None], bool], str], ...] = (
    (lambda price: price is None, "model not in the price catalog"),
    (lambda price: not price.supports_prompt_caching, "the catalog says the model offers no prompt caching"),
)


def lookup(catalog: PriceCatalog, provider: str, model: str) -> Lookup:
    """Return the caching rules of a (provider, model) as logged, or the reason there are none."""
    key = catalog.resolve(model)
    price = catalog.models[key] if key is not None else None
    skip = next((reason for test, reason in _SKIPS if test(price)), None)
    if skip is not None:
        return Lookup(None, skip)
    return _row_lookup(provider or price.provider, key.lower(), price)


def _row_lookup(provider: str, key: str, price: ModelPrice) -> Lookup:
    """Return the first matching row's rules for a known model that offers caching."""
    family = PROVIDER_FAMILY.get(provider.lower(), "")
    row = next((r for r in RULES if r.family == family and r.applies(key, price)), None)
    if row is None:
        return Lookup(None, f"no caching rule for {key} served by {provider or 'an unnamed provider'}")
    return Lookup(row.rules, row.reason)


def cache_rules(catalog: PriceCatalog, provider: str, model: str) -> CacheRules | None:
    """Return how `provider` caches prompts for `model` (as logged), or None: not replayed."""
    return lookup(catalog, provider, model).rules
