"""`netra serve` as a real process: what it refuses at start-up, and what uvicorn's log never holds.

The log test reads the process's own output: uvicorn writes a line per WebSocket handshake
(`"WebSocket /ws..." [accepted]`), and that line must carry no query string, whatever a client
puts there (a token, an OAuth code).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.support import cli, http

NETRA = str(Path(sys.executable).with_name("netra"))
START_DEADLINE_S = 60.0
SECRET = "secret-in-the-url-0123456789"  # what must never reach the log


def free_port() -> int:
    """Return a port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(home: Path, **variables: str) -> dict[str, str]:
    """Return the environment of a `netra` process over `home` (no NETRA_* of the developer's)."""
    clean = cli.base_environment()
    return {**clean, "NETRA_HOME": str(home), "NETRA_LOG_JSON": "false", **variables}


def refusal(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run `netra serve ARGS` expecting it to stop before listening; return how it ended."""
    return subprocess.run([NETRA, "serve", "--port", str(free_port()), *args], env=env, capture_output=True,
                          text=True, timeout=START_DEADLINE_S)


# case -> (environment, arguments, words of the one-line error)
REFUSED = {
    "a short NETRA_JWT_SECRET": ({"NETRA_JWT_SECRET": "too-short-key"}, (), "NETRA_JWT_SECRET (HS256) must be at "
                                                                          "least 32 characters long, not 13"),
    "a short NETRA_SECRET_KEY": ({"NETRA_SECRET_KEY": "k" * 20}, (), "NETRA_SECRET_KEY must be at least 32"),
    "the dev login beyond loopback": ({"NETRA_AUTH_MODE": "dev"}, ("--host", "0.0.0.0"),
                                      "NETRA_AUTH_MODE=dev lets anyone sign in"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_netra_serve_refuses_to_start_unsafe(tmp_path, case):
    variables, args, words = REFUSED[case]
    ended = refusal(environment(tmp_path, **variables), *args)
    assert ended.returncode == 2 and words in ended.stderr and "Uvicorn running" not in ended.stderr
    assert not any(value in ended.stderr + ended.stdout for value in variables.values() if len(value) > 5
                   and value != "dev")


@contextlib.contextmanager
def serving(home: Path, output: Path) -> Iterator[str]:
    """Run `netra serve` (its log into `output`) until the block ends; yield its URL once it answers."""
    port = free_port()
    with output.open("wb") as sink, launched(["serve", "--port", str(port)], environment(home), sink) as proc:
        yield ready(f"http://127.0.0.1:{port}", proc)


@contextlib.contextmanager
def launched(args: list[str], env: dict[str, str], sink: Any) -> Iterator[subprocess.Popen]:
    """Run `netra ARGS`, its output into `sink`; stop it (SIGTERM: a graceful shutdown) when the block ends."""
    proc = subprocess.Popen([NETRA, *args], env=env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def ready(url: str, proc: subprocess.Popen) -> str:
    """Wait until the server answers /health; return its URL.

    One client asks every time: a client per question (`httpx.get`) costs more CPU than the question.
    """
    deadline = time.monotonic() + START_DEADLINE_S
    with http.client(timeout=1) as client:
        while time.monotonic() < deadline and proc.poll() is None and not http.answers(client, f"{url}/health"):
            time.sleep(0.2)
        assert http.answers(client, f"{url}/health"), "netra serve did not answer"
    return url


async def handshakes(url: str) -> None:
    """Open sockets with credentials in their URLs (as old clients and forged links do), then leave."""
    base = url.replace("http://", "ws://")
    for query in (f"?token={SECRET}", f"?ticket={SECRET}&x=1"):
        async with connect(f"{base}/ws{query}") as ws:
            await ws.close()


def test_uvicorns_log_holds_no_query_string(tmp_path):
    """The handshake lines of a real `netra serve` show `/ws` only; the secret in the URL is nowhere."""
    output = tmp_path / "serve.log"
    with serving(tmp_path / "home", output) as url:
        asyncio.run(handshakes(url))
        httpx.get(f"{url}/auth/callback?code={SECRET}&state={SECRET}")
    log = output.read_text()
    assert log.count('"WebSocket /ws" [accepted]') == 2 and "/auth/callback" in log
    assert SECRET not in log and "?" not in "".join(line for line in log.splitlines() if "/ws" in line)
