"""Declarative base, shared column types and mixins of the records tables.

Every table has a string UUID `id` and a `created_at`; user-owned tables carry `user_id`
(the owner, `ON DELETE CASCADE`), and those kept per workspace `workspace_id` too
(`WorkspaceMixin`). Constraint names follow `NAMING_CONVENTION`, so later migrations (batch
mode on SQLite) can name what they alter.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, MetaData, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


def new_id() -> str:
    """Return a new random record id (a UUID4 string)."""
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to UTC; naive values are taken as UTC already."""
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to the naive values SQLite returns."""
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    """Base of every records model; `repr` shows the class and id only, never column values."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType}

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id, sort_order=-2)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r})"


class UpdatedMixin:
    """Adds `updated_at`, refreshed on every ORM update."""

    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OwnedMixin:
    """Adds the owner column `user_id` (a user's records go when the user does)."""

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), sort_order=-1)


class WorkspaceMixin:
    """Adds `workspace_id`: the workspace the record belongs to (its records go when it does)."""

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), sort_order=-1)
