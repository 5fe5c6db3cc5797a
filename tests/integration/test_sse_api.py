"""The Agent Server–compatible SSE API over a real uvicorn server (lifespan on), on both backends.

Each backend (`embedded`: SQLite, in-process logs; `services`: a fresh PostgreSQL database,
real Redis) gets one server for the module, over the session's chDB store holding `mixed`
(20k events, seed 7, 14 days), running one run at a time (`NETRA_RUN_CONCURRENCY=1`); a test
that needs runs to stay queued holds that slot (on the server's loop): nothing depends on timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterator

import httpx
import pytest

from netra.server import create_app
from netra.server.runs import execute_run, records
from tests.support import http
from tests.support.graphs import OPTIMIZE, PLAIN
from tests.support.run_world import backend_settings, world
from tests.support.servers import serving
from tests.support.tenants import IN_LOCAL, add_to_workspace

pytestmark = pytest.mark.timeout(300)
DEV = {"auth_mode": "dev", "rate_limit_per_minute": 0, "log_json": False, "run_concurrency": 1,
       "sse_heartbeat_s": 1.0}  # a queued run's stream beats within a tick or two, not 5 s
MODES = ["values", "updates", "custom"]
RUN = {"assistant_id": "netra", "input": {"messages": [{"role": "user", "content": OPTIMIZE}]}, "stream_mode": MODES}
QUEUED = {"assistant_id": "agent", "input": {"question": PLAIN}}


@dataclass(frozen=True)
class Frame:
    """One SSE event: its name, its data (parsed JSON) and its id."""

    event: str
    data: Any
    id: str


def frame_of(block: str) -> Frame:
    """Parse one event block, insisting on exactly `event:`, `data:` and `id:` lines, in that order."""
    lines = block.split("\r\n")
    assert [line.partition(": ")[0] for line in lines] == ["event", "data", "id"], block[:200]
    return Frame(lines[0][7:], json.loads(lines[1][6:]), lines[2][4:])


def frames_of(raw: bytes) -> list[Frame]:
    """Parse an SSE body with CRLF line ends (heartbeat comments skipped)."""
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")
    return [frame_of(block) for block in raw.decode().split("\r\n\r\n") if block and not block.startswith(":")]


@dataclass
class Served:
    """The module's server: its URL and app, and clients signed in through the dev login."""

    url: str
    app: Any
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, token: str | None = None) -> httpx.Client:
        """Return a client (with a bearer token when given, acting in `local`), closed with the server."""
        headers = {"Authorization": f"Bearer {token}", **IN_LOCAL} if token else {}
        self.clients.append(http.client(base_url=self.url, headers=headers, timeout=120))
        return self.clients[-1]

    def close(self) -> None:
        """Close every client."""
        for client in self.clients:
            client.close()

    @functools.cached_property
    def anonymous(self) -> httpx.Client:
        """A client without a token."""
        return self.client()

    def login(self) -> httpx.Client:
        """Return a client signed in (`POST /auth/dev-login`) as a new user, a member of `local` (the workload's)."""
        email = f"u{uuid.uuid4().hex[:8]}@example.com"
        answer = self.anonymous.post("/auth/dev-login", json={"email": email})
        add_to_workspace(self.app.state.resources.settings, email)
        return self.client(answer.json()["access_token"])

    def new_thread(self) -> tuple[httpx.Client, str]:
        """Return a new user's client and a new thread of theirs."""
        client = self.login()
        return client, client.post("/threads", json={}).json()["thread_id"]

    @contextlib.contextmanager
    def slot_held(self) -> Iterator[None]:
        """Hold the run manager's one slot: every run stays queued (pending) meanwhile."""
        manager = self.app.state.resources.runs
        loop = next(iter(manager.tasks)).get_loop()  # the server's: the manager's recovery task runs there
        asyncio.run_coroutine_threadsafe(manager.slots.acquire(), loop).result(10)
        try:
            yield
        finally:
            loop.call_soon_threadsafe(manager.slots.release)


@pytest.fixture(scope="module", params=["embedded", "services"])
def served(request, workload, catalog, tmp_path_factory) -> Iterator[Served]:
    """The module's server over the backend under test (one run at a time)."""
    with backend_settings(request.param, tmp_path_factory.mktemp("sse")) as base:
        app = create_app(base.model_copy(update=DEV), store=workload, catalog=catalog)
        with serving(lambda url: app, lifespan="on") as url:
            yield (served := Served(url, app))
            served.close()


@dataclass
class Streamed:
    """One streamed run of the optimisation question: its client, ids, answer and frames."""

    client: httpx.Client
    thread_id: str
    run_id: str
    response: httpx.Response
    frames: list[Frame]


@pytest.fixture(scope="module")
def streamed(served) -> Streamed:
    """Stream one run (values, updates, custom) to its end on a new thread of a new user."""
    client, thread_id = served.new_thread()
    response = client.post(f"/threads/{thread_id}/runs/stream", json=RUN)
    frames = frames_of(response.content)
    return Streamed(client, thread_id, frames[0].data["run_id"], response, frames)


def join(client: httpx.Client, path: str, last_id: str | None = None, modes: list[str] = MODES) -> list[Frame]:
    """Return the frames of `GET {path}/stream` (after `last_id` when given)."""
    headers = {"Last-Event-ID": last_id} if last_id is not None else {}
    answer = client.get(f"{path}/stream", params={"stream_mode": modes}, headers=headers)
    assert answer.status_code == 200, answer.text
    return frames_of(answer.content)


def test_the_stream_answer_names_the_run_to_reconnect_to(streamed):
    base, headers = f"/threads/{streamed.thread_id}/runs/{streamed.run_id}", streamed.response.headers
    assert headers["content-type"].startswith("text/event-stream") and headers["cache-control"] == "no-store"
    assert (headers["location"], headers["content-location"]) == (f"{base}/stream", base)


def test_a_streamed_run_is_framed_from_metadata_to_end(streamed):
    frames = streamed.frames
    assert frames[0] == Frame("metadata", {"run_id": streamed.run_id, "attempt": 1}, "0")
    assert frames[-1] == Frame("end", {"run_id": streamed.run_id, "status": "success"}, frames[-1].id)
    ids = [int(frame.id) for frame in frames]
    assert ids == sorted(set(ids)) and {frame.event for frame in frames[1:-1]} == set(MODES)


def test_the_modes_carry_the_report_the_agents_and_the_tool_events(streamed):
    of = lambda event: [frame.data for frame in streamed.frames if frame.event == event]  # noqa: E731
    assert of("values")[-1]["report"]["markdown"].startswith("# Netra report")
    assert {"triage", "data", "optimizations_core", "reporting"} <= {node for update in of("updates")
                                                                     for node in update}
    assert {"tool_call", "tool_result"} <= {custom.get("event") for custom in of("custom")}


@pytest.mark.parametrize("cut", [0.0, 0.5, 0.97])
def test_a_reconnect_after_an_event_id_gets_exactly_the_rest(streamed, cut):
    at = int(cut * (len(streamed.frames) - 1))
    path = f"/threads/{streamed.thread_id}/runs/{streamed.run_id}"
    assert join(streamed.client, path, streamed.frames[at].id) == streamed.frames[at + 1:]


def test_a_join_without_an_id_replays_all_and_modes_filter_the_same_log(streamed):
    path = f"/threads/{streamed.thread_id}/runs/{streamed.run_id}"
    assert join(streamed.client, path) == streamed.frames
    custom = [f for f in streamed.frames if f.event in ("metadata", "custom", "end")]
    assert join(streamed.client, path, modes=["custom"]) == custom


def test_the_run_reads_back_and_its_join_answers_the_final_values(streamed):
    client, base = streamed.client, f"/threads/{streamed.thread_id}/runs"
    assert client.get(f"{base}/{streamed.run_id}").json()["status"] == "success"
    assert [run["run_id"] for run in client.get(base).json()] == [streamed.run_id]
    last_values = [frame.data for frame in streamed.frames if frame.event == "values"][-1]
    assert client.get(f"{base}/{streamed.run_id}/join").json() == last_values


def test_the_thread_its_state_and_its_history_read_back(streamed):
    client, tid = streamed.client, streamed.thread_id
    thread = client.get(f"/threads/{tid}").json()
    assert thread["status"] == "idle" and thread["values"] == client.get(f"/threads/{tid}/state").json()["values"]
    history = client.post(f"/threads/{tid}/history", json={"limit": 3}).json()
    assert len(history) == 3 and history[0]["checkpoint"]["thread_id"] == tid


def test_search_finds_the_thread_and_the_one_assistant(streamed):
    found = streamed.client.post("/threads/search", json={"metadata": {"graph_id": "netra"}}).json()
    assert [thread["thread_id"] for thread in found] == [streamed.thread_id]
    assert [a["assistant_id"] for a in streamed.client.post("/assistants/search", json={}).json()] == ["netra"]
    assert streamed.client.get("/assistants/agent").json()["graph_id"] == "netra"


REFUSALS = [  # (who, method, path, json, headers, status, code); {t}: the streamed thread, {r}: its run
    ("anonymous", "POST", "/threads", {}, {}, 401, None),
    ("anonymous", "GET", "/threads/{t}/runs/{r}/stream", None, {}, 401, None),
    ("other", "GET", "/threads/{t}", None, {}, 404, "not_found"),
    ("other", "GET", "/threads/{t}/state", None, {}, 404, "not_found"),
    ("other", "POST", "/threads/{t}/history", {}, {}, 404, "not_found"),
    ("other", "POST", "/threads/{t}/runs/stream", RUN, {}, 404, "not_found"),
    ("other", "POST", "/threads/{t}/runs", RUN, {}, 404, "not_found"),
    ("other", "GET", "/threads/{t}/runs", None, {}, 404, "not_found"),
    ("other", "GET", "/threads/{t}/runs/{r}/join", None, {}, 404, "not_found"),
    ("other", "GET", "/threads/{t}/runs/{r}/stream", None, {}, 404, "not_found"),
    ("other", "POST", "/threads/{t}/runs/{r}/cancel", None, {}, 404, "not_found"),
    ("owner", "POST", "/threads/{t}/runs/{r}/cancel", None, {}, 409, "conflict"),
    ("owner", "GET", "/assistants/nope", None, {}, 404, "not_found"),
    ("owner", "GET", "/threads/{t}/runs/{r}/stream", None, {"Last-Event-ID": "x1"}, 400, "bad_request"),
    ("owner", "GET", "/threads/{t}/runs/{r}/stream?stream_mode=tasks", None, {}, 422, "validation_failed"),
    ("owner", "POST", "/threads/{t}/runs/stream", {**RUN, "assistant_id": "nope"}, {}, 422, "validation_failed"),
    ("owner", "POST", "/threads/{t}/runs/stream", {**RUN, "input": {}}, {}, 422, "validation_failed"),
    ("owner", "POST", "/threads/{t}/runs/stream", {**RUN, "command": {"resume": 1}}, {}, 422, "validation_failed"),
    ("owner", "POST", "/threads/{t}/runs", {**RUN, "multitask_strategy": "rollback"}, {}, 422, "validation_failed"),
    ("owner", "POST", "/threads", {"thread_id": "mine"}, {}, 422, "validation_failed"),
]


@pytest.fixture(scope="module")
def stranger(served) -> httpx.Client:
    """A client of another user than the streamed run's."""
    return served.login()


@pytest.mark.parametrize("who, method, path, body, headers, status, code", REFUSALS)
def test_refusals_answer_the_one_error_shape(served, streamed, stranger, who, method, path, body, headers, status,
                                              code):
    client = {"anonymous": served.anonymous, "other": stranger, "owner": streamed.client}[who]
    url = path.format(t=streamed.thread_id, r=streamed.run_id)
    answer = client.request(method, url, json=body, headers=headers)
    assert answer.status_code == status, answer.text
    assert code is None or answer.json()["error"]["code"] == code


def _queued(client: httpx.Client, thread_id: str) -> list[str]:
    """Start a run that stays queued; refuse a second (reject); queue a third (enqueue); return their ids."""
    first = client.post(f"/threads/{thread_id}/runs", json=QUEUED)
    refused = client.post(f"/threads/{thread_id}/runs", json={**QUEUED, "multitask_strategy": "reject"})
    third = client.post(f"/threads/{thread_id}/runs", json={**QUEUED, "multitask_strategy": "enqueue"})
    assert (first.json()["status"], third.json()["status"]) == ("pending", "pending")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "thread_busy"
    return [first.json()["run_id"], third.json()["run_id"]]


def _cancelled_while_following(client: httpx.Client, path: str) -> list[Frame]:
    """Follow a queued run's stream until a heartbeat comes, cancel the run, read the stream to its end."""
    with client.stream("GET", f"{path}/stream") as stream:
        lines = stream.iter_lines()
        before = list(itertools.takewhile(lambda line: line != ": heartbeat", lines))  # only the run's end ends it
        assert client.post(f"{path}/cancel").status_code == 202
        return frames_of(("\r\n".join([*before, ": heartbeat", *lines]) + "\r\n").encode())


CANCELLED = [("metadata", "0", None), ("error", "1", "UserInterrupt"), ("end", "2", None)]


def test_a_queued_run_sends_heartbeats_then_its_cancellation(served):
    client, tid = served.new_thread()
    with served.slot_held():
        first, third = _queued(client, tid)
        frames = _cancelled_while_following(client, f"/threads/{tid}/runs/{first}")
        assert client.post(f"/threads/{tid}/runs/{third}/cancel?wait=1").json() == {}
    assert [(f.event, f.id, f.data.get("error")) for f in frames] == CANCELLED
    assert frames[2].data["status"] == client.get(f"/threads/{tid}/runs/{third}").json()["status"] == "interrupted"


async def _cancelled_run(settings: Any, store: Any, catalog: Any) -> list[dict[str, Any]]:
    """Execute a run whose cancel was set before it started; return its stream log."""
    async with world(settings, store=store, catalog=catalog) as w:
        thread_id, run_id = await records.open_run(w.resources, w.alice, OPTIMIZE)
        cancel = threading.Event()
        cancel.set()
        await execute_run(w.resources, w.alice, run_id, thread_id, OPTIMIZE, cancel=cancel)
        return await w.resources.streams.read(run_id)


@pytest.mark.parametrize("backend", ["embedded", "services"])
def test_the_service_ends_the_stream_log_of_a_cancelled_run(backend, workload, catalog, tmp_path):
    with backend_settings(backend, tmp_path) as settings:
        logged = asyncio.run(_cancelled_run(settings, workload, catalog))
    assert [(r["event"], r["metadata"]["seq"], r["metadata"].get("final", False)) for r in logged] == [
        ("error", 1, False), ("end", 2, True)]
    error, end = (json.loads(record["data"]) for record in logged)  # the log keeps each event's JSON text
    assert error["error"] == "UserInterrupt" and end["status"] == "interrupted"
