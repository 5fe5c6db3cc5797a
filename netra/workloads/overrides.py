"""Negotiated prices on top of the catalog, from `NETRA_HOME/price_overrides.json`.

    {"_note": "2026 enterprise agreement",
     "gpt-4o": {"input": 2.0e-6, "output": 8e-6},
     "claude-sonnet-4-5": {"cache_write_1h": 5e-6, "input_batch": 1.2e-6}}

Keys are model names (resolved as the catalog resolves them, so `openai/gpt-4o` sets
`gpt-4o`); values map a token class of `PRICE_CLASSES`, or that class with `_batch`,
to USD per token. A model the catalog does not know may be added when its override
gives both `input` and `output`. Anything else is a `ConfigError` naming the key.
A model whose effective prices an override changed has `ModelPrice.overridden` set to
the changed keys, and its events record the catalog version with `+overrides`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

from netra.errors import ConfigError
from netra.workloads.catalog import OVERRIDES_FILE, PRICE_CLASSES, ModelPrice, PriceCatalog

NOTE_KEY = "_note"
MAX_PER_TOKEN = 0.01  # $10,000 per 1M tokens: anything above is a per-1M price by mistake
# override key -> (token class, batch)
KEYS: dict[str, tuple[str, bool]] = {
    **{k: (k, False) for k in PRICE_CLASSES}, **{f"{k}_batch": (k, True) for k in PRICE_CLASSES}}
_CHECKS = (
    (lambda k, v: k not in KEYS, f"unknown token class (known: {', '.join(PRICE_CLASSES)}, each also with _batch)"),
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
    standard = {**base.prices, **{KEYS[k][0]: v for k, v in prices.items() if not KEYS[k][1]}}
    batch = {**base.batch, **{KEYS[k][0]: v for k, v in prices.items() if KEYS[k][1]}}
    merged = replace(base, prices=standard, batch=batch)
    return replace(merged, overridden=_changed(base, merged))


def _changed(base: ModelPrice, merged: ModelPrice) -> frozenset[str]:
    """Return the keys whose effective price differs (every key for a model new to the catalog)."""
    if not base.prices:
        return frozenset(KEYS)
    return frozenset(k for k, (cls, batch) in KEYS.items() if base.per_token(cls, batch) != merged.per_token(cls, batch))
