"""The price catalog: per-token prices for each token class, with model-name fallbacks.

Prices come from `data/price_catalog.json`, derived from litellm's catalog (MIT) by
`scripts/derive_price_catalog.py`. Each token class has its own price; a class with no
price of its own falls back as `_FALLBACK` says (a cache read with no read price costs
the input price). An unknown model raises `UnknownModelError`, never prices as zero.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from netra.errors import UnknownModelError

TOKEN_CLASSES = ("input", "cache_read", "cache_write", "output", "reasoning")
_FALLBACK = {"cache_read": "input", "cache_write": "input", "reasoning": "output"}
_DATED = re.compile(r"(-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-\d{4})$")


@dataclass(frozen=True)
class ModelPrice:
    """USD per token for each class, standard and batch."""

    model: str
    provider: str
    prices: dict[str, float]
    batch: dict[str, float]
    max_output_tokens: int = 0
    supports_prompt_caching: bool = False

    def per_token(self, token_class: str, batch: bool = False) -> float:
        """Return the price of one token of `token_class`, batch price where flagged and known."""
        table = self.batch if batch and token_class in self.batch else self.prices
        if token_class in table:
            return table[token_class]
        return self.per_token(_FALLBACK[token_class], batch)


@dataclass(frozen=True)
class TokenCounts:
    """Token counts of one request (input includes cache reads and writes)."""

    input: int = 0
    cache_read: int = 0
    cache_write: int = 0
    output: int = 0
    reasoning: int = 0

    def billable(self) -> dict[str, int]:
        """Split the counts into disjoint priced classes, none below zero (as `pricing` does)."""
        counts = {"input": self.input - self.cache_read - self.cache_write,
                  "cache_read": self.cache_read, "cache_write": self.cache_write,
                  "output": self.output - self.reasoning, "reasoning": self.reasoning}
        return {k: max(n, 0) for k, n in counts.items()}


@dataclass
class PriceCatalog:
    """Model prices with name matching: exact, then without provider prefix, then undated."""

    models: dict[str, ModelPrice]
    source: str = ""
    version: str = ""
    licence: str = ""
    _resolved: dict[str, str | None] = field(default_factory=dict, repr=False)

    def resolve(self, model: str) -> str | None:
        """Return the catalog key `model` matches, or None."""
        if model not in self._resolved:
            self._resolved[model] = next((c for c in _candidates(model) if c in self.models), None)
        return self._resolved[model]

    def lookup(self, model: str) -> ModelPrice:
        """Return the prices of `model`; raise `UnknownModelError` if it has none."""
        key = self.resolve(model)
        if key is None:
            raise UnknownModelError(f"model {model!r} is not in the price catalog {self.version}")
        return self.models[key]

    def cost(self, model: str, tokens: TokenCounts, batch: bool = False) -> float:
        """Price one request, each token class at its own price."""
        price = self.lookup(model)
        return sum(n * price.per_token(k, batch) for k, n in tokens.billable().items())

    def unit_prices(self, model: str, batch: bool = False) -> dict[str, float]:
        """Return {token class: USD per token} for `model`."""
        price = self.lookup(model)
        return {k: price.per_token(k, batch) for k in TOKEN_CLASSES}


def _candidates(model: str) -> list[str]:
    name = model.strip()
    bare = name.split("/", 1)[1] if "/" in name else name
    forms = [name, name.lower(), bare, bare.lower()]
    return list(dict.fromkeys(forms + [_DATED.sub("", bare), _DATED.sub("", bare.lower())]))


def _model_price(name: str, row: dict) -> ModelPrice:
    prices = {k: row[k] for k in TOKEN_CLASSES if k in row}
    batch = {k.removesuffix("_batch"): v for k, v in row.items() if k.endswith("_batch")}
    return ModelPrice(name, row.get("provider", ""), prices, batch,
                      int(row.get("max_output_tokens") or 0), row.get("supports_prompt_caching", False))


@lru_cache(maxsize=1)
def load_catalog() -> PriceCatalog:
    """Load the packaged catalog (cached)."""
    doc = json.loads(resources.files("netra.workloads").joinpath("data/price_catalog.json").read_text())
    models = {name: _model_price(name, row) for name, row in doc["models"].items()}
    return PriceCatalog(models, doc["source"], doc["version"], doc["licence"])
