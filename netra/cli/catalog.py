"""`netra catalog update PATH` and `netra catalog show MODEL` (see docs/pricing.md).

Errors raise `UserInputError` / `ConfigError`: `netra` prints one line and exits 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from netra.config import get_settings
from netra.errors import ConfigError, UserInputError
from netra.workloads.catalog import (CATALOG_FILE, FALLBACK, PRICE_CLASSES, ModelPrice, PriceCatalog,
                                     catalog_files, load_catalog)
from netra.workloads.catalog_derive import derive, write_catalog
from netra.workloads.overrides import KEYS, PriceKey

PER_MILLION = 1_000_000


def update_catalog(console: Console, path: Path) -> None:
    """Derive a catalog from the litellm-style file at `path` into NETRA_HOME and check it loads.

    Raises:
        UserInputError: the file is missing, not JSON, or has no priced chat model.
        ConfigError: the overrides file does not apply to the new catalog.
    """
    before = _current_version()
    doc = derive(Path(path))
    target = get_settings().home / CATALOG_FILE
    write_catalog(doc, target)
    after = load_catalog()
    console.print(escape(f"price catalog {before} -> {after.version}: {len(doc['models'])} chat models "
                         f"from {Path(path).name} written to {target}"))


def _current_version() -> str:
    """Return the version in use now ("unreadable" when the current files do not load)."""
    try:
        return load_catalog().version
    except ConfigError:
        return "unreadable"


def show_model(console: Console, model: str) -> None:
    """Print the resolved key, every class price per 1M tokens (standard and batch), the priority,
    flex and long-context prices the model has, and provenance.

    Raises:
        UserInputError: the model is not in the catalog.
    """
    catalog = load_catalog()
    key = catalog.resolve(model)
    if key is None:
        raise UserInputError(f"model {model!r} is not in the price catalog {catalog.version}")
    ModelCard(console, catalog, key).show(model)


# printed for a model with no priority, flex or long-context price of its own
NO_OTHER_PRICES = "no priority, flex or long-context prices (those modes and tiers cost the prices above)"


@dataclass
class ModelCard:
    """What `netra catalog show` prints about one catalog entry, and where it prints it."""

    console: Console
    catalog: PriceCatalog
    key: str

    @property
    def price(self) -> ModelPrice:
        """Return the entry's prices."""
        return self.catalog.models[self.key]

    def show(self, model: str) -> None:
        """Print the model's key and provider, its price tables, then its provenance."""
        self.console.print(f"[bold]{escape(model)}[/] -> catalog key [bold]{escape(self.key)}[/] "
                           f"(provider {escape(self.price.provider or '-')})")
        self.console.print(self.class_table())
        self.console.print(self.other_table() if self.price.extra else NO_OTHER_PRICES)
        self.provenance()

    def class_table(self) -> Table:
        """One row per token class: standard and batch price per 1M tokens, and where each comes from."""
        table = Table("class", "USD per 1M", "batch USD per 1M", "from")
        for token_class in PRICE_CLASSES:
            table.add_row(token_class, self.per_million(token_class, False),
                          self.per_million(token_class, True), _origin(self.price, token_class))
        return table

    def per_million(self, token_class: str, batch: bool) -> str:
        """Format one price per 1M tokens, starred when an override set it."""
        star = "*" if (f"{token_class}_batch" if batch else token_class) in self.price.overridden else ""
        return f"{self.price.per_token(token_class, batch) * PER_MILLION:.6g}{star}"

    def other_table(self) -> Table:
        """One row per price key beyond the standard and batch classes, starred when an override set it."""
        table = Table("price key", "USD per 1M", "prices")
        for key in sorted(self.price.extra):
            star = "*" if key in self.price.overridden else ""
            table.add_row(key, f"{self.price.extra[key] * PER_MILLION:.6g}{star}", _applies(KEYS.get(key)))
        return table

    def provenance(self) -> None:
        """Print the catalog's source, version and licence, and the overrides on this model."""
        files, catalog = catalog_files(), self.catalog
        where = f"updated catalog {files.catalog}" if files.updated else "packaged catalog"
        self.console.print(escape(f"{where}: version {catalog.version_of(self.key)}, source {catalog.source}, "
                                  f"licence {catalog.licence}"))
        overridden = ", ".join(_starred(self.price)) or "none"
        note = f" ({catalog.overrides_note})" if catalog.overrides_note else ""
        self.console.print(escape(f"from overrides (*): {overridden}{note}"))


def _origin(price: ModelPrice, token_class: str) -> str:
    """Say whether the class has a price of its own, and what it falls back to otherwise."""
    fallback = FALLBACK.get(token_class, "")
    own = "own price" if token_class in price.prices else f"falls back to {fallback}"
    batch = "own batch price" if token_class in price.batch else (
        "batch: its standard price" if token_class in price.prices else f"batch: {fallback}'s batch price")
    return f"{own}; {batch}"


def _applies(key: PriceKey | None) -> str:
    """Say what a price key prices: `cache_read in priority mode, prompts above 200,000 tokens`."""
    if key is None:
        return ""
    above = f", prompts above {key.tier:,} tokens" if key.tier else ""
    return f"{key.token_class} in {key.mode} mode{above}"


def _starred(price: ModelPrice) -> list[str]:
    """Return the keys of the printed prices an override changed (those starred in the tables).

    `ModelPrice.overridden` also holds the mode and tier keys that fall back to an overridden
    price (`cache_write_1h_priority` after `cache_write_1h`); they are not printed on their own.
    """
    printed = {k for k, p in KEYS.items() if p.slot[0] != "extra"} | set(price.extra)
    return sorted(price.overridden & printed)
