"""The records of runs: thread, messages, run, agent runs and report, each step its own commit.

    rows = RunRecords.of(pools)                       # over the app's `uow(workspace_id)`
    owner = Owner(user_id, workspace_id)
    thread_id, run_id = await rows.open_run(owner, "Cut spend by 30%?")   # run `pending`
    await rows.mark(owner, run_id, "running")
    await rows.record_agent(owner, run_id, "triage", "running")            # then "done"
    report_id = await rows.save_report(owner, run_id, thread_id, Report.of(state["report"]))
    await rows.mark(owner, run_id, "success")

`RunRecords` holds the unit-of-work maker of the records database (`Pools.uow`: a
workspace id, or None for the unscoped reads of workers) and the settings (the default
strategy). Every method opens its own unit of work bound to the owner's workspace and
commits, so a client reading the records sees a run's progress as it happens. Everything is
scoped to the owner, a (user, workspace) pair: another user's thread or run, or one of
another workspace, is `NotFoundError`, like a missing one. `run_owner` and `unfinished_runs` are the unscoped
reads, for workers recovering runs. `open_run`, `mark`, `record_agent` and `run_owner` are
also module functions taking the pools (`records.open_run(pools, owner, question)`): thin
entry points for callers holding the app's resources rather than a `RunRecords`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from sqlalchemy import select

from netra.config import Settings
from netra.persistence.models import AgentRun, MessageRole, Run
from netra.persistence.repositories import MAX_LIMIT, NotFoundError
from netra.persistence.uow import UnitOfWork
from netra.report.record import Report
from netra.server.runs.pools import Pools
from netra.server.runs.status import AGENT_RECORD_STATUS, FINISHED, UNFINISHED
from netra.tenancy import Owner

TITLE_CHARS = 80
ASSISTANT = MessageRole.ASSISTANT.value
UowMaker = Callable[..., UnitOfWork]  # (workspace_id: str | None = None) -> a unit of work (None: unscoped)


def owner_of(record: Run) -> Owner:
    """Return the (user, workspace) a run record belongs to."""
    return Owner(record.user_id, record.workspace_id)


def title_of(question: str) -> str:
    """Return a thread title for `question`: its first 80 characters, on one line."""
    return " ".join(question.split())[:TITLE_CHARS]


def _found(record: Any, kind: str, record_id: str) -> Any:
    """Return `record`, or raise NotFoundError when it is None (missing or another user's)."""
    if record is None:
        raise NotFoundError(f"{kind} {record_id!r} not found")
    return record


def _older(newest_first: list[Run], before: str | None) -> list[Run]:
    """Return the runs listed after run `before` (all of them when None; none when it is not listed)."""
    ids = [run.id for run in newest_first]
    return newest_first if before is None else newest_first[ids.index(before) + 1:] if before in ids else []


async def _question(uow: UnitOfWork, user_id: str, thread_id: str, values: dict[str, Any]) -> Run:
    """Store the question as the user's message of the thread; create its run `pending`."""
    await uow.messages.create(user_id, thread_id=thread_id, role=MessageRole.USER.value, content=values["question"])
    return await uow.runs.create(user_id, thread_id=thread_id, **values)


async def _agent_row(uow: UnitOfWork, user_id: str, run_id: str, agent: str) -> AgentRun:
    """Return the run's row of `agent`, created `pending` when there is none yet."""
    rows = await uow.agent_runs.for_run(user_id, run_id, limit=MAX_LIMIT)
    found = next((row for row in rows if row.agent == agent), None)
    return found or await uow.agent_runs.create(user_id, run_id=run_id, agent=agent)


@dataclass(frozen=True)
class RunRecords:
    """The rows of runs, over a unit-of-work maker of the records database."""

    uow: UowMaker
    settings: Settings  # `strategy`: that of a run that names none

    @classmethod
    def of(cls, pools: Pools) -> RunRecords:
        """Return the records over the app's pools (their `uow` and settings)."""
        return cls(pools.uow, pools.settings)

    def _in(self, owner: Owner) -> UnitOfWork:
        """Return a unit of work in the owner's workspace."""
        return self.uow(owner.workspace_id)

    async def open_run(self, owner: Owner, question: str, thread_id: str | None = None,
                       strategy: str | None = None) -> tuple[str, str]:
        """Create the thread (when None), store the question as a user message, create the run `pending`.

        Raises:
            NotFoundError: `thread_id` is missing or another user's.
        """
        values = {"question": question, "strategy": strategy or self.settings.strategy}
        async with self._in(owner) as uow:
            thread_id = thread_id or (await uow.threads.create(owner.user_id, title=title_of(question))).id
            run = await _question(uow, owner.user_id, thread_id, values)
            await uow.commit()
        return thread_id, run.id

    async def mark(self, owner: Owner, run_id: str, status: str, error: str | None = None) -> Run:
        """Move the user's run to `status` (start and finish times follow); return it.

        Raises:
            NotFoundError: the run is missing or another user's.
            UserInputError: `status` is not a `RunStatus`.
        """
        async with self._in(owner) as uow:
            run = await uow.runs.set_status(owner.user_id, run_id, status, error)
            await uow.commit()
        return _found(run, "run", run_id)

    async def record_agent(self, owner: Owner, run_id: str, agent: str, status: str,
                           error: str | None = None) -> AgentRun | None:
        """Create or move the agent run of `agent` (`running`, `retrying`, `done` → success, `failed` → error).

        Returns the row when it changed, None when it had already finished (a finished agent run
        is never reopened, so a repeated `failed` keeps the first error).

        Raises:
            NotFoundError: the run is missing or another user's.
            UserInputError: `status` is neither a sub-agent status nor a `RunStatus`.
        """
        async with self._in(owner) as uow:
            row = await _agent_row(uow, owner.user_id, run_id, agent)
            changed = None if row.status in FINISHED else await uow.agent_runs.set_status(
                owner.user_id, row.id, AGENT_RECORD_STATUS.get(status, status), error)
            await uow.commit()
        return changed

    async def close_agents(self, owner: Owner, run_id: str, status: str, error: str | None = None) -> list[AgentRun]:
        """Move the run's unfinished agent runs to `status` (a run that failed or was cancelled); return them."""
        async with self._in(owner) as uow:
            rows = await uow.agent_runs.for_run(owner.user_id, run_id, limit=MAX_LIMIT)
            closed = [await uow.agent_runs.set_status(owner.user_id, row.id, status, error)
                      for row in rows if row.status not in FINISHED]
            await uow.commit()
        return closed

    async def save_report(self, owner: Owner, run_id: str, thread_id: str, report: Report) -> str:
        """Store the run's report and post its markdown to the thread as the assistant's answer; return its id."""
        values = report.columns()
        async with self._in(owner) as uow:
            row = await uow.reports.create(owner.user_id, run_id=run_id, **values)
            await uow.messages.create(owner.user_id, thread_id=thread_id, role=ASSISTANT, content=report.markdown)
            await uow.commit()
        return row.id

    async def run_owner(self, run_id: str) -> Owner | None:
        """Return the (user, workspace) that owns run `run_id`, or None (unscoped: for workers only)."""
        async with self.uow() as uow:
            found = (await uow.session.execute(select(Run.user_id, Run.workspace_id).where(Run.id == run_id))).first()
        return None if found is None else Owner(found[0], found[1])

    async def unfinished_of(self, owner: Owner, thread_id: str, before: str | None = None) -> list[str]:
        """Return the ids of the owner's thread's unfinished runs (only those older than run `before`, when given)."""
        async with self._in(owner) as uow:
            newest_first = await uow.runs.for_thread(owner.user_id, thread_id, limit=MAX_LIMIT)
        return [run.id for run in _older(newest_first, before) if run.status in UNFINISHED]

    async def unfinished_run(self, owner: Owner, run_id: str) -> bool:
        """Return whether the owner's run `run_id` exists and is still pending or running."""
        async with self._in(owner) as uow:
            record = await uow.runs.get(owner.user_id, run_id)
        return record is not None and record.status in UNFINISHED

    async def unfinished_runs(self) -> list[Run]:
        """Return every user's `running` and `pending` runs, oldest first (unscoped: for recovery only)."""
        async with self.uow() as uow:
            found = [run for status in UNFINISHED for run in await uow.runs.by_status(status, limit=MAX_LIMIT)]
        return sorted(found, key=lambda run: (run.created_at, run.id))


async def open_run(pools: Pools, owner: Owner, question: str, thread_id: str | None = None,
                   strategy: str | None = None) -> tuple[str, str]:
    """Create the run `pending` (`RunRecords.open_run` over the pools); return (thread_id, run_id)."""
    return await RunRecords.of(pools).open_run(owner, question, thread_id, strategy)


async def mark(pools: Pools, owner: Owner, run_id: str, status: str, error: str | None = None) -> Run:
    """Move the owner's run to `status` (`RunRecords.mark` over the pools); return it."""
    return await RunRecords.of(pools).mark(owner, run_id, status, error)


async def record_agent(pools: Pools, owner: Owner, run_id: str, agent: str, status: str,
                       error: str | None = None) -> AgentRun | None:
    """Create or move the agent run of `agent` (`RunRecords.record_agent` over the pools)."""
    return await RunRecords.of(pools).record_agent(owner, run_id, agent, status, error)


async def run_owner(pools: Pools, run_id: str) -> Owner | None:
    """Return the (user, workspace) owning run `run_id` (`RunRecords.run_owner` over the pools; unscoped)."""
    return await RunRecords.of(pools).run_owner(run_id)
