"""Plant runs, agent runs and reports straight into a running API's records database.

Runs are made by the agent graph, not by a route, so API tests seed them through a
`UnitOfWork` on their own engine over the server's database (`api.settings`):

    alice = api.login("alice@example.com")
    thread = alice.post("/api/threads", json={}).json()
    seeded = seed_run(api, user_id(alice), thread["id"], RunSeed(agents=("planner", "analyst")))
    alice.get(f"/api/runs/{seeded.run_id}")

Records are created one after the other (each flushed), so their `created_at` grow in the
order given and "newest first" is the reverse of it. They are planted in the thread's
workspace (the unit of work is bound to it, as a run's would be).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import AsyncIterator

import httpx

from sqlalchemy import select

from netra.config import Settings
from netra.persistence.db import make_engine, make_session_factory
from netra.persistence.models import Thread
from netra.persistence.uow import UnitOfWork


@dataclass(frozen=True)
class RunSeed:
    """What to plant: one run of a thread, its agent runs and its reports (markdown each)."""

    question: str = "Which model costs the most?"
    agents: tuple[str, ...] = ("planner", "analyst")
    reports: tuple[str, ...] = ("# Spend review\n\nAll fine.",)
    status: str = "success"


@dataclass(frozen=True)
class Seeded:
    """The ids of what was planted, in the order given."""

    run_id: str
    agent_run_ids: tuple[str, ...]
    report_ids: tuple[str, ...]


def user_id(client: httpx.Client) -> str:
    """Return the id of the client's signed-in user."""
    answer = client.get("/auth/me")
    assert answer.status_code == 200, answer.text
    return answer.json()["id"]


def workspace_of(client: httpx.Client) -> str:
    """Return the id of the client's personal workspace (where its requests act by default)."""
    answer = client.get("/api/workspaces")
    assert answer.status_code == 200, answer.text
    return next(item["id"] for item in answer.json()["items"] if item["personal"])


def seed_run(api: object, owner_id: str, thread_id: str, seed: RunSeed = RunSeed()) -> Seeded:
    """Plant `seed` as `owner_id`'s run of `thread_id` in the database of `api` (an `Api`)."""
    settings: Settings = api.settings  # type: ignore[attr-defined]
    return asyncio.run(_seed(settings.resolved_database_url(), owner_id, thread_id, seed))


@contextlib.asynccontextmanager
async def records(url: str, workspace_id: str | None = None) -> AsyncIterator[UnitOfWork]:
    """Yield a unit of work on a fresh engine over the database `url` (disposed after), in `workspace_id`."""
    engine = make_engine(url)
    try:
        async with UnitOfWork(make_session_factory(engine), workspace_id=workspace_id) as uow:
            yield uow
    finally:
        await engine.dispose()


async def _seed(url: str, owner_id: str, thread_id: str, seed: RunSeed) -> Seeded:
    async with records(url) as uow:
        uow.bind(await uow.session.scalar(select(Thread.workspace_id).where(Thread.id == thread_id)))
        seeded = await _plant(uow, owner_id, thread_id, seed)
        await uow.commit()
    return seeded


async def _plant(uow: UnitOfWork, owner_id: str, thread_id: str, seed: RunSeed) -> Seeded:
    run = await uow.runs.create(owner_id, thread_id=thread_id, question=seed.question, strategy="auto",
                                status=seed.status)
    agents = [await uow.agent_runs.create(owner_id, run_id=run.id, agent=name, status=seed.status,
                                          duration_ms=10 * i) for i, name in enumerate(seed.agents)]
    reports = [await uow.reports.create(owner_id, run_id=run.id, markdown=text, grounded=True,
                                        structured={"n": i}) for i, text in enumerate(seed.reports)]
    return Seeded(run.id, tuple(a.id for a in agents), tuple(r.id for r in reports))
