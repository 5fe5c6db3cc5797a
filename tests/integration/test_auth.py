"""The development login and bearer checks on real uvicorn servers: who may sign in, with which role.

The dev login is off unless NETRA_AUTH_MODE=dev, never takes a role from its request (a
`role` field is refused with 422), so it can neither promote anyone nor demote the last
admin; roles are stored in the users table and read from there on every request. OAuth
sign-in is tested in test_oauth.py, sign-out in api/test_sign_out_api.py.
"""

from __future__ import annotations

import time
from typing import Iterator

import httpx
import jwt
import pytest
from fastapi import APIRouter, Depends, FastAPI

from netra.config import Settings
from netra.server import create_app
from netra.server.auth import AuthRoute, Subject, issue_token, token_config
from netra.server.deps import require_role
from tests.support.roles import grant
from tests.support.servers import serving

admin_router = APIRouter(route_class=AuthRoute)
admin_router.add_api_route("/test/admin", lambda: {"ok": True}, dependencies=[Depends(require_role("admin"))])


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Settings:
    """Dev-mode settings over a fresh NETRA_HOME (SQLite records DB under it)."""
    return Settings(home=tmp_path_factory.mktemp("auth-home"), auth_mode="dev", rate_limit_per_minute=0)


def _dev_app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    app.include_router(admin_router)
    return app


@pytest.fixture(scope="module")
def dev(home: Settings) -> Iterator[httpx.Client]:
    """A client of a server with the dev login on (and an admin-only test route)."""
    with serving(lambda _: _dev_app(home)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def _login(client: httpx.Client, email: str) -> dict:
    answer = client.post("/auth/dev-login", json={"email": email})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_dev_login_then_me(dev):
    """A dev login answers a bearer token (not to be cached); /auth/me answers that user."""
    answer = dev.post("/auth/dev-login", json={"email": "Bob@Example.com"})
    me = dev.get("/auth/me", headers=_bearer(answer.json()["access_token"]))
    assert me.status_code == 200 and me.json() == answer.json()["user"]
    assert (me.json()["email"], me.json()["role"], answer.json()["token_type"]) == ("bob@example.com", "user", "bearer")
    assert answer.headers["cache-control"] == "no-store"


def test_dev_login_is_off_by_default(tmp_path, monkeypatch):
    """Without NETRA_AUTH_MODE=dev there is no password-less login: 404."""
    monkeypatch.delenv("NETRA_AUTH_MODE", raising=False)
    with serving(lambda _: create_app(Settings(home=tmp_path))) as url:
        answer = httpx.post(f"{url}/auth/dev-login", json={"email": "mallory@example.com"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found")


def _expired(settings: Settings) -> str:
    return issue_token(token_config(settings), Subject("u-x"), now=time.time() - 7200)


# headers, status, error code
REFUSED = [
    ({}, 401, "missing_token"),
    ({"Authorization": "Basic Ym9iOnB3"}, 401, "missing_token"),
    (_bearer("not.a.token"), 401, "invalid_token"),
    (_bearer(jwt.encode({"sub": "u"}, "x" * 32, algorithm="HS256")), 401, "invalid_token"),
    ("expired", 401, "token_expired"),
]


@pytest.mark.parametrize(("headers", "status", "code"), REFUSED,
                         ids=["none", "basic", "garbage", "other-secret", "expired"])
def test_bad_credentials_are_refused_with_a_json_body(dev, home, headers, status, code):
    """No or bad token: 401 with `{"error": {"code", "message"}}` and a Bearer challenge."""
    headers = _bearer(_expired(home)) if headers == "expired" else headers
    answer = dev.get("/auth/me", headers=headers)
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code)
    assert answer.json()["error"]["message"] and answer.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("role", "status"), [("user", 403), ("developer", 403), ("admin", 200)])
def test_admin_route_needs_the_stored_admin_role(dev, home, role, status):
    """A role-guarded route answers 403 `forbidden` to users whose stored role is another."""
    token = _login(dev, f"{role}@example.com")["access_token"]
    grant(home, f"{role}@example.com", role)
    answer = dev.get("/test/admin", headers=_bearer(token))
    assert answer.status_code == status
    assert status == 200 or answer.json()["error"]["code"] == "forbidden"


def test_dev_login_refuses_a_role_and_signs_nobody_in_as_admin(dev):
    """`{"email", "role": "admin"}` is a 422 naming the field: no user is created, none promoted."""
    answer = dev.post("/auth/dev-login", json={"email": "mallory@example.com", "role": "admin"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (422, "validation_failed")
    assert "role" in answer.json()["error"]["message"]
    assert _login(dev, "mallory@example.com")["user"]["role"] == "user"


def test_dev_login_cannot_demote_the_last_admin(dev, home):
    """The only admin stays admin whatever the dev login is sent; a forged `role` claim changes nothing."""
    token = _login(dev, "root@example.com")["access_token"]
    grant(home, "root@example.com", "admin")
    refused = dev.post("/auth/dev-login", json={"email": "root@example.com", "role": "user"})
    again = _login(dev, "root@example.com")
    assert refused.status_code == 422 and again["user"]["role"] == "admin"
    assert dev.get("/test/admin", headers=_bearer(token)).status_code == 200


def test_the_role_claim_of_a_token_grants_nothing(dev, home):
    """A token whose `role` claim says admin, of a user whose stored role is `user`: 403."""
    user = _login(dev, "claimant@example.com")["user"]
    forged = issue_token(token_config(home), Subject(user["id"], user["email"], "admin"))
    assert dev.get("/test/admin", headers=_bearer(forged)).status_code == 403


def test_a_demoted_admin_loses_the_role_at_once(dev, home):
    """A role change counts for tokens already issued: demoted, the same token is refused."""
    token = _login(dev, "fallen@example.com")["access_token"]
    grant(home, "heir@example.com", "admin")  # the last admin could not be demoted
    grant(home, "fallen@example.com", "admin")
    assert dev.get("/test/admin", headers=_bearer(token)).status_code == 200
    grant(home, "fallen@example.com", "user")
    assert dev.get("/test/admin", headers=_bearer(token)).status_code == 403


def test_dev_login_keeps_the_users_role(dev, home):
    """Signing in again neither demotes nor promotes the user."""
    _login(dev, "keeper@example.com")
    grant(home, "keeper@example.com", "developer")
    assert _login(dev, "KEEPER@example.com")["user"]["role"] == "developer"
