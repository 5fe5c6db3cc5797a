"""Reference pricing of one event, written from docs/pricing.md for an auditor to read.

    price_event(prices, event) -> USD

`prices` is one model's row of the price catalog (`netra/workloads/data/price_catalog.json`,
USD per token, keys `<class>[_<mode>][_above_<T>k]`, e.g. `input_batch_above_200k`); `event`
maps schema column names to values. Nothing here is shared with `netra.workloads.pricing`:
the production engine is checked against this file, event by event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal, Mapping

Mode = Literal["standard", "batch", "priority", "flex"]

# docs/pricing.md, "Token classes", last column: a class without a price of its own is
# billed as this class (input and output are required)
FALLBACK = {"cache_read": "input", "cache_write": "input", "cache_write_1h": "cache_write",
            "reasoning": "output"}
# suffix of a mode's keys; standard has none
MODE_SUFFIX: dict[Mode, str] = {"standard": "", "batch": "_batch", "priority": "_priority",
                                "flex": "_flex"}
# `service_tier` values that select a price mode (anything else is standard)
SERVICE_TIER_MODE: dict[str, Mode] = {"batch": "batch", "priority": "priority", "flex": "flex"}
# long-context thresholds in thousands of prompt tokens, lowest first
TIERS_K = (128, 200, 272)


def count(event: Mapping, column: str) -> int:
    """Return a token column of the event as an int (absent or null is 0)."""
    return int(event.get(column) or 0)


def _writes_1h(event: Mapping) -> int:
    """Return the 1-hour writes, never more than all the writes."""
    return min(count(event, "cache_write_1h_tokens"), count(event, "cache_write_tokens"))


# token class -> its tokens in an event, before clamping (docs/pricing.md, "Token classes")
CLASS_TOKENS: dict[str, Callable[[Mapping], int]] = {
    "input": lambda e: count(e, "input_tokens") - count(e, "cached_input_tokens")
    - count(e, "cache_write_tokens"),
    "cache_read": lambda e: count(e, "cached_input_tokens"),
    "cache_write": lambda e: count(e, "cache_write_tokens") - _writes_1h(e),
    "cache_write_1h": _writes_1h,
    "output": lambda e: count(e, "output_tokens") - count(e, "reasoning_tokens"),
    "reasoning": lambda e: count(e, "reasoning_tokens"),
}


def token_classes(event: Mapping) -> dict[str, int]:
    """Split an event's tokens into the priced classes, each clamped at zero."""
    return {name: max(tokens(event), 0) for name, tokens in CLASS_TOKENS.items()}


def price_mode(event: Mapping) -> Mode:
    """Return the event's price mode: batch when flagged, else its service tier's."""
    if count(event, "is_batch") == 1:
        return "batch"
    return SERVICE_TIER_MODE.get(str(event.get("service_tier") or ""), "standard")


def price_tier(prices: Mapping[str, float], input_tokens: int) -> int:
    """Return the highest threshold (thousands) the prompt exceeds and the model prices, else 0."""
    crossed = [t for t in TIERS_K if input_tokens > t * 1000 and _has_tier(prices, t)]
    return max(crossed, default=0)


def _has_tier(prices: Mapping[str, float], tier: int) -> bool:
    """Return whether the model has any price for prompts above `tier` thousand tokens."""
    return any(key.endswith(f"_above_{tier}k") for key in prices)


def tier_suffixes(tier: int) -> list[str]:
    """Return the tier suffixes to try, from `tier` down to the base price."""
    return [f"_above_{t}k" for t in reversed(TIERS_K) if t <= tier] + [""]


def candidate_keys(token_class: str, mode: Mode, tier: int) -> list[str]:
    """Return the catalog keys of one class in lookup order: this mode's tiers, then standard's."""
    modes = dict.fromkeys((MODE_SUFFIX[mode], ""))
    return [token_class + m + t for m in modes for t in tier_suffixes(tier)]


def unit_price(prices: Mapping[str, float], token_class: str, mode: Mode, tier: int) -> float:
    """Return USD per token of a class: its own keys in order, else its fallback class's."""
    for key in candidate_keys(token_class, mode, tier):
        if key in prices:
            return float(prices[key])
    return unit_price(prices, FALLBACK[token_class], mode, tier)


def billed(event: Mapping) -> bool:
    """Return whether the request is billed: a failure with no output tokens is not."""
    return event.get("status", "ok") == "ok" or count(event, "output_tokens") > 0


def price_tokens(prices: Mapping[str, float], event: Mapping, tokens: Mapping[str, int]) -> float:
    """Return the USD cost of these class counts at the event's mode and tier (0: not billed)."""
    if not billed(event):
        return 0.0
    mode, tier = price_mode(event), price_tier(prices, count(event, "input_tokens"))
    return sum(n * unit_price(prices, name, mode, tier) for name, n in tokens.items() if n)


def price_event(prices: Mapping[str, float], event: Mapping) -> float:
    """Return the USD cost of one event at the model's catalog prices."""
    return price_tokens(prices, event, token_classes(event))


@dataclass(frozen=True)
class ReferenceCatalog:
    """Catalog rows by key, and the name matcher that finds a model's key (None: unknown)."""

    rows: Mapping[str, Mapping[str, float]] = field(repr=False)
    resolve: Callable[[str], str | None] = field(repr=False)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        """Print as `repr` does (hypothesis would print every field, thousands of catalog rows)."""
        printer.text(repr(self))

    def prices(self, model: str) -> Mapping[str, float] | None:
        """Return the model's catalog row, or None for a model the catalog does not know."""
        key = self.resolve(model)
        return None if key is None else self.rows[key]

    def cost(self, event: Mapping, tokens: Mapping[str, int] | None = None) -> float:
        """Return the event's cost (its own tokens unless given); an unknown model costs 0."""
        prices = self.prices(str(event["model"]))
        if prices is None:
            return 0.0
        return price_tokens(prices, event, token_classes(event) if tokens is None else tokens)
