"""The supply catalog: entries by model key, and upsert."""

from __future__ import annotations

from typing import Any

from netra.persistence.models import SupplyCatalogEntry
from netra.persistence.repositories.base import Repository


class SupplyCatalogRepository(Repository[SupplyCatalogEntry]):
    """The `supply_catalog` table (shared by every user)."""

    model = SupplyCatalogEntry

    async def by_key(self, model_key: str) -> SupplyCatalogEntry | None:
        """Return the entry for a catalog model key, or None."""
        return await self._first(SupplyCatalogEntry.model_key == model_key)

    async def upsert(self, model_key: str, **values: Any) -> SupplyCatalogEntry:
        """Update the entry for `model_key` with `values`, creating it when missing."""
        entry = await self.by_key(model_key)
        if entry is None:
            return await self.create(model_key=model_key, **values)
        return await self._change(entry, values)  # type: ignore[return-value]
