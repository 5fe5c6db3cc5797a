"""The API suite's fixtures: a real uvicorn server over each backend, and signed-in clients.

Every test that takes `api` runs twice: `embedded` (SQLite records, in-process caches and
limits) and `services` (a fresh PostgreSQL database and real Redis). The server runs with
its lifespan, so migrations and pools open exactly as in production; each test's database
is a fresh copy of one migrated once per process (tests/support/databases.py), which the server's
migration finds at head.

    def test_x(api):
        alice = api.login("alice@example.com")             # an httpx.Client with her bearer token
        admin = api.login("root@example.com", role="admin")
        assert alice.get("/api/threads").status_code == 200
        api.anonymous.get("/api/threads")                   # no token
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from netra.config import Settings
from netra.server import create_app
from tests.support import http
from tests.support.databases import migrated_pg, migrated_sqlite
from tests.support.roles import grant
from tests.support.servers import serving

TIMEOUT_S = 60.0


@dataclass
class Api:
    """A running server: its URL, its settings, and clients signed in through the dev login."""

    url: str
    settings: Settings
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, headers: dict[str, str] | None = None) -> httpx.Client:
        """Return a client of the server (closed at the end of the test)."""
        client = http.client(base_url=self.url, headers=headers or {}, timeout=TIMEOUT_S)
        self.clients.append(client)
        return client

    @property
    def anonymous(self) -> httpx.Client:
        """A client without a token."""
        return self.client()

    def token(self, email: str, role: str | None = None) -> str:
        """Sign in through `POST /auth/dev-login`, then give the user the stored `role`; return the bearer token."""
        answer = self.anonymous.post("/auth/dev-login", json={"email": email})
        assert answer.status_code == 200, answer.text
        if role:
            grant(self.settings, email, role)  # no sign-in takes a role from its request
        return answer.json()["access_token"]

    def login(self, email: str, role: str | None = None) -> httpx.Client:
        """Return a client signed in as `email` (given the stored `role` when given)."""
        return self.client({"Authorization": f"Bearer {self.token(email, role)}"})

    def close(self) -> None:
        """Close every client."""
        for client in self.clients:
            client.close()


def embedded_settings(home: Path) -> Settings:
    """Settings of one laptop: SQLite records (a copy of the migrated file when `home` has none), no Redis, dev login."""
    database = home / "netra.db"
    if not database.exists():
        migrated_sqlite(database)
    return Settings(home=home, database_url=f"sqlite:///{database}", redis_url="", auth_mode="dev",
                    rate_limit_per_minute=0, log_json=False)


@contextlib.contextmanager
def backend_settings(request: pytest.FixtureRequest, home: Path) -> Iterator[Settings]:
    """Yield the settings of `request.param`: `embedded`, or `services` (fresh PostgreSQL, real Redis)."""
    base = embedded_settings(home)
    if request.param == "embedded":
        yield base
        return
    redis_url = request.getfixturevalue("redis_url")
    with migrated_pg(request.getfixturevalue("postgres_url"), "netra_api") as url:
        yield base.model_copy(update={"database_url": url, "redis_url": redis_url})


@pytest.fixture(params=["embedded", "services"])
def api_settings(request, tmp_path) -> Iterator[Settings]:
    """The settings of the backend under test."""
    with backend_settings(request, tmp_path / f"home-{uuid.uuid4().hex[:6]}") as settings:
        yield settings


@pytest.fixture
def api(api_settings, store, catalog) -> Iterator[Api]:
    """A server over the backend under test, the session's analytics store and the packaged catalog."""
    app_of = lambda url: create_app(api_settings, store=store, catalog=catalog)  # noqa: E731
    with serving(app_of, lifespan="on") as url:
        api = Api(url, api_settings)
        yield api
        api.close()
