"""The `supply_catalog` table: per-model prices and quality, keyed by catalog model key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from netra.persistence.models.base import Base, UpdatedMixin


class SupplyCatalogEntry(UpdatedMixin, Base):
    """One model's supply: provider, prices (per class) and quality priors, as JSON."""

    __tablename__ = "supply_catalog"

    model_key: Mapped[str] = mapped_column(String(200), unique=True)
    provider: Mapped[str] = mapped_column(String(100), default="")
    prices: Mapped[dict[str, Any]] = mapped_column(default=dict)
    quality: Mapped[dict[str, Any]] = mapped_column(default=dict)
