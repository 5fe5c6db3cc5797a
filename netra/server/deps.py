"""Dependencies of the routes: settings, and the loader over the app's store and price catalog.

`create_app(store=..., catalog=...)` hands both in (tests); otherwise the store is opened from
the settings and the packaged catalog loaded on the first request that needs them. Loads run
one at a time: embedded chDB serves one process, and the duplicate check of a load must not
interleave with another's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Iterable

from fastapi import Depends, Request

from netra.config import Settings, get_settings
from netra.persistence.analytics import AnalyticsStore, open_store
from netra.workloads.catalog import PriceCatalog, load_catalog
from netra.workloads.importers.base import ImportOptions, RawBatch
from netra.workloads.importers.loader import IngestSummary, load_batches

__all__ = ["AppResources", "Loader", "get_loader", "get_settings"]


@dataclass
class AppResources:
    """What the app holds between requests (on `app.state.resources`)."""

    store: AnalyticsStore | None = None
    catalog: PriceCatalog | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def opened(self, settings: Settings) -> tuple[AnalyticsStore, PriceCatalog]:
        """Return the store and catalog, opening whichever was not handed in."""
        with self.lock:
            if self.store is None:
                self.store = open_store(settings.resolved_clickhouse_url())
            if self.catalog is None:
                self.catalog = load_catalog()
        return self.store, self.catalog


@dataclass
class Loader:
    """Loads raw batches into the store all-or-nothing, one load at a time."""

    store: AnalyticsStore
    catalog: PriceCatalog
    lock: threading.Lock

    def load(self, batches: Iterable[RawBatch], source: str) -> IngestSummary:
        """Validate, price and load `batches`; return the summary."""
        with self.lock:
            return load_batches(self.store, self.catalog, batches, ImportOptions(source=source))


def get_loader(request: Request, settings: Settings = Depends(get_settings)) -> Loader:
    """Return the loader over the app's store and catalog."""
    resources: AppResources = request.app.state.resources
    store, catalog = resources.opened(settings)
    return Loader(store, catalog, resources.lock)
