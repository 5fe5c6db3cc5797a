"""`netra catalog update PATH` and `netra catalog show MODEL` (see docs/pricing.md).

Errors raise `UserInputError` / `ConfigError`: `netra` prints one line and exits 2.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from netra.config import get_settings
from netra.errors import ConfigError, UserInputError
from netra.workloads.catalog import (CATALOG_FILE, FALLBACK, PRICE_CLASSES, ModelPrice, PriceCatalog,
                                     catalog_files, load_catalog)
from netra.workloads.catalog_derive import derive, write_catalog

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
    """Print the resolved key, every class price per 1M tokens (standard and batch), provenance.

    Raises:
        UserInputError: the model is not in the catalog.
    """
    catalog = load_catalog()
    key = _resolve(catalog, model)
    price = catalog.models[key]
    console.print(f"[bold]{escape(model)}[/] -> catalog key [bold]{escape(key)}[/] "
                  f"(provider {escape(price.provider or '-')})")
    console.print(_price_table(price))
    _provenance(console, catalog, price, key)


def _resolve(catalog: PriceCatalog, model: str) -> str:
    """Return the catalog key `model` resolves to; raise `UserInputError` if none."""
    key = catalog.resolve(model)
    if key is None:
        raise UserInputError(f"model {model!r} is not in the price catalog {catalog.version}")
    return key


def _price_table(price: ModelPrice) -> Table:
    """One row per token class: standard and batch price per 1M tokens, and where each comes from."""
    table = Table("class", "USD per 1M", "batch USD per 1M", "from")
    for token_class in PRICE_CLASSES:
        table.add_row(token_class, _per_million(price, token_class, False),
                      _per_million(price, token_class, True), _origin(price, token_class))
    return table


def _per_million(price: ModelPrice, token_class: str, batch: bool) -> str:
    """Format one price per 1M tokens, starred when an override set it."""
    star = "*" if _key(token_class, batch) in price.overridden else ""
    return f"{price.per_token(token_class, batch) * PER_MILLION:.6g}{star}"


def _key(token_class: str, batch: bool) -> str:
    return f"{token_class}_batch" if batch else token_class


def _origin(price: ModelPrice, token_class: str) -> str:
    """Say whether the class has a price of its own, and what it falls back to otherwise."""
    fallback = FALLBACK.get(token_class, "")
    own = "own price" if token_class in price.prices else f"falls back to {fallback}"
    batch = "own batch price" if token_class in price.batch else (
        "batch: its standard price" if token_class in price.prices else f"batch: {fallback}'s batch price")
    return f"{own}; {batch}"


def _provenance(console: Console, catalog: PriceCatalog, price: ModelPrice, key: str) -> None:
    """Print the catalog's source, version and licence, and the overrides on this model."""
    files = catalog_files()
    where = f"updated catalog {files.catalog}" if files.updated else "packaged catalog"
    console.print(escape(f"{where}: version {catalog.version_of(key)}, source {catalog.source}, "
                         f"licence {catalog.licence}"))
    overridden = ", ".join(sorted(price.overridden)) or "none"
    note = f" ({catalog.overrides_note})" if catalog.overrides_note else ""
    console.print(escape(f"from overrides (*): {overridden}{note}"))
