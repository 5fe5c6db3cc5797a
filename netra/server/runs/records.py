"""The records of a run: thread, messages, run, agent runs and report, each step its own commit.

    owner = Owner(user_id, workspace_id)
    thread_id, run_id = await open_run(resources, owner, "Cut spend by 30%?")   # run `pending`
    await mark(resources, owner, run_id, "running")
    await record_agent(resources, owner, run_id, "triage", "running")            # then "done"
    report_id = await save_report(resources, owner, run_id, thread_id, state["report"])
    await mark(resources, owner, run_id, "success")

Every helper opens its own `UnitOfWork(resources.session_factory)` bound to the owner's
workspace (start the resources first) and commits, so a client reading the records sees a
run's progress as it happens. Everything is scoped to the owner, a (user, workspace) pair:
another user's thread or run, or one of another workspace, is `NotFoundError`, like a
missing one. `run_owner` is the one unscoped read, for workers recovering runs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from netra.persistence.models import FINISHED, AgentRun, MessageRole, Run, RunStatus
from netra.persistence.repositories import MAX_LIMIT, NotFoundError
from netra.persistence.uow import UnitOfWork
from netra.server.resources import AppResources
from netra.tenancy import Owner

TITLE_CHARS = 80
ASSISTANT = MessageRole.ASSISTANT.value
# a sub-agent status of the client events -> the agent run's status (RunStatus values pass as-is)
AGENT_STATUS = {"running": RunStatus.RUNNING, "retrying": RunStatus.RUNNING, "done": RunStatus.SUCCESS,
                "failed": RunStatus.ERROR}


def _uow(resources: AppResources, owner: Owner) -> UnitOfWork:
    """Return a unit of work over the app's records database, in the owner's workspace."""
    return UnitOfWork(resources.session_factory, workspace_id=owner.workspace_id)  # type: ignore[arg-type]


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


async def _question(uow: UnitOfWork, user_id: str, thread_id: str, values: dict[str, Any]) -> Run:
    """Store the question as the user's message of the thread; create its run `pending`."""
    await uow.messages.create(user_id, thread_id=thread_id, role=MessageRole.USER.value, content=values["question"])
    return await uow.runs.create(user_id, thread_id=thread_id, **values)


async def open_run(resources: AppResources, owner: Owner, question: str, thread_id: str | None = None,
                   strategy: str | None = None) -> tuple[str, str]:
    """Create the thread (when None), store the question as a user message, create the run `pending`.

    Raises:
        NotFoundError: `thread_id` is missing or another user's.
    """
    values = {"question": question, "strategy": strategy or resources.settings.strategy}
    async with _uow(resources, owner) as uow:
        thread_id = thread_id or (await uow.threads.create(owner.user_id, title=title_of(question))).id
        run = await _question(uow, owner.user_id, thread_id, values)
        await uow.commit()
    return thread_id, run.id


async def mark(resources: AppResources, owner: Owner, run_id: str, status: str, error: str | None = None) -> Run:
    """Move the user's run to `status` (start and finish times follow); return it.

    Raises:
        NotFoundError: the run is missing or another user's.
        UserInputError: `status` is not a `RunStatus`.
    """
    async with _uow(resources, owner) as uow:
        run = await uow.runs.set_status(owner.user_id, run_id, status, error)
        await uow.commit()
    return _found(run, "run", run_id)


async def _agent_row(uow: UnitOfWork, user_id: str, run_id: str, agent: str) -> AgentRun:
    """Return the run's row of `agent`, created `pending` when there is none yet."""
    rows = await uow.agent_runs.for_run(user_id, run_id, limit=MAX_LIMIT)
    found = next((row for row in rows if row.agent == agent), None)
    return found or await uow.agent_runs.create(user_id, run_id=run_id, agent=agent)


async def record_agent(resources: AppResources, owner: Owner, run_id: str, agent: str, status: str,
                       error: str | None = None) -> AgentRun | None:
    """Create or move the agent run of `agent` (`running`, `retrying`, `done` → success, `failed` → error).

    Returns the row when it changed, None when it had already finished (a finished agent run
    is never reopened, so a repeated `failed` keeps the first error).

    Raises:
        NotFoundError: the run is missing or another user's.
        UserInputError: `status` is neither a sub-agent status nor a `RunStatus`.
    """
    async with _uow(resources, owner) as uow:
        row = await _agent_row(uow, owner.user_id, run_id, agent)
        changed = None if row.status in FINISHED else await uow.agent_runs.set_status(
            owner.user_id, row.id, AGENT_STATUS.get(status, status), error)
        await uow.commit()
    return changed


async def close_agents(resources: AppResources, owner: Owner, run_id: str, status: str,
                       error: str | None = None) -> list[AgentRun]:
    """Move the run's unfinished agent runs to `status` (a run that failed or was cancelled); return them."""
    async with _uow(resources, owner) as uow:
        rows = await uow.agent_runs.for_run(owner.user_id, run_id, limit=MAX_LIMIT)
        closed = [await uow.agent_runs.set_status(owner.user_id, row.id, status, error)
                  for row in rows if row.status not in FINISHED]
        await uow.commit()
    return closed


def structured_of(report_state: dict[str, Any]) -> dict[str, Any]:
    """Return the structured part of a report: its citations, the generator's call id, ungrounded numbers."""
    return {"citations": report_state.get("citations") or [], "call_id": report_state.get("call_id"),
            "ungrounded": report_state.get("ungrounded") or [], "usage": report_state.get("usage")}


def report_values(report_state: dict[str, Any]) -> dict[str, Any]:
    """Return the columns of the `agent_reports` row of the graph's final `report`."""
    return {"markdown": str(report_state.get("markdown") or ""), "structured": structured_of(report_state),
            "grounded": bool(report_state.get("grounded"))}


async def save_report(resources: AppResources, owner: Owner, run_id: str, thread_id: str,
                      report_state: dict[str, Any]) -> str:
    """Store the run's report and post its markdown to the thread as the assistant's answer; return its id."""
    values = report_values(report_state)
    async with _uow(resources, owner) as uow:
        report = await uow.reports.create(owner.user_id, run_id=run_id, **values)
        await uow.messages.create(owner.user_id, thread_id=thread_id, role=ASSISTANT, content=values["markdown"])
        await uow.commit()
    return report.id


async def run_owner(resources: AppResources, run_id: str) -> Owner | None:
    """Return the (user, workspace) that owns run `run_id`, or None (unscoped: for workers only)."""
    async with UnitOfWork(resources.session_factory) as uow:  # type: ignore[arg-type]
        found = (await uow.session.execute(select(Run.user_id, Run.workspace_id).where(Run.id == run_id))).first()
    return None if found is None else Owner(found[0], found[1])
