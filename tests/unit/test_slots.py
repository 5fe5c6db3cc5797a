"""FairSlots: round robin between users, each user's runs in order; cancelled waiters leave or hand on."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from netra.server.runs.slots import FairSlots


@dataclass
class Rotation:
    """One slot, and the order in which the runs that arrive (labelled `user-n`) get their turn."""

    slots: FairSlots = field(default_factory=lambda: FairSlots(1))
    order: list[str] = field(default_factory=list)

    def arrive(self, label: str) -> asyncio.Task:
        """Start a run of the label's user that waits for its turn."""
        return asyncio.create_task(self._run(label))

    async def _run(self, label: str) -> None:
        async with self.slots.turn(label.split("-")[0]):
            self.order.append(label)


async def _served_order(arrivals: list[str]) -> list[str]:
    """The slot held, runs arrive in the order given; return the order their turns come once it is freed."""
    rotation = Rotation()
    await rotation.slots.acquire("holder")
    tasks = [rotation.arrive(label) for label in arrivals]
    await asyncio.sleep(0)
    rotation.slots.release()
    await asyncio.gather(*tasks)
    return rotation.order


def test_turns_go_round_robin_between_users_each_users_runs_in_order():
    arrivals = ["bob-1", "bob-2", "bob-3", "carol-1", "alice-1", "carol-2"]
    assert asyncio.run(_served_order(arrivals)) == ["bob-1", "carol-1", "alice-1", "bob-2", "carol-2", "bob-3"]


async def held_slot() -> FairSlots:
    """Return one slot, held by alice."""
    slots = FairSlots(1)
    await slots.acquire("alice")
    return slots


async def waiting(slots: FairSlots, *users: str) -> list[asyncio.Task]:
    """Return tasks of the users waiting for a slot, queued in that order."""
    tasks = [asyncio.create_task(slots.acquire(user)) for user in users]
    await asyncio.sleep(0)
    return tasks


async def _cancelled_waiter() -> tuple[int, int, bool]:
    slots = await held_slot()
    [waiter] = await waiting(slots, "bob")
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    queued = len(slots.waiting)
    slots.release()
    return queued, slots.free, waiter.cancelled()


def test_a_cancelled_waiter_leaves_its_queue():
    assert asyncio.run(_cancelled_waiter()) == (0, 1, True)


async def _cancelled_as_granted() -> tuple[bool, int]:
    slots = await held_slot()
    first, second = await waiting(slots, "bob", "carol")
    slots.release()  # the slot goes to bob's ticket, but bob is cancelled before he resumes
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    await asyncio.wait_for(second, 1)
    return second.done() and not second.cancelled(), slots.free


def test_a_waiter_cancelled_as_it_is_handed_the_slot_hands_it_on():
    assert asyncio.run(_cancelled_as_granted()) == (True, 0)
