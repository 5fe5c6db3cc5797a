"""Readiness and degradation on a real server: PostgreSQL going away and coming back, Redis unreachable,
migrations behind the code, and the modes of a new NETRA_HOME.

PostgreSQL is reached through a small TCP proxy on 127.0.0.1: stopping the proxy closes its
listener and cuts every open connection, as a database restart would; starting it again on
the same port brings the database back. The app keeps its own engine throughout.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url

from netra.config import Settings
from netra.persistence import migrations
from netra.persistence.db import make_sync_engine
from netra.server import create_app
from tests.support.databases import fresh_pg
from tests.support.roles import grant
from tests.support.servers import serving

CLOSED_REDIS = "redis://127.0.0.1:1/0"
DEADLINE_S = 20.0
BACKEND_ERRORS = ("netra_cache_backend_errors_total", "netra_rate_limit_backend_errors_total")
SIGNED_IN_PATHS = ("/auth/me", "/api/monitoring")
CACHED_TOOL = "/api/tools/cost_analyzer"
pytestmark = pytest.mark.timeout(120)


class Proxy:
    """A TCP proxy to `target` in its own event loop thread; `start()` / `stop()` as often as needed."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.port = target, 0
        self.server: asyncio.Server | None = None
        self.links: set[asyncio.StreamWriter] = set()
        self.tasks: set[asyncio.Task] = set()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coroutine) -> None:
        """Run a coroutine on the proxy's loop and wait for it."""
        asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(DEADLINE_S)

    def start(self) -> None:
        """Listen on the proxy's port (a free one the first time)."""
        self.call(self._listen())

    def stop(self) -> None:
        """Close the listener and cut every open connection."""
        self.call(self._cut())

    def close(self) -> None:
        """Stop, then end the loop and its thread."""
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(DEADLINE_S)
        self.loop.close()

    async def _listen(self) -> None:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        for writer in list(self.links):
            writer.transport.abort()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.tasks.add(task := asyncio.current_task())
        try:
            await self._forward(reader, writer)
        finally:
            self.tasks.discard(task)
            writer.transport.abort()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self.links |= {writer, upstream_writer}
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy `reader` to `writer` until either side closes; then cut `writer`."""
    with contextlib.suppress(OSError):  # the other side was cut
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()


@contextlib.contextmanager
def running(proxy: Proxy) -> Iterator[Proxy]:
    """Start the proxy; close it after."""
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.close()


@contextlib.contextmanager
def proxied_database(postgres_url: str) -> Iterator[tuple[Proxy, str]]:
    """Yield a running proxy to PostgreSQL and the URL of a fresh database through it."""
    server = make_url(postgres_url)
    with running(Proxy((server.host or "127.0.0.1", server.port or 5432))) as proxy, \
            fresh_pg(postgres_url, "netra_ready") as url:
        yield proxy, make_url(url).set(port=proxy.port).render_as_string(hide_password=False)


def app_settings(home: Path, **fields) -> Settings:
    """Settings of one test app: SQLite under `home`, no Redis, no rate limit, dev login, unless given."""
    return Settings(**({"home": home, "redis_url": "", "rate_limit_per_minute": 0, "log_json": False,
                        "auth_mode": "dev"} | fields))


@contextlib.contextmanager
def served(settings: Settings, store, catalog) -> Iterator[httpx.Client]:
    """Serve the app of `settings` with its lifespan; yield a client of it."""
    app_of = lambda url: create_app(settings, store=store, catalog=catalog)  # noqa: E731
    with serving(app_of, lifespan="on") as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def ready_until(client: httpx.Client, status: int) -> httpx.Response:
    """Ask `/health/ready` until it answers `status` or the deadline passes; return the last answer."""
    deadline = time.monotonic() + DEADLINE_S
    answer = client.get("/health/ready")
    while answer.status_code != status and time.monotonic() < deadline:
        time.sleep(0.1)
        answer = client.get("/health/ready")
    return answer


def outage(client: httpx.Client, proxy: Proxy) -> list[httpx.Response]:
    """Return the readiness answers before the database goes away, while it is away, and once it is back."""
    before = ready_until(client, 200)
    proxy.stop()
    down = ready_until(client, 503)
    proxy.start()
    return [before, down, ready_until(client, 200)]


def test_database_down_then_back(store, catalog, postgres_url: str, tmp_path: Path):
    with proxied_database(postgres_url) as (proxy, url), \
            served(app_settings(tmp_path, database_url=url), store, catalog) as client:
        before, down, up = outage(client, proxy)
    assert [answer.status_code for answer in (before, down, up)] == [200, 503, 200]
    assert (down.json()["down"], down.json()["checks"]["database"], up.json()["down"]) == (["database"], "down", [])


def backend_errors(client: httpx.Client) -> dict[str, float]:
    """Return the totals of the Redis backend error counters of `/health/metrics`."""
    samples = [s for family in text_string_to_metric_families(client.get("/health/metrics").text)
               for s in family.samples]
    return {name: sum(s.value for s in samples if s.name == name) for name in BACKEND_ERRORS}


def signed_in_statuses(client: httpx.Client, settings: Settings) -> list[int]:
    """Sign in as an admin and make signed-in requests; return every status."""
    login = client.post("/auth/dev-login", json={"email": "ops@example.com"})
    grant(settings, "ops@example.com", "admin")
    headers = {"Authorization": f"Bearer {login.json().get('access_token', '')}"}
    tool = client.post(CACHED_TOOL, json={}, headers=headers)  # reads the tool cache (sign-ins read no cache)
    return [login.status_code, tool.status_code] + [client.get(path, headers=headers).status_code
                                                    for path in SIGNED_IN_PATHS]


def test_redis_unreachable_degrades(store, catalog, tmp_path: Path):
    settings = app_settings(tmp_path, redis_url=CLOSED_REDIS, rate_limit_per_minute=1000)
    with served(settings, store, catalog) as client:
        before = backend_errors(client)
        statuses = signed_in_statuses(client, settings)
        ready, after = client.get("/health/ready"), backend_errors(client)
    assert (statuses, ready.status_code, ready.json()["down"]) == ([200] * 4, 503, ["redis"])
    assert all(after[name] > before[name] for name in BACKEND_ERRORS), (before, after)


def get_paths(client: httpx.Client) -> list[str]:
    """Return the API's GET paths that take no path parameter (from its OpenAPI document)."""
    spec = client.get("/openapi.json").json()
    return sorted(path for path, operations in spec["paths"].items() if "get" in operations and "{" not in path)


def answers(client: httpx.Client, headers: dict[str, str], paths: list[str]) -> dict[str, int]:
    """Return the status of a GET of each path, and of the writes that need the database, keyed `POST path`."""
    writes = {f"POST {path}": client.post(path, json=body, headers=headers).status_code for path, body in WRITES}
    return {path: client.get(path, headers=headers).status_code for path in paths} | writes


WRITES = [("/api/threads", {}), ("/threads", {}), ("/auth/dev-login", {"email": "late@example.com"})]
NEEDS_DATABASE = {"/api/threads", "/auth/me", "/api/catalog", "POST /api/threads", "POST /threads", "POST /auth/dev-login"}


def bearer(client: httpx.Client, email: str) -> dict[str, str]:
    """Sign `email` in through the development login; return the Authorization header."""
    token = client.post("/auth/dev-login", json={"email": email}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def outage_answers(client: httpx.Client, proxy: Proxy) -> tuple[dict[str, int], dict[str, int]]:
    """Return every route's answer while the database is up, then once it is gone."""
    headers, paths = bearer(client, "a@example.com"), get_paths(client)
    up = answers(client, headers, paths)
    proxy.stop()
    return up, answers(client, headers, paths)


def test_every_route_that_needs_the_database_answers_503_while_it_is_gone(store, catalog, postgres_url: str,
                                                                           tmp_path: Path):
    """With PostgreSQL gone each answer is what it was, or 503 `service_unavailable`: never a 500."""
    with proxied_database(postgres_url) as (proxy, url), \
            served(app_settings(tmp_path, database_url=url), store, catalog) as client:
        up, down = outage_answers(client, proxy)
    changed = {path: status for path, status in down.items() if status != up[path] or path.startswith("POST")}
    assert set(changed.values()) == {503} and NEEDS_DATABASE <= set(changed), changed


def set_revision(url: str, revision: str | None) -> None:
    """Leave the database's `alembic_version` at `revision` (None: as if never migrated)."""
    engine = make_sync_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM alembic_version"))
        if revision is not None:
            connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:revision)"),
                               {"revision": revision})
    engine.dispose()


def previous_revision(revision: str) -> str | None:
    """Return the revision before `revision` (None: it is the first)."""
    previous = ScriptDirectory.from_config(migrations.alembic_config()).get_revision(revision).down_revision
    return previous if isinstance(previous, str) or previous is None else previous[0]


def readiness_at(client: httpx.Client, url: str, revisions: list[str | None]) -> list[httpx.Response]:
    """Return the readiness answers with the database left at each revision in turn."""
    answered = []
    for revision in revisions:
        set_revision(url, revision)
        answered.append(client.get("/health/ready"))
    return answered


def test_ready_names_migrations_behind_the_code(store, catalog, tmp_path: Path):
    """A database behind the newest revision answers 503 naming `migrations`; back at head, 200."""
    settings, head = app_settings(tmp_path), migrations.head()
    with served(settings, store, catalog) as client:
        url, revisions = settings.resolved_database_url(), [head, previous_revision(head), head]
        at_head, behind, back = readiness_at(client, url, revisions)
    assert [answer.status_code for answer in (at_head, behind, back)] == [200, 503, 200]
    assert (behind.json()["down"], behind.json()["checks"]["migrations"]) == (["migrations"], "down")


def test_a_new_home_is_private(store, catalog, tmp_path: Path):
    """NETRA_HOME is created 0700, its SQLite database 0600 (the umask would give 0755 and 0644)."""
    home = tmp_path / "new" / "home"
    with served(app_settings(home), store, catalog) as client:
        assert client.get("/health/ready").status_code == 200
    modes = [oct(path.stat().st_mode & 0o777) for path in (home.parent, home, home / "netra.db")]
    assert modes == ["0o700", "0o700", "0o600"]
