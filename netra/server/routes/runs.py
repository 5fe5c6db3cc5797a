"""Runs of the signed-in user: a run with its agents, its agents page by page, its report.

    GET /api/runs/{run_id}                          -> the run, `agents` (its agent runs, newest first) and
                                                       `usage` (Netra's own model calls; null offline)
    GET /api/runs/{run_id}/agents?limit=&offset=    -> page of the run's agent runs, newest first
    GET /api/runs/{run_id}/report                   -> the run's newest report

Runs are created by the agent graph (a run belongs to one thread; list a thread's runs with
`GET /api/threads/{thread_id}/runs`). Every route needs a bearer token (401); a run that is
missing or another user's answers 404 `not_found`, and so does a run without a report yet
("run has no report yet").
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from netra.persistence.repositories import MAX_LIMIT
from netra.persistence.repositories.base import NotFoundError
from netra.server.owned import PageQuery, SignedIn, Uow, owned
from netra.server.pagination import Page, page_of
from netra.server.views import AgentRunOut, ReportOut, RunDetailOut, RunOut

router = APIRouter(prefix="/api/runs", tags=["runs"])


class UsageTotalsOut(BaseModel):
    """Model calls of one agent (or of the run): tokens by class, calls by outcome, latency, cost."""

    calls: int
    sent: int
    cache_hits: int
    retries: int
    refusals: int
    skipped: int
    input_tokens: int
    cached_input_tokens: int
    output_tokens: int
    reasoning_tokens: int
    latency_ms: float
    cost_usd: float | None  # None: the catalog does not price the model


class UsageOut(BaseModel):
    """Netra's own model usage of a run (docs/model_mode.md "Usage"): per agent and in total."""

    model: str
    workspace: str
    run_id: str
    agents: dict[str, UsageTotalsOut]
    total: UsageTotalsOut


class RunUsageOut(RunDetailOut):
    """A run with its agents' parts and its model usage (None: offline, or no report yet)."""

    usage: UsageOut | None = None


@router.get("/{run_id}", response_model=RunUsageOut)
async def get_run(run_id: str, user: SignedIn, uow: Uow) -> RunUsageOut:
    """Return one of the user's runs with its agent runs (up to 500, newest first) and its model usage."""
    run = await owned(uow.runs, user.user_id, run_id, "run")
    agents = await uow.agent_runs.for_run(user.user_id, run_id, limit=MAX_LIMIT)
    newest = await uow.reports.for_run(user.user_id, run_id, limit=1)
    usage = (newest[0].structured or {}).get("usage") if newest else None
    return RunUsageOut(**RunOut.of(run).model_dump(), agents=[AgentRunOut.of(agent) for agent in agents], usage=usage)


@router.get("/{run_id}/agents", response_model=Page[AgentRunOut])
async def list_agents(run_id: str, page: PageQuery, user: SignedIn, uow: Uow) -> Page[AgentRunOut]:
    """List a run's agent runs, newest first (404 when the run is not the user's)."""
    await owned(uow.runs, user.user_id, run_id, "run")
    rows = await uow.agent_runs.for_run(user.user_id, run_id, limit=page.limit, offset=page.offset)
    return page_of([AgentRunOut.of(row) for row in rows], page)


@router.get("/{run_id}/report", response_model=ReportOut)
async def run_report(run_id: str, user: SignedIn, uow: Uow) -> ReportOut:
    """Return the run's newest report (404 when the run is not the user's or has no report yet)."""
    await owned(uow.runs, user.user_id, run_id, "run")
    newest = await uow.reports.for_run(user.user_id, run_id, limit=1)
    if not newest:
        raise NotFoundError("run has no report yet")
    return ReportOut.of(newest[0])
