"""The price catalog: per-token prices for each token class, with model-name fallbacks.

Prices come from `data/price_catalog.json`, derived from litellm's catalog (MIT) by
`netra.workloads.catalog_derive` (see `scripts/derive_price_catalog.py`), or from
`NETRA_HOME/price_catalog.json` once `netra catalog update` has written one; negotiated
prices in `NETRA_HOME/price_overrides.json` go on top (`netra.workloads.overrides`).
Each token class has its own price per mode (standard, batch, priority, flex) and per
long-context tier (prompts above 128k, 200k or 272k tokens, where the provider publishes one).
A price the model lacks is looked up as `ModelPrice.rate` says: the same class in the same
mode at lower tiers, then the standard mode, then the class's `FALLBACK` (a cache read with no
read price costs the input price, a 1-hour cache write with no 1-hour price costs the
5-minute write price). An unknown model raises `UnknownModelError`, never prices as zero.
See docs/pricing.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from netra.config import get_settings
from netra.errors import ConfigError, UnknownModelError
from netra.workloads.catalog_derive import LICENCE

PRICE_CLASSES = ("input", "cache_read", "cache_write", "cache_write_1h", "output", "reasoning")
FALLBACK = {"cache_read": "input", "cache_write": "input", "cache_write_1h": "cache_write",
             "reasoning": "output"}
# price mode -> suffix of its keys (`input_batch`, `output_priority`); standard has none
MODE_SUFFIX = {"standard": "", "batch": "_batch", "priority": "_priority", "flex": "_flex"}
# long-context thresholds (prompt tokens) of litellm's `*_above_{N}k_tokens` fields Netra keeps
TIERS = (128_000, 200_000, 272_000)
_DATED = re.compile(r"(-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-\d{4})$")
_PRICE_KEY = re.compile(r"(%s)(_batch|_priority|_flex)?(_above_\d+k)?" % "|".join(PRICE_CLASSES))
OVERRIDES_TAG = "+overrides"
CATALOG_FILE = "price_catalog.json"
OVERRIDES_FILE = "price_overrides.json"
PACKAGED_CATALOG = Path(__file__).resolve().with_name("data") / CATALOG_FILE


@dataclass(frozen=True)
class ModelPrice:
    """USD per token for each class, standard and batch; `overridden` names override-set keys."""

    model: str
    provider: str
    prices: dict[str, float]
    batch: dict[str, float]
    max_output_tokens: int = 0
    supports_prompt_caching: bool = False
    overridden: frozenset[str] = frozenset()
    extra: dict[str, float] = field(default_factory=dict)  # priority/flex and long-context keys

    def per_token(self, token_class: str, batch: bool = False) -> float:
        """Return the price of one token of `token_class`, batch price where flagged and known."""
        return self.rate(token_class, "batch" if batch else "standard")

    def rate(self, token_class: str, mode: str = "standard", tier: int = 0) -> float:
        """Return USD per token of `token_class` in `mode` for a prompt in long-context `tier`.

        Looked up in order: the class in `mode` at `tier`, then at each lower tier; the class in
        the standard mode at `tier`, then lower; then the `FALLBACK` class the same way.
        """
        for key in self._keys(token_class, mode, tier):
            if key in self.table:
                return self.table[key]
        return self.rate(FALLBACK[token_class], mode, tier)

    def _keys(self, token_class: str, mode: str, tier: int) -> list[str]:
        """Return the catalog keys that may price `token_class`, in lookup order."""
        tiers = [t for t in (tier, *reversed(TIERS), 0) if t <= tier]
        modes = dict.fromkeys((mode, "standard"))
        return [token_class + MODE_SUFFIX[m] + tier_suffix(t) for m in modes for t in dict.fromkeys(tiers)]

    @cached_property
    def table(self) -> dict[str, float]:
        """Every price of the model by catalog key (`input`, `input_batch`, `input_above_200k`, ...)."""
        return {**self.extra, **self.prices, **{k + "_batch": v for k, v in self.batch.items()}}

    @cached_property
    def tiers(self) -> tuple[int, ...]:
        """The long-context thresholds the model has any price for."""
        return tuple(t for t in TIERS if any(k.endswith(tier_suffix(t)) for k in self.extra))

    def tier_of(self, prompt_tokens: int) -> int:
        """Return the long-context tier of a prompt: the largest threshold it exceeds, or 0."""
        return max((t for t in self.tiers if prompt_tokens > t), default=0)


def tier_suffix(tier: int) -> str:
    """Return the key suffix of a long-context tier (`_above_200k`; "" for tier 0)."""
    return f"_above_{tier // 1000}k" if tier else ""


@dataclass(frozen=True)
class TokenCounts:
    """Token counts of one request (input includes cache reads and writes; cache_write the 1 h part)."""

    input: int = 0
    cache_read: int = 0
    cache_write: int = 0
    output: int = 0
    reasoning: int = 0
    cache_write_1h: int = 0

    def billable(self) -> dict[str, int]:
        """Split the counts into disjoint priced classes, none below zero (as `pricing` does)."""
        write_1h = min(self.cache_write_1h, self.cache_write)
        counts = {"input": self.input - self.cache_read - self.cache_write,
                  "cache_read": self.cache_read, "cache_write": self.cache_write - write_1h,
                  "cache_write_1h": write_1h, "output": self.output - self.reasoning,
                  "reasoning": self.reasoning}
        return {k: max(n, 0) for k, n in counts.items()}


@dataclass
class PriceCatalog:
    """Model prices with name matching: exact, then without provider prefix, then undated."""

    models: dict[str, ModelPrice]
    source: str = ""
    version: str = ""
    licence: str = ""
    overrides_note: str = ""
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

    def unit_prices(self, model: str, batch: bool = False, mode: str | None = None,
                    tier: int = 0) -> dict[str, float]:
        """Return {token class: USD per token} for `model` (every class of `PRICE_CLASSES`).

        `mode` (standard, batch, priority, flex) wins over `batch`; `tier` is a long-context
        threshold (`ModelPrice.tier_of`).
        """
        price, mode = self.lookup(model), mode or ("batch" if batch else "standard")
        return {k: price.rate(k, mode, tier) for k in PRICE_CLASSES}

    def version_of(self, model: str) -> str:
        """Return the version `model` is priced with: the catalog's, `+overrides` if they changed it."""
        return self.version + (OVERRIDES_TAG if self.lookup(model).overridden else "")


def _candidates(model: str) -> list[str]:
    name = model.strip()
    bare = name.split("/", 1)[1] if "/" in name else name
    forms = [name, name.lower(), bare, bare.lower()]
    return list(dict.fromkeys(forms + [_DATED.sub("", bare), _DATED.sub("", bare.lower())]))


def _model_price(name: str, row: dict) -> ModelPrice:
    prices = {k: row[k] for k in PRICE_CLASSES if k in row}
    batch = {k.removesuffix("_batch"): v for k, v in row.items() if k.endswith("_batch")}
    extra = {k: v for k, v in row.items() if _PRICE_KEY.fullmatch(k) and k not in prices and not k.endswith("_batch")}
    return ModelPrice(name, row.get("provider", ""), prices, batch, int(row.get("max_output_tokens") or 0),
                      row.get("supports_prompt_caching", False), extra=extra)


def catalog_from_doc(doc: dict) -> PriceCatalog:
    """Build a catalog from a derived document (`catalog_derive.derive`'s shape)."""
    models = {name: _model_price(name, row) for name, row in doc["models"].items()}
    return PriceCatalog(models, doc.get("source", ""), str(doc.get("version", "")), doc.get("licence", LICENCE))


def read_catalog(path: Path) -> PriceCatalog:
    """Read a derived catalog file; raise `ConfigError` naming the file if it is unusable."""
    try:
        return catalog_from_doc(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"price catalog {path} is unusable ({exc}); run `netra catalog update PATH` again") from exc


@dataclass(frozen=True)
class CatalogFiles:
    """Where the catalog comes from: the catalog file in use and the overrides file looked for."""

    catalog: Path
    overrides: Path

    @property
    def updated(self) -> bool:
        """Whether the catalog is NETRA_HOME's (written by `netra catalog update`)."""
        return self.catalog != PACKAGED_CATALOG


def catalog_files() -> CatalogFiles:
    """Return the files `load_catalog` reads now (NETRA_HOME resolved at call time)."""
    home = get_settings().home
    updated = home / CATALOG_FILE
    return CatalogFiles(updated if updated.is_file() else PACKAGED_CATALOG, home / OVERRIDES_FILE)


def _stamp(path: Path) -> tuple[int, int] | None:
    """Return (mtime in ns, size) of `path`, or None when it does not exist."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def load_catalog() -> PriceCatalog:
    """Load the catalog in use, with overrides on top; cached until either file changes.

    Raises:
        ConfigError: the updated catalog or the overrides file is unusable.
    """
    files = catalog_files()
    return _load(files, _stamp(files.catalog), _stamp(files.overrides))


@lru_cache(maxsize=8)
def _load(files: CatalogFiles, catalog_stamp: tuple | None, overrides_stamp: tuple | None) -> PriceCatalog:
    """Read the files (the stamps only key the cache)."""
    from netra.workloads.overrides import apply_overrides, read_overrides

    catalog = read_catalog(files.catalog)
    return catalog if overrides_stamp is None else apply_overrides(catalog, read_overrides(files.overrides))


# `load_catalog` was an `lru_cache` function: keep its `cache_clear()` for callers that use it
load_catalog.cache_clear = _load.cache_clear  # type: ignore[attr-defined]
