"""Helpers of the run manager and recovery tests: a world per backend and a scripted executor.

    async with world(settings, executor=fake, concurrency=1) as w:   # resources, log, manager, users
        handle = await w.manager.start(w.alice, "why so slow?")

`backend_settings` gives embedded settings (SQLite, in-process log and leases) or services
settings (a fresh PostgreSQL database, real Redis), each a copy of a database migrated to head
(tests/support/databases.py); tests share one per module, so every world signs up users of its own.
`FakeExecutor` keeps the executor's contract (records running, then success or cancelled; emits agent_started first and a
terminal event last) and holds each run until the test releases it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterator

from langgraph.checkpoint.base import empty_checkpoint

from netra.config import Settings
from netra.graph.runner import run_config
from netra.persistence.uow import UnitOfWork
from netra.server.resources import AppResources
from netra.server.runs import events, records
from netra.server.runs.events import RunIds
from netra.server.runs.log import open_event_log
from netra.server.runs.manager import RunManager
from netra.server.runs.leases import open_leases
from netra.tenancy import Owner
from tests.conftest import PG_URL, REDIS_URL
from tests.support.databases import migrated_pg, migrated_sqlite
from tests.support.services import require_service

DEADLINE_S = 10.0
ALICE, BOB = "alice", "bob"
FAST = {"lease_refresh_s": 0.05, "busy_poll_s": 0.05}


def embedded(home: Path) -> Settings:
    """Settings over `home` with SQLite records (a copy of the migrated file) and no Redis."""
    return Settings(home=home, database_url=f"sqlite:///{migrated_sqlite(home / 'netra.db')}", redis_url="",
                    log_json=False)


@contextlib.contextmanager
def backend_settings(backend: str, home: Path) -> Iterator[Settings]:
    """Yield `embedded` (SQLite, no Redis) or `services` (a fresh PostgreSQL database, real Redis) settings."""
    base = embedded(home)
    if backend == "embedded":
        yield base
        return
    redis_url = require_service("Redis", REDIS_URL)
    with migrated_pg(require_service("PostgreSQL", PG_URL), "netra_runs") as url:
        yield base.model_copy(update={"database_url": url, "redis_url": redis_url})


@dataclass
class World:
    """One process's view: resources, event log and run manager (more managers = more processes)."""

    resources: AppResources
    log: Any
    manager: RunManager
    others: list[RunManager] = field(default_factory=list)
    alice: Owner | None = None  # a user acting in their personal workspace
    bob: Owner | None = None

    async def close(self) -> None:
        """Shut every manager down; close the log and the resources."""
        await asyncio.gather(*(manager.shutdown() for manager in [self.manager, *self.others]))
        await self.log.aclose()
        await self.resources.close()

    async def user(self, name: str) -> Owner:
        """Create a user (a unique email per world); return them as the owner of their personal workspace."""
        async with UnitOfWork(self.resources.session_factory) as uow:
            user = await uow.users.create(email=f"{name}-{uuid.uuid4().hex[:8]}@example.com", name=name)
            workspace = await uow.workspaces.personal(user.id)
            await uow.commit()
        return Owner(user.id, workspace.id)

    def process(self, executor: Any, **options: Any) -> RunManager:
        """Return another manager over the same records and log, with leases of its own (another process)."""
        leases = open_leases(self.resources.settings)
        self.others.append(RunManager(self.resources, self.log, executor, leases=leases, **{**FAST, **options}))
        return self.others[-1]

    async def status(self, owner: Owner, run_id: str) -> str:
        """Return the run's status in the records."""
        async with UnitOfWork(self.resources.session_factory, workspace_id=owner.workspace_id) as uow:
            return (await uow.runs.get(owner.user_id, run_id)).status

    async def plant(self, owner: Owner, status: str, thread_id: str | None = None) -> tuple[str, str]:
        """Leave a run in `status` in the records, as a process that died would; return (thread_id, run_id)."""
        thread_id, run_id = await records.open_run(self.resources, owner, "cut spend?", thread_id)
        if status != "pending":
            await records.mark(self.resources, owner, run_id, status)
        return thread_id, run_id

    async def checkpoint(self, thread_id: str) -> None:
        """Write a checkpoint of the thread now (as the graph does after each step)."""
        saver = self.resources.checkpointer()
        config = {"configurable": {**run_config(thread_id)["configurable"], "checkpoint_ns": ""}}
        await asyncio.to_thread(saver.put, config, empty_checkpoint(), {"source": "loop", "step": 1}, {})


@contextlib.asynccontextmanager
async def world(settings: Settings, executor: Any = None, store: Any = None, catalog: Any = None,
                **options: Any) -> AsyncIterator[World]:
    """Start resources, a log, a manager and two users over `settings`; shut all of it down afterwards."""
    built = await _opened(AppResources(settings, store, catalog), executor, options)
    try:
        yield built
    finally:
        await built.close()


async def _opened(resources: AppResources, executor: Any, options: dict[str, Any]) -> World:
    await resources.start()
    log = open_event_log(resources.settings)
    built = World(resources, log, RunManager(resources, log, executor, **{**FAST, **options}))
    built.alice, built.bob = await built.user(ALICE), await built.user(BOB)
    return built


async def eventually(check: Callable[[], Any], deadline_s: float = DEADLINE_S) -> Any:
    """Poll the (async or plain) `check` until it answers truthy; return that answer."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        answer = check()
        if answer := await answer if asyncio.iscoroutine(answer) else answer:
            return answer
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met before the deadline")


@dataclass
class FakeExecutor:
    """An executor that keeps the contract and holds each run until `release(run_id)` (or `open`)."""

    open: bool = False
    calls: list[dict[str, Any]] = field(default_factory=list)
    gates: dict[str, asyncio.Event] = field(default_factory=dict)
    active: set[str] = field(default_factory=set)
    most_active: int = 0

    def release(self, *run_ids: str) -> None:
        """Let these runs finish."""
        for run_id in run_ids:
            self.gates.setdefault(run_id, asyncio.Event()).set()

    def called(self) -> list[str]:
        """Return the run ids the executor was called with, in order."""
        return [call["run_id"] for call in self.calls]

    async def __call__(self, resources: AppResources, user_id: Owner, run_id: str, thread_id: str, question: str,
                       emit: Any = None, cancel: Any = None, **request: Any) -> dict[str, Any]:
        """Run as the executor does; `request`: strategy, resume, approval, decision (recorded in `calls`)."""
        self.calls.append({"run_id": run_id, "question": question, **request})
        ids = RunIds(thread_id, run_id)
        await self._begin(resources, user_id, ids, emit, question, request.get("resume", False))
        await self._held(run_id, cancel)
        return await self._finish(resources, user_id, ids, emit, cancel.is_set())

    async def _begin(self, resources: AppResources, user_id: Owner, ids: RunIds, emit: Any, question: str,
                     resume: bool) -> None:
        await records.mark(resources, user_id, ids.run_id, "running")
        await emit(events.run_started(ids, question, "conditional", resume))

    async def _held(self, run_id: str, cancel: Any) -> None:
        self.active.add(run_id)
        self.most_active = max(self.most_active, len(self.active))
        gate = self.gates.setdefault(run_id, asyncio.Event())
        while not (self.open or gate.is_set() or cancel.is_set()):
            await asyncio.sleep(0.01)
        self.active.discard(run_id)

    async def _finish(self, resources: AppResources, user_id: Owner, ids: RunIds, emit: Any,
                      cancelled: bool) -> dict[str, Any]:
        status = "cancelled" if cancelled else "success"
        await records.mark(resources, user_id, ids.run_id, status)
        last = events.run_error(ids, "cancelled", "cancelled") if cancelled else events.run_completed(ids, {})
        await emit(last)
        return {"run_id": ids.run_id, "thread_id": ids.thread_id, "status": status, "report_id": None,
                "report": None, "error": None}
