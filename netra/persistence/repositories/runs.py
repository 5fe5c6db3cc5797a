"""Runs of a thread, the agent runs and reports of a run (owner-scoped), and status changes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from netra.errors import UserInputError
from netra.persistence.models import FINISHED, AgentReport, AgentRun, Run, RunStatus, Thread, utcnow
from netra.persistence.repositories.base import DEFAULT_LIMIT, WorkspaceOwnedRepository, page_bounds


def parse_status(status: str) -> RunStatus:
    """Return the status, or raise UserInputError naming the valid ones."""
    try:
        return RunStatus(status)
    except ValueError:
        raise UserInputError(f"status {status!r}: expected one of {[s.value for s in RunStatus]}") from None


def status_changes(record: Run | AgentRun, status: RunStatus, error: str | None) -> dict[str, Any]:
    """Return the columns a move to `status` sets: status, error, start and finish times."""
    values: dict[str, Any] = {"status": status.value, "error": error}
    if status is RunStatus.RUNNING and record.started_at is None:
        values["started_at"] = utcnow()
    if status in FINISHED:
        values.update(_finish(record))
    return values


def _finish(record: Run | AgentRun) -> dict[str, Any]:
    """Return the finish time, and for an agent run that started, its duration in ms."""
    values: dict[str, Any] = {"finished_at": utcnow()}
    if isinstance(record, AgentRun) and record.started_at is not None:
        values["duration_ms"] = round((values["finished_at"] - record.started_at).total_seconds() * 1000)
    return values


class _StatusMixin:
    """`set_status` for runs and agent runs."""

    async def set_status(self, owner_id: str, record_id: str, status: str,
                         error: str | None = None) -> Any:
        """Move the owner's record to `status` (timestamps follow); None when not found.

        Raises:
            UserInputError: the status is not a `RunStatus`.
        """
        parsed = parse_status(status)
        record = await self.get(owner_id, record_id)  # type: ignore[attr-defined]
        values = status_changes(record, parsed, error) if record else {}
        return await self._change(record, values)  # type: ignore[attr-defined]


class RunRepository(_StatusMixin, WorkspaceOwnedRepository[Run]):
    """Runs; `create` needs a `thread_id` of the same owner."""

    model = Run
    parents = {"thread_id": Thread}

    async def for_thread(self, owner_id: str, thread_id: str, *, limit: int = DEFAULT_LIMIT,
                         offset: int = 0) -> list[Run]:
        """Return one page of a thread's runs, newest first ([] for another user's thread)."""
        return await self._children(owner_id, "thread_id", thread_id, limit, offset)

    async def by_status(self, status: str, *, limit: int = DEFAULT_LIMIT) -> list[Run]:
        """Return runs of every user in `status`, oldest first (for workers and admins only).

        Raises:
            UserInputError: the status is not a `RunStatus`.
        """
        query = select(Run).where(Run.status == parse_status(status).value)
        query = query.order_by(Run.created_at, Run.id).limit(page_bounds(limit, 0)[0])
        return list(await self.session.scalars(query))


class AgentRunRepository(_StatusMixin, WorkspaceOwnedRepository[AgentRun]):
    """Agent runs; `create` needs a `run_id` of the same owner."""

    model = AgentRun
    parents = {"run_id": Run}

    async def for_run(self, owner_id: str, run_id: str, *, limit: int = DEFAULT_LIMIT,
                      offset: int = 0) -> list[AgentRun]:
        """Return one page of a run's agent runs, newest first ([] for another user's run)."""
        return await self._children(owner_id, "run_id", run_id, limit, offset)


class AgentReportRepository(WorkspaceOwnedRepository[AgentReport]):
    """Reports; `create` needs a `run_id` of the same owner."""

    model = AgentReport
    parents = {"run_id": Run}

    async def for_run(self, owner_id: str, run_id: str, *, limit: int = DEFAULT_LIMIT,
                      offset: int = 0) -> list[AgentReport]:
        """Return one page of a run's reports, newest first ([] for another user's run)."""
        return await self._children(owner_id, "run_id", run_id, limit, offset)
