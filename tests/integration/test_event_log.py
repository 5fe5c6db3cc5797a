"""The run event log, in-process and in real Redis: contiguous seqs, replay, live follow, expiry."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any, Awaitable, Callable

import pytest

from netra.config import Settings
from netra.errors import ConfigError, ServiceError
from netra.server.runs.log import MemoryEventLog, RedisEventLog, open_event_log

DEADLINE_S = 5.0


def event(n: int) -> dict:
    """A client event carrying `n` in its data."""
    return {"type": "agent_log", "data": {"n": n}, "metadata": {"run_id": "r", "thread_id": "t"}}


class Logs:
    """Makes logs of one backend and closes them all at the end of the scenario."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self.factory, self.made, self.runs = factory, [], []

    def __call__(self) -> Any:
        self.made.append(self.factory())
        return self.made[-1]

    def run_id(self) -> str:
        """Return a new run id (its log expires at the end of the scenario)."""
        self.runs.append(uuid.uuid4().hex)
        return self.runs[-1]

    async def aclose(self) -> None:
        await asyncio.gather(*(self.made[0].close(run_id, 1) for run_id in self.runs))
        await asyncio.gather(*(log.aclose() for log in self.made))


@pytest.fixture(params=["memory", "redis"])
def make(request) -> Logs:
    """A maker of logs of the backend under test (one shared in-process log for `memory`)."""
    if request.param == "memory":
        shared = MemoryEventLog()
        return Logs(lambda: shared)
    url = request.getfixturevalue("redis_url")
    return Logs(lambda: RedisEventLog(url))


def run(scenario: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Run one async scenario to its end, then close the logs a `Logs` argument made."""
    async def main() -> Any:
        try:
            return await asyncio.wait_for(scenario(*args), 30)
        finally:
            await asyncio.gather(*(arg.aclose() for arg in args if isinstance(arg, Logs)))
    return asyncio.run(main())


def seqs(events: list) -> list[int]:
    """Return the seqs of `events`."""
    return [e["metadata"]["seq"] for e in events]


async def _fill(log, run_id: str, count: int, final_at: int | None = None) -> None:
    """Append events 1..count; the one at `final_at` is final."""
    for n in range(1, count + 1):
        await log.append(run_id, event(n), final=n == final_at)


async def _concurrent(make: Logs) -> tuple[list[dict], list[dict]]:
    log, run_id = make(), make.run_id()
    appended = await asyncio.gather(*(log.append(run_id, event(n)) for n in range(200)))
    return appended, await log.read(run_id)


def test_seq_is_contiguous_from_one_under_200_concurrent_appends(make):
    appended, logged = run(_concurrent, make)
    assert seqs(logged) == sorted(seqs(appended)) == list(range(1, 201))
    by_seq = lambda events: {e["metadata"]["seq"]: e["data"]["n"] for e in events}  # noqa: E731
    assert by_seq(logged) == by_seq(appended)


async def _read(make: Logs, after: int, limit: int | None) -> list[int]:
    log, run_id = make(), make.run_id()
    await _fill(log, run_id, 6)
    return seqs(await log.read(run_id, after_seq=after, limit=limit))


@pytest.mark.parametrize(("after", "limit", "expected"), [
    (0, None, [1, 2, 3, 4, 5, 6]),
    (4, None, [5, 6]),
    (2, 2, [3, 4]),
    (6, None, []),
    (9, 3, []),
])
def test_read_returns_the_events_after_a_seq(make, after, limit, expected):
    assert run(_read, make, after, limit) == expected


async def _collect(log, run_id: str, after: int = 0, heartbeat_s: float | None = None) -> list:
    return [e async for e in log.follow(run_id, after_seq=after, heartbeat_s=heartbeat_s)]


async def _live(make: Logs) -> list:
    log, run_id = make(), make.run_id()
    follower = asyncio.create_task(_collect(log, run_id))
    await asyncio.sleep(0)
    await _fill(log, run_id, 4, final_at=4)
    await log.append(run_id, event(99))  # after the final event: the follower has ended
    return await follower


def test_follow_receives_live_appends_and_ends_after_the_final_event(make):
    followed = run(_live, make)
    assert seqs(followed) == [1, 2, 3, 4] and followed[-1]["metadata"]["final"] is True
    assert not any(e["metadata"].get("final") for e in followed[:-1])


async def _from_middle(make: Logs, after: int) -> list[int]:
    log, run_id = make(), make.run_id()
    await _fill(log, run_id, 5, final_at=5)
    return seqs(await _collect(log, run_id, after))


@pytest.mark.parametrize(("after", "expected"), [(0, [1, 2, 3, 4, 5]), (2, [3, 4, 5]), (4, [5]), (5, []), (8, [])])
def test_follow_from_the_middle_gets_exactly_the_rest(make, after, expected):
    assert run(_from_middle, make, after) == expected


async def _heartbeats(make: Logs) -> list:
    log, run_id = make(), make.run_id()
    stream = log.follow(run_id, heartbeat_s=0.05)
    first = await anext(stream)
    await log.append(run_id, event(1), final=True)
    rest = [e async for e in stream if e is not None]
    return [first, *rest]


def test_follow_yields_none_on_heartbeat_timeouts(make):
    first, *rest = run(_heartbeats, make)
    assert first is None and seqs(rest) == [1]


async def _finished(make: Logs) -> tuple[bool, bool, int]:
    log, run_id = make(), make.run_id()
    await _fill(log, run_id, 2)
    before = await log.is_finished(run_id)
    await log.append(run_id, event(3), final=True)
    return before, await log.is_finished(run_id), await log.last_seq(run_id)


def test_is_finished_once_the_final_event_is_logged(make):
    assert run(_finished, make) == (False, True, 3)


async def _expiry(make: Logs) -> list:
    log, run_id = make(), make.run_id()
    await _fill(log, run_id, 3, final_at=3)
    await log.close(run_id, 1)
    deadline = time.monotonic() + DEADLINE_S
    while (await log.read(run_id) or await log.last_seq(run_id)) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return [await log.read(run_id), await log.last_seq(run_id), await log.is_finished(run_id)]


def test_a_closed_log_expires_after_its_ttl(make):
    assert run(_expiry, make) == [[], 0, False]


async def _two_processes(make: Logs) -> tuple[list, list]:
    first, second, run_id = make(), make(), make.run_id()
    follower = asyncio.create_task(_collect(second, run_id))
    await asyncio.gather(*(log.append(run_id, event(n)) for n, log in enumerate([first, second] * 10)))
    await second.append(run_id, event(20), final=True)
    return await follower, await first.read(run_id)


def test_two_redis_logs_share_one_log_per_run(redis_url):
    followed, read = run(_two_processes, Logs(lambda: RedisEventLog(redis_url)))
    assert seqs(followed) == seqs(read) == list(range(1, 22)) and followed[-1] == read[-1]


async def _failing(url: str) -> None:
    await RedisEventLog(url).append("r", event(1))


def test_redis_failure_is_a_service_error_without_credentials_or_host():
    with pytest.raises(ServiceError, match="run event log: Redis failed") as err:
        run(_failing, "redis://netra:sekret-pw@127.0.0.1:1/0")
    assert "sekret-pw" not in str(err.value) and "127.0.0.1" not in str(err.value)


async def _bounded() -> list[str]:
    log = MemoryEventLog(max_runs=2)
    for run_id in ("a", "b", "c"):
        await log.append(run_id, event(1), final=True)
    await log.append("d", event(1))
    await log.read("never-logged")
    return sorted(log.logs)


def test_memory_log_keeps_a_bounded_number_of_runs_dropping_the_oldest_ended():
    assert run(_bounded) == ["c", "d"]


@pytest.mark.parametrize(("url", "kind"), [("", MemoryEventLog), ("redis://127.0.0.1:6379/15", RedisEventLog)])
def test_open_event_log_picks_the_backend_of_the_settings(tmp_path, url, kind):
    assert isinstance(open_event_log(Settings(home=tmp_path, redis_url=url)), kind)


def test_open_event_log_refuses_an_unknown_scheme(tmp_path):
    with pytest.raises(ConfigError, match="NETRA_REDIS_URL"):
        open_event_log(Settings(home=tmp_path, redis_url="memcached://x"))
