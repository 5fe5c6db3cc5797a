"""Whether the run manager admits a new run: its thread under the multitask policy, and its user's queue.

    refuse_full(waiting=3, cap=20)                                      # RunQueueFullError at the cap
    await refuse_busy(run_records, owner, thread_id, "reject")          # ThreadBusyError on a busy thread

A thread is busy while it has a run `pending` or `running` in the records: `reject` refuses
the new run (409 `thread_busy`), `enqueue` lets it wait for the earlier ones. A user may have
at most NETRA_RUN_QUEUE_PER_USER runs waiting in a manager (for a slot, or for their thread's
earlier runs); one more is refused (429 `run_queue_full`) until one starts or is cancelled, so
one user cannot fill the process with work (0 or less: no cap).
"""

from __future__ import annotations

from netra.errors import UserInputError
from netra.server.runs.ask import MULTITASK, ThreadBusyError
from netra.server.runs.records import RunRecords
from netra.tenancy import Owner

__all__ = ["MULTITASK", "RunQueueFullError", "ThreadBusyError", "refuse_busy", "refuse_full"]


class RunQueueFullError(UserInputError):
    """The user already has NETRA_RUN_QUEUE_PER_USER runs waiting (the REST layer answers 429)."""


def refuse_full(waiting: int, cap: int) -> None:
    """Raise RunQueueFullError when `waiting` runs of the user already reach the cap (none when cap <= 0)."""
    if 0 < cap <= waiting:
        raise RunQueueFullError(f"{waiting} of your runs are waiting already (NETRA_RUN_QUEUE_PER_USER={cap}): "
                                "send this one once one of them has started, or cancel one")


async def refuse_busy(run_records: RunRecords, owner: Owner, thread_id: str | None, multitask: str) -> None:
    """Raise UserInputError for an unknown `multitask`, ThreadBusyError when rejecting on a busy thread."""
    if multitask not in MULTITASK:
        raise UserInputError(f"multitask {multitask!r}: expected one of {list(MULTITASK)}")
    if thread_id is not None and multitask == "reject" and await run_records.unfinished_of(owner, thread_id):
        raise ThreadBusyError(f"thread {thread_id!r} has a run in progress: wait for it, cancel it, "
                              "or send the question with multitask=enqueue")
