"""Negotiated prices on top of the catalog, from `NETRA_HOME/price_overrides.json`.

    {"_note": "2026 enterprise agreement",
     "gpt-4o": {"input": 2.0e-6, "output": 8e-6},
     "claude-sonnet-4-5": {"cache_write_1h": 5e-6, "input_batch": 1.2e-6}}

Keys are model names (resolved as the catalog resolves them, so `openai/gpt-4o` sets
`gpt-4o`); values map a price key to USD per token. A price key is any key the catalog
derivation produces (`catalog_derive.FIELDS`): a token class of `PRICE_CLASSES`, then
optionally a mode (`_batch`, `_priority`, `_flex`), then optionally a long-context tier
(`_above_128k`, `_above_200k`, `_above_272k`), e.g. `input_priority`, `output_above_200k`,
`input_batch_above_200k`. A model the catalog does not know may be added when its override
gives both `input` and `output`. Anything else is a `ConfigError` naming the key.
A model whose effective prices an override changed has `ModelPrice.overridden` set to the
changed keys (every key `ModelPrice.rate` answers differently, fallbacks included), and its
events record the catalog version with `+overrides`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

from netra.errors import ConfigError
from netra.workloads.catalog import (MODE_SUFFIX, OVERRIDES_FILE, PRICE_CLASSES, TIERS, ModelPrice, PriceCatalog,
                                     tier_suffix)

NOTE_KEY = "_note"
MAX_PER_TOKEN = 0.01  # $10,000 per 1M tokens: anything above is a per-1M price by mistake


@dataclass(frozen=True)
class PriceKey:
    """What one price key prices: a token class, in a price mode, for prompts above a long-context tier."""

    token_class: str
    mode: str = "standard"
    tier: int = 0

    @property
    def name(self) -> str:
        """The key as the catalog and the overrides file spell it (`input_batch_above_200k`)."""
        return self.token_class + MODE_SUFFIX[self.mode] + tier_suffix(self.tier)

    @property
    def slot(self) -> tuple[str, str]:
        """Where `ModelPrice` keeps this price: (`prices` | `batch` | `extra`, the key there)."""
        base = {"standard": "prices", "batch": "batch"}.get(self.mode) if not self.tier else None
        return (base, self.token_class) if base else ("extra", self.name)


# override key -> what it prices: every key `catalog_derive.FIELDS` derives
KEYS: dict[str, PriceKey] = {key.name: key for key in (
    PriceKey(c, m, t) for c in PRICE_CLASSES for m in MODE_SUFFIX for t in (0, *TIERS))}
KEY_FORM = (f"<class>[_batch|_priority|_flex][{'|'.join(tier_suffix(t) for t in TIERS)}], "
            f"<class> one of {', '.join(PRICE_CLASSES)}")
_CHECKS = (
    (lambda k, v: k not in KEYS, f"unknown price key (known: {KEY_FORM})"),
    (lambda k, v: isinstance(v, bool) or not isinstance(v, (int, float)), "is not a number of USD per token"),
    (lambda k, v: not math.isfinite(v), "is not a finite number"),
    (lambda k, v: v < 0, "is negative"),
    (lambda k, v: v > MAX_PER_TOKEN, "is over $0.01 per token: give USD per token, not per 1M tokens"),
)


@dataclass(frozen=True)
class Overrides:
    """Validated overrides: model name -> {override key: USD per token}, and the file's note."""

    prices: dict[str, dict[str, float]]
    note: str = ""


def read_overrides(path: Path) -> Overrides:
    """Read and validate an overrides file; raise `ConfigError` naming the first bad key."""
    doc = _parse(path)
    note = doc.get(NOTE_KEY, "")
    if not isinstance(note, str):
        raise ConfigError(f"{OVERRIDES_FILE}: {NOTE_KEY!r} must be a string")
    return Overrides({m: _model_prices(m, row) for m, row in doc.items() if m != NOTE_KEY}, note)


def _parse(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{OVERRIDES_FILE} at {path} is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ConfigError(f"{OVERRIDES_FILE} must hold a JSON object of model -> {{token class: USD per token}}")
    return doc


def _model_prices(model: str, row: object) -> dict[str, float]:
    if not isinstance(row, dict) or not row:
        raise ConfigError(f"{OVERRIDES_FILE}: {model!r} must map token classes to USD per token")
    return {key: _price(model, key, value) for key, value in row.items()}


def _price(model: str, key: str, value: object) -> float:
    failed = next((message for test, message in _CHECKS if test(key, value)), None)
    if failed:
        raise ConfigError(f"{OVERRIDES_FILE}: {model!r} {key!r} = {value!r} {failed}")
    return float(value)


def apply_overrides(catalog: PriceCatalog, overrides: Overrides) -> PriceCatalog:
    """Return a new catalog with the overrides on top (the given catalog is left as it is)."""
    models = dict(catalog.models)
    for key, prices in _by_key(catalog, overrides).items():
        models[key] = _overridden(catalog.models.get(key) or _new_model(key, prices), prices)
    return PriceCatalog(models, catalog.source, catalog.version, catalog.licence, overrides.note)


def _by_key(catalog: PriceCatalog, overrides: Overrides) -> dict[str, dict[str, float]]:
    """Merge overrides by the catalog key their model name resolves to (itself when unknown)."""
    merged: dict[str, dict[str, float]] = {}
    for name, prices in overrides.prices.items():
        merged.setdefault(catalog.resolve(name) or name.strip(), {}).update(prices)
    return merged


def _new_model(key: str, prices: dict[str, float]) -> ModelPrice:
    """An empty base for a model only the overrides know; it needs input and output prices."""
    missing = [k for k in ("input", "output") if k not in prices]
    if missing:
        raise ConfigError(f"{OVERRIDES_FILE}: {key!r} is not in the price catalog, so it needs "
                          f"{' and '.join(missing)} prices")
    return ModelPrice(key, "override", {}, {})


def _overridden(base: ModelPrice, prices: dict[str, float]) -> ModelPrice:
    """Set the override prices on `base`; mark every effective price they changed."""
    slots = {"prices": dict(base.prices), "batch": dict(base.batch), "extra": dict(base.extra)}
    for key, value in prices.items():
        where, name = KEYS[key].slot
        slots[where][name] = value
    merged = replace(base, **slots)
    return replace(merged, overridden=_changed(base, merged))


def _changed(base: ModelPrice, merged: ModelPrice) -> frozenset[str]:
    """Return the keys whose effective price differs (every key for a model new to the catalog)."""
    if not base.prices:
        return frozenset(KEYS)
    return frozenset(k for k, p in KEYS.items() if base.rate(p.token_class, p.mode, p.tier)
                     != merged.rate(p.token_class, p.mode, p.tier))
