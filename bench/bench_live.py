"""Benchmark: live runs over the network vs the same graph in-process, and runs/s under load.

Loads `mixed` (default 200k events, seed 7) into a temporary chDB store, creates a fresh
PostgreSQL database (records and checkpoints; dropped at the end) and serves the app over it
and Redis (event log, caches) with uvicorn in a thread of this process. Then:

1. latency: a short question answered by `netra.graph.runner.ask` on the server's own deps
   (store, catalog, tool cache; checkpoints in the same database) is the baseline; each
   transport of `TRANSPORTS` asks the same question. Printed: the median time to the first
   run event and to the terminal event (from sending the question; connecting is not
   counted), and the ratio to the baseline. One warm-up run per path comes first, so every
   path sees a warm tool cache: the difference is the transport and the run's bookkeeping
   (records, checkpoints, event log).
2. throughput: `--clients` clients at once, each on its own connection asking the question
   on a new thread; runs/s = runs / wall time (the server runs `--concurrency` at a time).

    python bench/bench_live.py [--events N] [--repeat R] [--clients C] [--concurrency K]
                               [--postgres URL] [--redis URL]

A transport is an async function (base_url, token, question) -> Timing, listed in
`TRANSPORTS`. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import statistics
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator

import httpx
import psycopg
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from netra.config import Settings
from netra.graph.runner import ask
from netra.persistence.analytics import open_store
from netra.server import create_app
from netra.tenancy import LOCAL_WORKSPACE
from netra.workloads.catalog import load_catalog
from netra.workloads.synthetic import generate_and_load

QUESTION = "What was the p95 latency of gpt-4o last week?"
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/15"
RUN_DEADLINE_S = 600.0


@dataclass
class Timing:
    """One run as a client saw it: seconds to the first run event and to the terminal one, and how it ended."""

    first_event_s: float
    total_s: float
    outcome: str


# --- transports: how a client asks a question and hears the run -------------------------------------------


async def _first_and_last(ws: ClientConnection, started: float) -> Timing:
    """Read run events until the terminal one; return when the first and the last came."""
    first = None
    while True:
        message = json.loads(await ws.recv())
        now = time.perf_counter() - started
        first = now if first is None and message["metadata"]["seq"] is not None else first
        if message["metadata"].get("final"):
            return Timing(first or now, now, message["type"])


async def over_websocket(base_url: str, token: str, question: str) -> Timing:
    """Ask over `/ws` (`start_agent`) and follow the run to its terminal event."""
    async with connect(f"{base_url.replace('http://', 'ws://')}/ws", max_size=None) as ws:
        await ws.send(json.dumps({"action": "auth", "data": {"token": token}}))  # the token never goes in the URL
        await ws.recv()  # connection_established
        started = time.perf_counter()
        await ws.send(json.dumps({"action": "start_agent", "data": {"message": question}}))
        return await _first_and_last(ws, started)


SSE_OUTCOMES = {"success": "agent_completed"}  # the `end` event's run status -> outcome (others: error)


async def _sse_first_and_last(answer: httpx.Response, started: float) -> Timing:
    """Read SSE lines to `end`; return when the first run event (id 1 on: `metadata`, id 0, is instant) and `end`
    came, with the outcome the WebSocket's terminal event would have (`agent_completed` or `error`)."""
    first, event = None, ""
    async for text in answer.aiter_lines():
        now, event = time.perf_counter() - started, text[7:] if text.startswith("event: ") else event
        first = now if first is None and text.startswith("id: ") and text != "id: 0" else first
        if event == "end" and text.startswith("data: "):
            return Timing(first or now, now, SSE_OUTCOMES.get(json.loads(text[6:])["status"], "error"))
    raise ConnectionError("the SSE stream ended without an `end` event")


async def over_sse(base_url: str, token: str, question: str) -> Timing:
    """Ask over SSE (`POST /threads`, then `POST /threads/{id}/runs/stream`, updates + custom) and read it to `end`."""
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=None, verify=False) as client:  # http: no CA
        thread_id = (await client.post("/threads", json={})).json()["thread_id"]
        body = {"assistant_id": "netra", "input": {"question": question}, "stream_mode": ["updates", "custom"]}
        started = time.perf_counter()
        async with client.stream("POST", f"/threads/{thread_id}/runs/stream", json=body) as answer:
            return await _sse_first_and_last(answer, started)


Transport = Callable[[str, str, str], Awaitable[Timing]]
# transport name -> how a client runs one question over it
TRANSPORTS: dict[str, Transport] = {
    "websocket": over_websocket,
    "sse": over_sse,
}


def in_process(deps: Any, question: str) -> Timing:
    """The baseline: `ask` on the server's deps; the first event is the graph's first stream item."""
    started, seen = time.perf_counter(), []
    state = ask(deps, question, on_event=lambda mode, chunk: seen or seen.append(time.perf_counter() - started))
    total = time.perf_counter() - started
    return Timing(seen[0] if seen else total, total, "agent_completed" if state.get("report") else "error")


# --- the server, its database and its workload --------------------------------------------------------------


def _admin(url: str, sql: str) -> None:
    """Run one statement outside a transaction (CREATE / DROP DATABASE)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


@contextlib.contextmanager
def fresh_database(base_url: str) -> Iterator[str]:
    """Yield the URL of a new PostgreSQL database on `base_url`'s server; drop it afterwards."""
    name = f"bench_live_{uuid.uuid4().hex[:10]}"
    _admin(base_url, f'CREATE DATABASE "{name}"')
    try:
        yield base_url.rsplit("/", 1)[0] + "/" + name
    finally:
        _admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _started(server: uvicorn.Server, sock: socket.socket) -> threading.Thread:
    """Run `server` on `sock` in a daemon thread; return once it serves (or died)."""
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.02)
    return thread


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve `app` with its lifespan on a free 127.0.0.1 port in a thread; yield its base URL."""
    sock, server = socket.create_server(("127.0.0.1", 0)), uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = _started(server, sock)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def prepare(folder: Path, events: int) -> tuple[Any, Any]:
    """Load the workload into a chDB store under `folder`; return the store and catalog."""
    store, catalog = open_store(f"chdb://{folder / 'analytics'}"), load_catalog()
    started = time.perf_counter()
    generate_and_load(store, catalog, "mixed", events, 7)
    print(f"loaded {events:,} events in {time.perf_counter() - started:.1f} s")
    return store, catalog


def settings_of(folder: Path, database_url: str, redis_url: str, concurrency: int) -> Settings:
    """Return the server's settings: PostgreSQL records and checkpoints, Redis, dev login, no rate limit."""
    return Settings(home=folder, database_url=database_url, redis_url=redis_url, auth_mode="dev",
                    rate_limit_per_minute=0, log_json=False, run_concurrency=concurrency, ws_timeout_s=3600)


def sign_in(base_url: str) -> str:
    """Return a bearer token from the dev login."""
    answer = httpx.post(f"{base_url}/auth/dev-login", json={"email": "bench@example.com"}, timeout=30)
    return answer.json()["access_token"]


# --- measurements ----------------------------------------------------------------------------------------------


def median_of(timings: list[Timing]) -> Timing:
    """Return the median first-event and total times (the outcome of the last run)."""
    return Timing(statistics.median(t.first_event_s for t in timings), statistics.median(t.total_s for t in timings),
                  timings[-1].outcome)


def line(name: str, timing: Timing, baseline: Timing | None = None) -> str:
    """Return one printed line: the path, its times and (given a baseline) the ratios."""
    ratio = f"  x{timing.first_event_s / baseline.first_event_s:.1f} / x{timing.total_s / baseline.total_s:.2f}" \
        if baseline else ""
    return f"{name:12s} first event {timing.first_event_s * 1000:8.1f} ms  completion {timing.total_s * 1000:8.1f} ms" \
           f"  ({timing.outcome}){ratio}"


def latency(deps: Any, base_url: str, token: str, repeat: int) -> None:
    """Print the baseline's and each transport's median times, with the ratios to the baseline."""
    baseline = median_of([in_process(deps, QUESTION) for _ in range(repeat + 1)][1:])
    print(line("in-process", baseline))
    for name, transport in TRANSPORTS.items():
        timings = [asyncio.run(bounded(transport, base_url, token)) for _ in range(repeat + 1)][1:]
        print(line(name, median_of(timings), baseline) + "   (ratio: first event / completion)")


async def bounded(transport: Transport, base_url: str, token: str) -> Timing:
    """Run the question over `transport` within RUN_DEADLINE_S; a failure is a Timing with its outcome."""
    try:
        return await asyncio.wait_for(transport(base_url, token, QUESTION), RUN_DEADLINE_S)
    except Exception as exc:  # a bench reports failures, it does not stop at them
        return Timing(float("nan"), float("nan"), type(exc).__name__)


async def _load(transport: Transport, base_url: str, token: str, clients: int) -> tuple[float, list[Timing]]:
    started = time.perf_counter()
    timings = await asyncio.gather(*(bounded(transport, base_url, token) for _ in range(clients)))
    return time.perf_counter() - started, list(timings)


def throughput(base_url: str, token: str, clients: int, concurrency: int) -> None:
    """Print runs/s with `clients` clients at once over each transport."""
    for name, transport in TRANSPORTS.items():
        wall, timings = asyncio.run(_load(transport, base_url, token, clients))
        outcomes = {o: sum(t.outcome == o for t in timings) for o in {t.outcome for t in timings}}
        done = sorted(t.total_s for t in timings if t.outcome == "agent_completed") or [float("nan")]
        print(f"{name:12s} {clients} clients, concurrency {concurrency}: {outcomes.get('agent_completed', 0) / wall:6.2f}"
              f" runs/s ({wall:.1f} s; median completion {statistics.median(done):.2f} s; outcomes {outcomes})")


def arguments() -> argparse.Namespace:
    """Return the command line's arguments."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag, default in (("--events", 200_000), ("--repeat", 5), ("--clients", 50), ("--concurrency", 4)):
        parser.add_argument(flag, type=int, default=default)
    parser.add_argument("--postgres", default=PG_URL, help="a server where a fresh database can be created")
    parser.add_argument("--redis", default=REDIS_URL)
    return parser.parse_args()


def main() -> None:
    """Set everything up in a temporary folder and a fresh database; print the figures."""
    args = arguments()
    with tempfile.TemporaryDirectory() as folder, fresh_database(args.postgres) as database_url:
        run(args, Path(folder), database_url)


def run(args: argparse.Namespace, folder: Path, database_url: str) -> None:
    """Serve the app over the workload and the database; measure latency, then throughput."""
    store, catalog = prepare(folder, args.events)
    app = create_app(settings_of(folder, database_url, args.redis, args.concurrency), store=store, catalog=catalog)
    with serving(app) as base_url:
        token = sign_in(base_url)
        latency(app.state.resources.deps(LOCAL_WORKSPACE), base_url, token, args.repeat)
        throughput(base_url, token, args.clients, args.concurrency)


if __name__ == "__main__":
    main()
