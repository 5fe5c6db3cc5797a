"""The `ingest_keys` table: long-lived workspace API keys for exporters, scripts and MCP clients.

A key reads `nk_<prefix>_<secret>`. Only the prefix (to find the row) and the SHA-256 of the
secret are stored: the key itself is shown once, when it is created, and never kept.
`scopes` is space-separated (`ingest`, `read`); a revoked key keeps its row (`revoked_at`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from netra.persistence.models.base import Base


class IngestKey(Base):
    """One workspace API key: its lookup prefix, the hash of its secret, scopes and use."""

    __tablename__ = "ingest_keys"
    __table_args__ = (Index("ix_ingest_keys_workspace_id_created_at", "workspace_id", "created_at"),)

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100), default="")
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
