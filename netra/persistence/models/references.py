"""The `references` table: documents or links a user keeps for the agents to cite."""

from __future__ import annotations

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from netra.persistence.models.base import Base, OwnedMixin, UpdatedMixin, WorkspaceMixin


class Reference(OwnedMixin, WorkspaceMixin, UpdatedMixin, Base):
    """A named reference: inline `content`, a `url`, or both."""

    __tablename__ = "references"
    __table_args__ = (Index("ix_references_workspace_id_user_id_created_at", "workspace_id", "user_id", "created_at"),)

    name: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(2048))
