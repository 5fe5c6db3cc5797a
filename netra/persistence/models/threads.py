"""The thread aggregate: `threads` (a user's conversations) and their `messages`."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from netra.persistence.models.base import Base, OwnedMixin, UpdatedMixin, WorkspaceMixin
from netra.persistence.models.users import one_of


class MessageRole(StrEnum):
    """Who wrote a message."""

    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    TOOL = "tool"


class Thread(OwnedMixin, WorkspaceMixin, UpdatedMixin, Base):
    """A conversation of one user; `meta` maps to the `metadata` JSON column."""

    __tablename__ = "threads"
    __table_args__ = (Index("ix_threads_workspace_id_user_id_created_at", "workspace_id", "user_id", "created_at"),)

    title: Mapped[str] = mapped_column(String(300), default="")
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)


class Message(OwnedMixin, WorkspaceMixin, Base):
    """One message of a thread, owned by the thread's user."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_thread_id_created_at", "thread_id", "created_at"),
                      CheckConstraint(one_of("role", MessageRole), name="role"))

    thread_id: Mapped[str] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text, default="")
