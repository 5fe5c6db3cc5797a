"""Live runs across server processes: a run followed on another process, and a run surviving SIGKILL.

Every server is a `netra serve` subprocess on a free 127.0.0.1 port with a NETRA_HOME of its
own; all of them share one new PostgreSQL database (records, checkpoints; a copy of the
migrated template, so each start finds the schema at head), Redis (event log, leases,
sign-in sessions) and NETRA_SECRET_KEY (so a token of one process is valid on another).
Embedded chDB serves one process only, so every home gets the same workload: one `netra
generate` writes the first home, the others are copies of it (identical data); in
production the processes share a ClickHouse server instead (NETRA_CLICKHOUSE_URL).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from netra.config import Settings
from netra.graph.state import AGENTS
from netra.server.runs.log import open_event_log
from tests.support import cli, http
from tests.support.databases import migrated_pg
from tests.support.graphs import OPTIMIZE
from tests.support.ws_client import (Message, Server, connected, plain, resumed, run_events, seq_at_least, started,
                             until)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
NETRA = str(Path(sys.executable).with_name("netra"))
SECRET = "live-runs-test-secret-0123456789-abcdefghij"
START_DEADLINE_S = 90.0
RECOVERY_DEADLINE_S = 120.0  # a dead process's leases expire after 15 s; recovery looks every 15 s


@dataclass
class Process(Server):
    """A `netra serve` subprocess and where its output goes."""

    proc: Any = None
    output: Path | None = None

    def kill(self) -> None:
        """SIGKILL the process and reap it."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


@dataclass
class Cluster:
    """Servers sharing a PostgreSQL database and Redis; one folder per home and log."""

    root: Path
    database_url: str
    redis_url: str

    def env(self, home: Path) -> dict[str, str]:
        """Return the environment of a process with NETRA_HOME=home (no developer NETRA_*/OPENAI_* leak in)."""
        env = cli.base_environment()
        return {**env, "NETRA_HOME": str(home), "NETRA_DATABASE_URL": self.database_url, "NETRA_LOG_JSON": "false",
                "NETRA_REDIS_URL": self.redis_url, "NETRA_SECRET_KEY": SECRET, "NETRA_AUTH_MODE": "dev",
                "NETRA_RATE_LIMIT_PER_MINUTE": "0"}

    def generate(self, homes: list[str], events: int) -> None:
        """Generate `mixed` (seed 7) into the first home; copy it to the others (no process holds it then)."""
        first, *others = (self.root / home for home in homes)
        run = subprocess.run([NETRA, "generate", "--events", str(events), "--seed", "7"], env=self.env(first),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
        assert run.returncode == 0, run.stdout.decode()[-2000:]
        for home in others:
            shutil.copytree(first, home, symlinks=True)  # chDB's links inside its folder are relative

    @contextlib.contextmanager
    def serve(self, home: str) -> Iterator[Process]:
        """Run `netra serve` on a free port with NETRA_HOME=root/home until the block ends."""
        port, output = free_port(), self.root / f"{home}-{time.monotonic_ns()}.log"
        with output.open("wb") as sink:
            proc = subprocess.Popen([NETRA, "serve", "--port", str(port)], env=self.env(self.root / home),
                                    stdout=sink, stderr=subprocess.STDOUT)
            with stopped_after(proc):
                yield ready(Process(f"http://127.0.0.1:{port}", proc=proc, output=output))

    async def logged(self, run_id: str) -> list[Message]:
        """Return the run's event log, read from Redis."""
        log = open_event_log(Settings(redis_url=self.redis_url))
        try:
            return await log.read(run_id)
        finally:
            await log.aclose()


def free_port() -> int:
    """Return a port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def stopped_after(proc: subprocess.Popen) -> Iterator[None]:
    """Stop `proc` when the block ends."""
    try:
        yield
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM a live `proc` (graceful shutdown); SIGKILL it when it is still alive 30 s later."""
    if proc.poll() is None:
        proc.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=30)
    if proc.poll() is None:
        proc.kill()


def ready(process: Process) -> Process:
    """Wait until `GET /health/ready` answers 200 (the process still alive); return the process.

    One client asks every time: a client per question (`httpx.get`) costs more CPU than the question.
    """
    deadline, url = time.monotonic() + START_DEADLINE_S, process.url + "/health/ready"
    with http.client(timeout=5) as client:
        while not http.answers(client, url) and process.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert http.answers(client, url), process.output.read_text()[-3000:]  # type: ignore[union-attr]
    return process


@pytest.fixture
def cluster(tmp_path, postgres_url, redis_url) -> Iterator[Cluster]:
    """A new PostgreSQL database (at the schema's head) and the test Redis, for the processes of one test."""
    with migrated_pg(postgres_url, "netra_live") as database_url:
        yield Cluster(tmp_path, database_url, redis_url)


async def _across(one: Process, two: Process) -> tuple[list[Message], list[Message]]:
    token = one.token("alice")
    async with connected(one.ws(token)) as ws:
        run_id = (await started(ws, OPTIMIZE))["data"]["run_id"]
        before = run_events(await until(ws, seq_at_least(3)))
    return before, await resumed(two.ws(token), run_id, before[-1]["metadata"]["seq"])


def test_a_run_started_on_one_process_is_followed_to_its_end_from_another(cluster):
    cluster.generate(["one", "two"], 20_000)
    with cluster.serve("one") as one, cluster.serve("two") as two:
        before, after = asyncio.run(_across(one, two))
    logged = asyncio.run(cluster.logged(before[0]["metadata"]["run_id"]))
    assert [e["metadata"]["seq"] for e in before] == [1, 2, 3] and after[-1]["type"] == "agent_completed"
    assert plain(before + after) == plain(logged)


def optimising(message: Message) -> bool:
    """Whether the message is optimizations_core's first tool call (triage and data are done by then)."""
    return message["type"] == "tool_call" and message["metadata"]["agent_name"] == "optimizations_core"


async def _killed_mid_run(server: Process, token: str) -> list[Message]:
    async with connected(server.ws(token)) as ws:
        await started(ws, OPTIMIZE)
        before = run_events(await until(ws, optimising))
        server.kill()
    return before


def finished_agents(events: list[Message]) -> set[str]:
    """Return the planned agents the events show done."""
    return {e["data"]["agent"] for e in events
            if e["type"] == "sub_agent_update" and e["data"]["status"] == "done" and e["data"]["agent"] in AGENTS}


def updated_agents(events: list[Message]) -> Counter:
    """Return how many `sub_agent_update`s each agent has among the events."""
    return Counter(e["data"]["agent"] for e in events if e["type"] == "sub_agent_update")


def _after_restart(cluster: Cluster, token: str, run_id: str, after_seq: int) -> tuple[list[Message], dict]:
    with cluster.serve("solo") as again:
        after = asyncio.run(resumed(again.ws(token), run_id, after_seq, RECOVERY_DEADLINE_S))
        return after, again.get(f"/api/runs/{run_id}", token).json()


def _killed_and_restarted(cluster: Cluster) -> tuple[list[Message], list[Message], list[Message], dict]:
    """Start a run, SIGKILL its server mid-run, restart it, resume: (before, after, the log, the run record)."""
    cluster.generate(["solo"], 200_000)
    with cluster.serve("solo") as first:
        token = first.token("bob")
        before = asyncio.run(_killed_mid_run(first, token))
    run_id = before[0]["metadata"]["run_id"]
    after, record = _after_restart(cluster, token, run_id, before[-1]["metadata"]["seq"])
    return before, after, asyncio.run(cluster.logged(run_id)), record


def test_a_run_killed_with_its_server_resumes_from_its_checkpoint_without_rerunning_finished_agents(cluster):
    before, after, logged, record = _killed_and_restarted(cluster)
    done = finished_agents(before)
    resumed_at = next(i for i, e in enumerate(logged) if e["type"] == "agent_started" and e["data"]["resumed"])
    assert {"triage", "data"} <= done and not set(updated_agents(logged[resumed_at:])) & done
    assert plain(before + after) == plain(logged) and after[-1]["type"] == "agent_completed"
    assert record["status"] == "success" and Counter(row["agent"] for row in record["agents"]) == Counter(AGENTS)
