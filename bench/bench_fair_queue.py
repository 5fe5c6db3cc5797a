"""Benchmark: how long one user's question waits behind another user's queue, first-come vs fair.

Bob queues `--backlog` runs (default 100), then Alice asks one question; the run manager
executes `--concurrency` runs at once (default 4, NETRA_RUN_CONCURRENCY's default), each
taking `--run-s` seconds (default 0.29 s, a short question answered on a warm cache).
Printed: Alice's time from asking to her run's end when she is alone, behind Bob with
one first-come queue (an `asyncio.Semaphore`: the scheduler before `FairSlots`), and
behind Bob with the fair slots of `netra.server.runs.slots` (round robin between users).

Runs are simulated (the executor sleeps), so the figures measure the scheduler, not the
graph; records go to a temporary SQLite database.

    python bench/bench_fair_queue.py [--backlog N] [--concurrency K] [--run-s S]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Callable

from netra.config import Settings
from netra.persistence.uow import UnitOfWork
from netra.server.resources import AppResources
from netra.server.runs.log import open_event_log
from netra.server.runs.manager import RunManager
from netra.server.runs.slots import FairSlots


class FirstComeSlots:
    """The scheduler before FairSlots: one queue for everyone, first come first served."""

    def __init__(self, concurrency: int) -> None:
        self.semaphore = asyncio.Semaphore(concurrency)

    def turn(self, user_id: str) -> asyncio.Semaphore:
        """Return the one shared semaphore (the user is not looked at)."""
        return self.semaphore


@dataclass
class SleepingExecutor:
    """An executor whose every run takes `run_s` seconds."""

    run_s: float

    async def __call__(self, resources: AppResources, user_id: str, run_id: str, thread_id: str, question: str,
                       **_: Any) -> dict[str, Any]:
        await asyncio.sleep(self.run_s)
        return {"run_id": run_id, "thread_id": thread_id, "status": "success", "report_id": None, "report": None,
                "error": None}


async def user(resources: AppResources, name: str) -> str:
    """Create a user; return its id."""
    async with UnitOfWork(resources.session_factory) as uow:  # type: ignore[arg-type]
        created = await uow.users.create(email=f"{name}@example.com", name=name)
        await uow.commit()
    return created.id


@dataclass
class Trial:
    """One measurement: Alice's wait behind `backlog` runs of Bob, the manager's slots made by `slots`."""

    home: Path
    args: argparse.Namespace
    slots: Callable[[int], Any]
    backlog: int

    async def run(self) -> float:
        """Return the seconds from Alice's question to her run's end."""
        async with self.manager() as manager:
            return await self.alice_wait(manager)

    async def alice_wait(self, manager: RunManager) -> float:
        """Queue Bob's runs, then time Alice's; let Bob's finish."""
        alice, bob = await user(manager.resources, "alice"), await user(manager.resources, "bob")
        bobs = [await manager.start(bob, f"question {n} of bob?") for n in range(self.backlog)]
        started = time.perf_counter()
        await manager.wait((await manager.start(alice, "why did spend rise?")).run_id)
        waited = time.perf_counter() - started
        await asyncio.gather(*(manager.wait(handle.run_id) for handle in bobs))
        return waited

    @contextlib.asynccontextmanager
    async def manager(self) -> AsyncIterator[RunManager]:
        """Yield a run manager over fresh SQLite records under `home` (no queue cap)."""
        resources = AppResources(self.settings())
        await resources.start()
        manager = self.built(resources)
        try:
            yield manager
        finally:
            await stopped(manager)

    def settings(self) -> Settings:
        """Return settings over SQLite under `home`, in-process log and leases, no queue cap."""
        return Settings(home=self.home, database_url=f"sqlite:///{self.home / 'netra.db'}", redis_url="",
                        run_queue_per_user=0)

    def built(self, resources: AppResources) -> RunManager:
        """Return the manager: sleeping runs, `concurrency` at once, the trial's slots."""
        manager = RunManager(resources, open_event_log(resources.settings), SleepingExecutor(self.args.run_s),
                             self.args.concurrency)
        manager.slots = self.slots(self.args.concurrency)
        return manager


async def stopped(manager: RunManager) -> None:
    """Shut the manager down, then its resources."""
    await manager.shutdown()
    await manager.resources.close()


# label -> (the slots of the manager, whether Alice asks behind Bob's backlog)
CASES: dict[str, tuple[Callable[[int], Any], bool]] = {
    "alone": (FairSlots, False),
    "behind Bob, first-come": (FirstComeSlots, True),
    "behind Bob, fair (round robin)": (FairSlots, True),
}


def arguments() -> argparse.Namespace:
    """Return the command line's options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--run-s", type=float, default=0.29)
    return parser.parse_args()


def main() -> None:
    """Print Alice's waits: alone, behind Bob first-come, behind Bob fair."""
    args = arguments()
    for label, (slots, behind) in CASES.items():
        backlog = args.backlog if behind else 0
        with tempfile.TemporaryDirectory() as folder:
            waited = asyncio.run(Trial(Path(folder), args, slots, backlog).run())
        print(f"{label:32s} Alice waits {waited:6.2f} s  ({backlog} runs of Bob queued, {args.concurrency} at once)")


if __name__ == "__main__":
    main()
