"""Run `langgraph dev` on Netra's langgraph.json in a subprocess and talk to it with langgraph-sdk.

The server runs in its own working directory (where `langgraph dev` keeps its `.langgraph_api`
state) with its own NETRA_HOME: embedded chDB lets one process open a data path, so the
server must not share the pytest process's store.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from langgraph_sdk import get_client

from tests.support import cli

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
GRAPH_ID = "netra"
STARTUP_S = 90.0  # how long `langgraph dev` may take to answer GET /ok
RUN_S = 120.0  # how long one streamed run (with its state read) may take
QUIET = {"LANGSMITH_TRACING": "false", "LANGGRAPH_CLI_NO_ANALYTICS": "1",
         "LANGGRAPH_NO_VERSION_CHECK": "true"}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_API_URL = re.compile(r"API:\s*(https?://[\w.\-]+:\d+)")


def studio_env(home: Path) -> dict[str, str]:
    """Return the environment for the server: own NETRA_HOME, no model keys, no telemetry.

    Args:
        home: The NETRA_HOME the server (and `netra generate`) use.

    Returns:
        The inherited environment without `NETRA_*`/`OPENAI_*`, plus QUIET, NETRA_HOME and
        a PATH that starts with the virtualenv's bin folder.
    """
    env = cli.base_environment()
    path = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **QUIET, "NETRA_HOME": str(home), "PATH": path}


def generate_data(env: dict[str, str], workdir: Path, events: int, seed: int = 7) -> None:
    """Run `netra generate` so the server's store holds the `mixed` workload.

    Args:
        env: The server environment (its NETRA_HOME names the store).
        workdir: The working directory of the subprocess.
        events: How many events to generate.
        seed: The random seed.
    """
    cmd = [str(VENV_BIN / "netra"), "generate", "--scenario", "mixed", "--events", str(events),
           "--seed", str(seed)]
    done = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"netra generate exited {done.returncode}:\n{done.stdout}\n{done.stderr}"


def hermetic_config(folder: Path) -> Path:
    """Write the repo's langgraph.json into `folder` with its relative paths made absolute.

    `langgraph dev` resolves graph paths and dependencies against its working directory, so
    this is the repo's config as `langgraph dev` sees it when started from the repo root.

    Args:
        folder: Where to write the copy (also the server's working directory).

    Returns:
        The path of the copy.
    """
    config = json.loads((REPO / "langgraph.json").read_text())
    config["dependencies"] = [_absolute(dep) for dep in config.get("dependencies", [])]
    config["graphs"] = {gid: _absolute(spec) for gid, spec in config["graphs"].items()}
    path = folder / "langgraph.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def _absolute(ref: Any) -> Any:
    return str((REPO / ref).resolve()) if isinstance(ref, str) and ref.startswith(".") else ref


def free_port() -> int:
    """Return a TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class DevServer:
    """One `langgraph dev` subprocess (its own process group) and its log file."""

    process: subprocess.Popen
    log: Path
    port: int
    url: str = ""

    @classmethod
    def start(cls, config: Path, env: dict[str, str], workdir: Path) -> DevServer:
        """Start `langgraph dev --no-browser --no-reload` on a free port; do not wait."""
        port, log = free_port(), workdir / "langgraph-dev.log"
        cmd = [str(VENV_BIN / "langgraph"), "dev", "--no-browser", "--no-reload",
               "--port", str(port), "--config", str(config)]
        with log.open("wb") as sink:
            process = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=sink,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        return cls(process, log, port)

    def wait_ready(self, timeout_s: float = STARTUP_S) -> str:
        """Poll GET /ok until it answers; return the API URL (fails with the log tail)."""
        deadline = time.monotonic() + timeout_s
        while not self._answers():
            late = time.monotonic() > deadline
            assert not late, f"langgraph dev not ready after {timeout_s:.0f} s:\n{self.log_tail()}"
            time.sleep(0.5)
        self.url = self.announced_url()
        return self.url

    def announced_url(self) -> str:
        """Return the URL from the "API: http://..." banner (the asked port before it prints)."""
        found = _API_URL.search(self._text())
        return found.group(1) if found else f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 80) -> str:
        """Return the last `lines` lines of the server log, without colour codes."""
        tail = "\n".join(self._text().splitlines()[-lines:])
        return f"--- langgraph dev log ({self.log}) ---\n{tail}"

    def stop(self) -> None:
        """Terminate the whole process group: SIGTERM, then SIGKILL after 15 s."""
        _signal_group(self.process, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            _signal_group(self.process, signal.SIGKILL)
            self.process.wait(timeout=15)

    def _answers(self) -> bool:
        code = self.process.poll()
        assert code is None, f"langgraph dev exited with {code}:\n{self.log_tail()}"
        return _ok(self.announced_url())

    def _text(self) -> str:
        return _ANSI.sub("", self.log.read_text(errors="replace")) if self.log.exists() else ""


def _ok(url: str) -> bool:
    try:
        return httpx.get(f"{url}/ok", timeout=2.0).status_code == 200
    except httpx.HTTPError:  # not listening yet
        return False


def _signal_group(process: subprocess.Popen, sig: signal.Signals) -> None:
    try:
        os.killpg(process.pid, sig)  # start_new_session: the group id is the leader's pid
    except ProcessLookupError:  # the whole group is gone already
        pass


@dataclass
class RunResult:
    """What one streamed run produced: (event, data) pairs and the thread's final state."""

    events: list[tuple[str, Any]]
    state: dict[str, Any] = field(default_factory=dict)

    def of(self, kind: str) -> list[Any]:
        """Return the data of every event named `kind` ("updates", "custom", "error", ...)."""
        return [data for event, data in self.events if event == kind]

    def updated_nodes(self) -> set[str]:
        """Return the names of the nodes that sent an update."""
        return {name for update in self.of("updates") for name in (update or {})}

    def custom(self, name: str) -> list[dict[str, Any]]:
        """Return the custom progress events whose "event" is `name`."""
        return [data for data in self.of("custom") if isinstance(data, dict) and data.get("event") == name]

    @property
    def values(self) -> dict[str, Any]:
        """Return the channel values of the final thread state."""
        return self.state.get("values") or {}


def graph_ids(url: str) -> list[str]:
    """Return the graph ids of the server's assistants."""
    return asyncio.run(asyncio.wait_for(_graph_ids(url), RUN_S))


async def _graph_ids(url: str) -> list[str]:
    async with get_client(url=url) as client:
        return [assistant["graph_id"] for assistant in await client.assistants.search(limit=100)]


def ask(url: str, question: str) -> RunResult:
    """Stream a run of the `netra` graph on a new thread (updates + custom); read its state.

    Args:
        url: The server's API URL.
        question: The question for the run's input.

    Returns:
        The events and, unless an error event arrived, the thread's final state.
    """
    return asyncio.run(asyncio.wait_for(_ask(url, question), RUN_S))


async def _ask(url: str, question: str) -> RunResult:
    async with get_client(url=url) as client:
        thread_id = (await client.threads.create())["thread_id"]
        stream = client.runs.stream(thread_id, GRAPH_ID, input={"question": question},
                                    stream_mode=["updates", "custom"])
        run = RunResult([(part.event, part.data) async for part in stream])
        run.state = {} if run.of("error") else await client.threads.get_state(thread_id)
        return run
