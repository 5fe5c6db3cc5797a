"""Workspaces: `workspaces` (one organisation's account) and their `workspace_members`.

A user signs in with a personal workspace (`personal_of` = the user, one each), may create
others and be a member of several, each with one role. `local` is the embedded CLI's
workspace (created by the migration, no members). Records owned by a user are kept per
workspace (`WorkspaceMixin`), and so are the workload events in the analytics store.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from netra.persistence.models.base import Base
from netra.persistence.models.users import one_of


class WorkspaceRole(StrEnum):
    """What a member may do: `viewer` reads; `member` also writes their own threads and runs;
    `admin` also manages members and keys; `owner` also grants `owner`."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


class Workspace(Base):
    """An account whose telemetry and records are its own; `personal_of` names a personal one's user."""

    __tablename__ = "workspaces"

    name: Mapped[str] = mapped_column(String(200), default="")
    personal_of: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True,
                                                    default=None)


class WorkspaceMember(Base):
    """One user's membership of one workspace, with a role."""

    __tablename__ = "workspace_members"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),
                      Index("ix_workspace_members_user_id", "user_id"),
                      CheckConstraint(one_of("role", WorkspaceRole), name="role"))

    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16), default=WorkspaceRole.MEMBER.value)
