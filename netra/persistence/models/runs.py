"""The run aggregate: `runs` of a thread, their `agent_runs` and `agent_reports`.

A run belongs to one thread through `runs.thread_id`, so no separate thread<->run
association table is needed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from netra.persistence.models.base import Base, OwnedMixin, WorkspaceMixin
from netra.persistence.models.users import one_of


class RunStatus(StrEnum):
    """Where a run (or one agent's part of it) stands."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCESS = "success"
    ERROR = "error"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"


FINISHED = frozenset({RunStatus.SUCCESS, RunStatus.ERROR, RunStatus.INTERRUPTED, RunStatus.CANCELLED})


class Run(OwnedMixin, WorkspaceMixin, Base):
    """One question asked in a thread and answered by the agent graph."""

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_status", "status"),
                      Index("ix_runs_workspace_id_user_id_created_at", "workspace_id", "user_id", "created_at"),
                      Index("ix_runs_thread_id_created_at", "thread_id", "created_at"),
                      CheckConstraint(one_of("status", RunStatus), name="status"))

    thread_id: Mapped[str] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.PENDING.value)
    question: Mapped[str] = mapped_column(Text, default="")
    strategy: Mapped[str] = mapped_column(String(32), default="")
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class AgentRun(OwnedMixin, WorkspaceMixin, Base):
    """One agent's work within a run."""

    __tablename__ = "agent_runs"
    __table_args__ = (Index("ix_agent_runs_run_id", "run_id"),
                      CheckConstraint(one_of("status", RunStatus), name="status"))

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    agent: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.PENDING.value)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)


class AgentReport(OwnedMixin, WorkspaceMixin, Base):
    """The report a run produced: markdown, its structured form, and whether it is grounded."""

    __tablename__ = "agent_reports"
    __table_args__ = (Index("ix_agent_reports_run_id", "run_id"),)

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    markdown: Mapped[str] = mapped_column(Text, default="")
    structured: Mapped[dict[str, Any]] = mapped_column(default=dict)
    grounded: Mapped[bool] = mapped_column(default=False)
