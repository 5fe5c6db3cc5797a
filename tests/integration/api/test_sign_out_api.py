"""Sign-out and roles over HTTP on both backends: durable revocations that fail closed, stored roles.

A sign-out is a row of `token_revocations` in the records database (SQLite or PostgreSQL),
so it survives any number of other sign-outs, a restart, and Redis being down; when the table
cannot be read or written, requests with a token and sign-outs answer 503, never 204 or 200.
Roles are read from the users table on every request, so a demotion or a promotion counts at once.
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

import psycopg
import pytest

from netra.errors import ConflictError
from netra.server import create_app
from netra.server.auth.tokens import Subject, issue_token, token_config
from tests.support.databases import fresh_pg
from tests.integration.api.conftest import Api, embedded_settings
from tests.support.roles import grant
from tests.support.servers import serving

OTHER_SIGN_OUTS = 520  # more than the 512 entries the in-process cache of sign-outs used to hold


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of `token`."""
    return {"Authorization": f"Bearer {token}"}


def sign_out_others(api: Api, user_id: str, count: int) -> None:
    """Sign `count` other tokens of the user out."""
    client, config = api.anonymous, token_config(api.settings)
    for _ in range(count):
        assert client.post("/auth/logout", headers=bearer(issue_token(config, Subject(user_id)))).status_code == 204


def test_a_signed_out_token_stays_refused_after_many_other_sign_outs(api):
    token, client = api.token("alice@example.com"), api.anonymous
    user_id = client.get("/auth/me", headers=bearer(token)).json()["id"]
    assert client.post("/auth/logout", headers=bearer(token)).status_code == 204
    sign_out_others(api, user_id, OTHER_SIGN_OUTS)
    answer = client.get("/auth/me", headers=bearer(token))
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "invalid_token")


def lose_revocations(api: Api) -> None:
    """Make the records database fail on `token_revocations` (the table is gone)."""
    url = api.settings.resolved_database_url()
    if url.startswith("sqlite"):
        with sqlite3.connect(api.settings.home / "netra.db") as db:
            db.execute("DROP TABLE token_revocations")
        return
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("DROP TABLE token_revocations")


def test_with_sign_outs_unreadable_tokens_are_refused_and_sign_out_is_503(api):
    """Fail closed: a token whose sign-out cannot be checked is refused, and a sign-out is never a 204 then."""
    alice = api.login("alice@example.com")
    assert alice.get("/api/threads").status_code == 200
    lose_revocations(api)
    answers = [alice.get("/api/threads"), alice.get("/auth/me"), alice.post("/auth/logout")]
    assert [(a.status_code, a.json()["error"]["code"]) for a in answers] == [(503, "service_unavailable")] * 3


@pytest.fixture
def redis_down(postgres_url, tmp_path, store, catalog) -> Iterator[Api]:
    """A server over a fresh PostgreSQL database whose Redis cannot be reached."""
    with fresh_pg(postgres_url, "netra_api") as url:
        settings = embedded_settings(tmp_path).model_copy(update={"database_url": url,
                                                                  "redis_url": "redis://127.0.0.1:1/0"})
        with serving(lambda _: create_app(settings, store=store, catalog=catalog), lifespan="on") as base:
            api = Api(base, settings)
            yield api
            api.close()


def test_sign_out_holds_with_redis_down(redis_down):
    """Sign-outs do not live in Redis: with it unreachable, a sign-out still revokes the token."""
    token = redis_down.token("alice@example.com")
    client = redis_down.anonymous
    assert client.post("/auth/logout", headers=bearer(token)).status_code == 204
    answer = client.get("/auth/me", headers=bearer(token))
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "invalid_token")


def test_a_demoted_developer_loses_monitoring_at_once(api):
    """The role is read from the users table: the developer's token stops opening /api/monitoring when demoted."""
    developer = api.login("dev@example.com", role="developer")
    assert developer.get("/api/monitoring").status_code == 200
    grant(api.settings, "dev@example.com", "user")
    answer = developer.get("/api/monitoring")
    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "forbidden")


def test_a_promoted_user_is_admin_at_once(api):
    """Promotion counts for the token already issued (no second sign-in needed)."""
    api.login("root@example.com", role="admin")
    alice = api.login("alice@example.com")
    assert alice.get("/api/admin/users").status_code == 403
    grant(api.settings, "alice@example.com", "admin")
    assert alice.get("/api/admin/users").status_code == 200


def test_the_last_admin_cannot_be_demoted_from_the_command_line(api):
    """`netra users role` refuses what the admin API refuses: no admin left (409 there, ConflictError here)."""
    api.login("root@example.com", role="admin")
    with pytest.raises(ConflictError, match="no admin"):
        grant(api.settings, "root@example.com", "user")
