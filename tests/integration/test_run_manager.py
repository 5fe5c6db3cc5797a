"""The background run manager on both backends (SQLite + in-process log, PostgreSQL + Redis).

The executor is a scripted one (tests/support/run_world.py) holding each run until the test lets it
go, except in the last test, which runs the real agent graph (`service.execute_run`).
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Iterator

import pytest

from netra.config import Settings
from netra.errors import ConfigError, UserInputError
from netra.persistence.repositories import NotFoundError
from netra.server.runs.manager import RunManager, RunQueueFullError, ThreadBusyError
from netra.server.runs.recovery import recover
from tests.support.graphs import OPTIMIZE, load_mixed
from tests.support.run_world import FakeExecutor, World, backend_settings, eventually, world

Scenario = Callable[..., Awaitable[Any]]


@pytest.fixture(scope="module", params=["embedded", "services"])
def settings(request, tmp_path_factory) -> Iterator[Settings]:
    """The settings of the backend under test (one database per module)."""
    with backend_settings(request.param, tmp_path_factory.mktemp("runs")) as built:
        yield built


def run(settings: Settings, scenario: Scenario, executor: Any = None, *args: Any, **options: Any) -> Any:
    """Run `scenario(world, executor, *args)` in a fresh world of the backend (bounded in time)."""
    async def main() -> Any:
        async with world(settings, executor, **options) as w:
            return await scenario(w, executor, *args)
    return asyncio.run(asyncio.wait_for(main(), 60))


def types(events: list[dict]) -> list[str]:
    """Return the event types, the final one marked with a `!`."""
    return [e["type"] + ("!" if e["metadata"].get("final") else "") for e in events]


async def _returns_at_once(w: World, fake: FakeExecutor) -> dict:
    handle = await w.manager.start(w.alice, "why so slow?")
    before = (handle.status, await eventually(fake.called), w.manager.stats()["running"])
    fake.release(handle.run_id)
    result = await w.manager.wait(handle.run_id)
    return {"before": before, "status": result["status"], "record": await w.status(w.alice, handle.run_id),
            "log": types(await w.log.read(handle.run_id)), "finished": await w.log.is_finished(handle.run_id)}


def test_start_returns_before_the_run_finishes_and_logs_its_events(settings):
    seen = run(settings, _returns_at_once, FakeExecutor())
    assert seen["before"][0] == "pending" and seen["before"][2] == 1
    assert (seen["status"], seen["record"]) == ("success", "success")
    assert seen["log"] == ["agent_started", "agent_completed!"] and seen["finished"]


async def _queued(w: World, fake: FakeExecutor) -> dict:
    first, second = [await w.manager.start(w.alice, q) for q in ("one?", "two?")]
    await eventually(fake.called)
    stats, waiting = w.manager.stats(), await w.status(w.alice, second.run_id)
    fake.release(first.run_id, second.run_id)
    results = [(await w.manager.wait(h.run_id))["status"] for h in (first, second)]
    return {"stats": stats, "waiting": waiting, "order": fake.called() == [first.run_id, second.run_id],
            "queue": stats["queue"] == [second.run_id], "results": results}


def test_a_run_beyond_the_concurrency_limit_waits_pending_then_runs(settings):
    seen = run(settings, _queued, FakeExecutor(), concurrency=1)
    counts = {k: seen["stats"][k] for k in ("running", "queued", "concurrency")}
    assert counts == {"running": 1, "queued": 1, "concurrency": 1} and seen["queue"]
    assert seen["waiting"] == "pending" and seen["order"] and seen["results"] == ["success", "success"]


async def _refused(manager: RunManager, user: str, thread_id: str, multitask: str) -> type | None:
    try:
        await manager.start(user, "again?", thread_id, multitask=multitask)
    except UserInputError as exc:
        return type(exc)
    return None


async def _refusals(w: World, fake: FakeExecutor) -> list[type | None]:
    first = await w.manager.start(w.alice, "one?")
    attempts = [(w.alice, first.thread_id, "reject"), (w.bob, first.thread_id, "enqueue"),
                (w.alice, first.thread_id, "sideways"), (w.alice, "no-such-thread", "reject")]
    refused = [await _refused(w.manager, user, thread, multitask) for user, thread, multitask in attempts]
    fake.release(first.run_id)
    await w.manager.wait(first.run_id)
    return refused


def test_a_busy_thread_rejects_and_other_users_threads_are_not_found(settings):
    assert run(settings, _refusals, FakeExecutor()) == [ThreadBusyError, NotFoundError, UserInputError,
                                                        NotFoundError]


async def _enqueued(w: World, fake: FakeExecutor) -> dict:
    first = await w.manager.start(w.alice, "one?")
    handles = [first] + [await w.manager.start(w.alice, q, first.thread_id, multitask="enqueue")
                         for q in ("two?", "three?")]
    statuses = [(await w.manager.wait(h.run_id))["status"] for h in handles]
    return {"order": fake.called() == [h.run_id for h in handles], "overlap": fake.most_active,
            "statuses": statuses}


def test_enqueued_runs_of_a_thread_run_one_after_the_other_in_order(settings):
    seen = run(settings, _enqueued, FakeExecutor(open=True), concurrency=4)
    assert seen == {"order": True, "overlap": 1, "statuses": ["success"] * 3}


async def _all_done(w: World, fake: FakeExecutor, run_ids: list[str]) -> list[str]:
    """Let every held run go; return the order in which the executor took them."""
    fake.open = True
    await asyncio.gather(*(w.manager.wait(run_id) for run_id in run_ids))
    return fake.called()


async def _one_question_behind_many(w: World, fake: FakeExecutor) -> list[int | str]:
    """Bob holds the one slot and queues five more runs; then Alice asks one question."""
    bob = [(await w.manager.start(w.bob, f"question {n} of bob?")).run_id for n in range(6)]
    await eventually(fake.called)
    alice = (await w.manager.start(w.alice, "my one question?")).run_id
    return ["alice" if run_id == alice else bob.index(run_id) for run_id in await _all_done(w, fake, [*bob, alice])]


def test_a_freed_slot_goes_round_robin_between_users(settings):
    """Alice's question runs right after Bob's first run, not after all six (one first-come queue: last)."""
    assert run(settings, _one_question_behind_many, FakeExecutor(), concurrency=1) == [0, "alice", 1, 2, 3, 4, 5]


async def _capped(w: World, fake: FakeExecutor) -> dict:
    bob = [(await w.manager.start(w.bob, "one?")).run_id]
    await eventually(fake.called)  # Bob's first run holds the slot: the next two wait
    bob += [(await w.manager.start(w.bob, q)).run_id for q in ("two?", "three?")]
    refused = await _refused(w.manager, w.bob, None, "reject")
    alice = (await w.manager.start(w.alice, "mine?")).run_id
    return {"refused": refused, "ran": len(await _all_done(w, fake, [*bob, alice])), "waiting": w.manager.waiting(w.bob)}


def test_a_user_past_the_queue_cap_is_refused_and_others_are_not(settings):
    """NETRA_RUN_QUEUE_PER_USER=2: Bob's fourth run is refused; Alice's is taken; all four run."""
    capped = settings.model_copy(update={"run_queue_per_user": 2})
    assert run(capped, _capped, FakeExecutor(), concurrency=1) == {"refused": RunQueueFullError, "ran": 4, "waiting": 0}


async def _cancel_running(w: World, fake: FakeExecutor) -> dict:
    handle = await w.manager.start(w.alice, "one?")
    await eventually(fake.called)
    cancels = [(w.bob, handle.run_id), (w.alice, "no-such-run"), (w.alice, handle.run_id)]
    answers = [await w.manager.cancel(user, run_id) for user, run_id in cancels]
    result = await w.manager.wait(handle.run_id)
    return {"answers": [*answers, await w.manager.cancel(w.alice, handle.run_id)], "status": result["status"],
            "record": await w.status(w.alice, handle.run_id), "last": (await w.log.read(handle.run_id))[-1]}


def test_cancelling_a_running_run_stops_it_and_ends_its_log(settings):
    seen = run(settings, _cancel_running, FakeExecutor())
    assert seen["answers"] == [False, False, True, False]
    assert (seen["status"], seen["record"]) == ("cancelled", "cancelled")
    assert seen["last"]["type"] == "error" and seen["last"]["data"]["code"] == "cancelled"
    assert seen["last"]["metadata"]["final"] and seen["last"]["data"]["terminal"]


async def _cancel_queued(w: World, fake: FakeExecutor) -> dict:
    first, second = [await w.manager.start(w.alice, q) for q in ("one?", "two?")]
    cancelled = await w.manager.cancel(w.alice, second.run_id)
    result = await w.manager.wait(second.run_id)
    fake.release(first.run_id)
    return {"cancelled": cancelled, "status": result["status"], "record": await w.status(w.alice, second.run_id),
            "log": await w.log.read(second.run_id), "first": (await w.manager.wait(first.run_id))["status"],
            "only_first_ran": fake.called() == [first.run_id]}


def test_cancelling_a_queued_run_ends_it_before_it_starts(settings):
    seen = run(settings, _cancel_queued, FakeExecutor(), concurrency=1)
    assert seen["cancelled"] and (seen["status"], seen["record"]) == ("cancelled", "cancelled")
    assert types(seen["log"]) == ["error!"] and seen["log"][0]["data"]["code"] == "cancelled"
    assert seen["only_first_ran"] and seen["first"] == "success"


async def _cancel_waiting(w: World, fake: FakeExecutor) -> dict:
    first = await w.manager.start(w.alice, "one?")
    second = await w.manager.start(w.alice, "two?", first.thread_id, multitask="enqueue")
    await eventually(fake.called)
    cancelled = await w.manager.cancel(w.alice, second.run_id)
    result = await w.manager.wait(second.run_id)
    fake.release(first.run_id)
    return {"cancelled": cancelled, "status": result["status"], "first": (await w.manager.wait(first.run_id))["status"]}


def test_cancelling_a_run_waiting_for_its_thread_ends_it(settings):
    seen = run(settings, _cancel_waiting, FakeExecutor())
    assert seen == {"cancelled": True, "status": "cancelled", "first": "success"}


async def _cancel_elsewhere(w: World, fake: FakeExecutor) -> dict:
    handle = await w.manager.start(w.alice, "one?")
    await eventually(fake.called)
    flagged = await w.process(FakeExecutor()).cancel(w.alice, handle.run_id)
    result = await w.manager.wait(handle.run_id)
    return {"flagged": flagged, "status": result["status"]}


@pytest.mark.parametrize("settings", ["services"], indirect=True)
def test_a_cancel_asked_on_another_process_reaches_the_run(settings):
    assert run(settings, _cancel_elsewhere, FakeExecutor()) == {"flagged": True, "status": "cancelled"}


async def _real_run(settings: Settings, store: Any, catalog: Any) -> dict:
    async with world(settings, None, store, catalog) as w:
        handle = await w.manager.start(w.alice, OPTIMIZE)
        followed = [e async for e in w.log.follow(handle.run_id, heartbeat_s=1.0) if e is not None]
        result = await w.manager.wait(handle.run_id)
        return {"followed": followed, "status": result["status"], "record": await w.status(w.alice, handle.run_id)}


@pytest.mark.parametrize("settings", ["embedded"], indirect=True)
def test_a_real_run_is_followed_from_its_log_to_its_report(settings, store, catalog):
    load_mixed(store, catalog, events=5_000)
    seen = asyncio.run(asyncio.wait_for(_real_run(settings, store, catalog), 120))
    followed = seen["followed"]
    assert [e["metadata"]["seq"] for e in followed] == list(range(1, len(followed) + 1))
    assert types(followed)[0] == "agent_started" and types(followed)[-1] == "agent_completed!"
    assert {"sub_agent_update", "tool_call", "tool_result"} <= set(types(followed))
    assert (seen["status"], seen["record"]) == ("success", "success") and followed[-1]["data"]["report"]["markdown"]


# how the run was left -> whether recovery resumes it from its checkpoint
RECOVERIES = [
    ("running", "after", True),    # checkpointed since the run began: continue from the checkpoint
    ("running", "before", False),  # the thread's checkpoint is an earlier run's: start afresh
    ("running", None, False),      # died before its first checkpoint
    ("pending", None, False),      # never started
]


async def _left(w: World, status: str, checkpoint: str | None) -> tuple[str, str]:
    """Leave a run `status` in the records, with a checkpoint of its thread written before/after it."""
    thread_id, earlier = await w.plant(w.alice, "success")
    if checkpoint == "before":
        await w.checkpoint(thread_id)
    run_id = (await w.plant(w.alice, status, thread_id=thread_id))[1]
    if checkpoint == "after":
        await w.checkpoint(thread_id)
    return thread_id, run_id


async def _resumed(w: World, fake: FakeExecutor, status: str, checkpoint: str | None) -> dict:
    run_id = (await _left(w, status, checkpoint))[1]
    await w.log.append(run_id, {"type": "agent_log", "data": {"message": "before the crash"}, "metadata": {}})
    recovered = await recover(w.resources, w.manager, "resume")
    result = await w.manager.wait(run_id)
    return {"recovered": run_id in recovered, "resume": [c["resume"] for c in fake.calls if c["run_id"] == run_id],
            "status": result["status"], "log": types(await w.log.read(run_id))}


@pytest.mark.parametrize(("status", "checkpoint", "resume"), RECOVERIES)
def test_recover_takes_over_unfinished_runs_nobody_holds(settings, status, checkpoint, resume):
    seen = run(settings, _resumed, FakeExecutor(open=True), status, checkpoint)
    assert seen["recovered"] and seen["resume"] == [resume] and seen["status"] == "success"
    assert seen["log"] == ["agent_log", "agent_started", "agent_completed!"]


async def _interrupted(w: World, fake: FakeExecutor) -> dict:
    run_id = (await _left(w, "running", "after"))[1]
    recovered = await recover(w.resources, w.manager, "interrupt")
    last = (await w.log.read(run_id))[-1]
    return {"recovered": run_id in recovered, "record": await w.status(w.alice, run_id), "called": fake.called(),
            "last": (last["type"], last["data"]["code"], last["data"]["terminal"], last["metadata"]["final"])}


def test_recover_under_interrupt_marks_runs_interrupted_with_a_terminal_event(settings):
    seen = run(settings, _interrupted, FakeExecutor(open=True))
    assert seen == {"recovered": True, "record": "interrupted", "called": [],
                    "last": ("error", "interrupted", True, True)}


async def _held(w: World, fake: FakeExecutor) -> dict:
    handle = await w.manager.start(w.alice, "one?")
    await eventually(fake.called)
    other = w.process(FakeExecutor(open=True))
    while_held = handle.run_id in await recover(w.resources, other, "resume")
    await w.manager.shutdown()  # this process stops: the run stays `running`, its lease is dropped
    after = handle.run_id in await recover(w.resources, other, "resume")
    return {"while_held": while_held, "after": after, "result": (await other.wait(handle.run_id))["status"]}


@pytest.mark.parametrize("settings", ["services"], indirect=True)
def test_a_run_held_by_a_live_process_is_recovered_only_once_that_process_stops(settings):
    assert run(settings, _held, FakeExecutor()) == {"while_held": False, "after": True, "result": "success"}


def test_an_unknown_recovery_policy_is_a_config_error(settings):
    with pytest.raises(ConfigError, match="NETRA_RUNS_ON_RESTART"):
        run(settings, lambda w, fake: recover(w.resources, w.manager, "explode"))
