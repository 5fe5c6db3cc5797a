"""The agent: ask a question and wait for the recorded run's answer.

    POST /api/agent/run  (Authorization: Bearer ...)
         {"question": "How can we cut our LLM spend by 30%?", "thread_id": null, "strategy": null}   # runs.Ask
      -> 200 {"run": RunOut, "report": ReportOut | null, "thread_id": "..."}

The run executes in the background run manager (with its lease, event log and concurrency
limit, like runs started over WebSocket or SSE; a busy thread queues it) and the answer is
sent when it ends. A new thread
is created when `thread_id` is null (titled with the question); a `thread_id` continues
that thread's conversation. A run that failed still answers 200, with `run.status` "error",
`run.error` the reason and `report` null: the request was fine, the run was not. The run
reads the request's workspace only (`X-Netra-Workspace`) and is recorded there; a viewer of
the workspace gets 403. Another user's, another workspace's or a missing thread answers 404;
a bad body (empty question, unknown strategy, extra fields) 422. `approval: true` pauses the
run before the actions agent (it answers `run.status` "interrupted"); `decision` (true,
{"approve": [ids]}, {"drop": [ids]}) with the paused `thread_id` continues it (400 for ids it
did not offer, 409 when the thread is not waiting). The run lifecycle and its events are
described in docs/runs.md.

The request's own transaction (opened by the sign-in check) is ended before the run
starts: on PostgreSQL an idle transaction held for the run's length would keep a pooled
connection and block the checkpointer's first-time setup (`CREATE INDEX CONCURRENTLY`
waits for every open transaction), which would wait for this very request.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from netra.persistence.uow import UnitOfWork
from netra.server.deps import AppResources, get_resources
from netra.server.owned import SignedIn, Uow
from netra.server.runs import Ask, RunResult
from netra.server.views import ReportOut, RunOut

router = APIRouter(prefix="/api/agent", tags=["agent"])


class RunAnswer(BaseModel):
    """A finished run, its report (null unless the run succeeded) and its thread."""

    run: RunOut
    report: ReportOut | None
    thread_id: str


async def _answer(uow: UnitOfWork, user_id: str, result: RunResult) -> RunAnswer:
    """Return the answer of a finished run, read back from the records."""
    run = await uow.runs.get(user_id, result["run_id"])
    report = await uow.reports.get(user_id, result["report_id"]) if result.get("report_id") else None
    return RunAnswer(run=RunOut.of(run), report=ReportOut.of(report) if report else None,
                     thread_id=result["thread_id"])


@router.post("/run", response_model=RunAnswer)
async def run(body: Ask, user: SignedIn, uow: Uow, resources: AppResources = Depends(get_resources)) -> RunAnswer:
    """Run the question to its end and answer the run and its report (a failed run: status "error")."""
    await uow.rollback()  # no transaction of this request stays open while the run executes
    handle = await resources.runs.submit(user.owner, body, multitask="enqueue")
    result = await resources.runs.wait(handle.run_id)
    return await _answer(uow, user.user_id, result or RunResult(run_id=handle.run_id, thread_id=handle.thread_id))
