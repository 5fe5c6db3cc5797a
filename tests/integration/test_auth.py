"""Sign-in on real uvicorn servers: dev login, bearer checks (401/403 bodies), and a full OAuth
authorization-code flow (PKCE, RS256 id_token) against a local OpenID provider on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
from typing import Iterator
from urllib.parse import urlencode

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import SecretStr

from netra.config import Settings
from netra.server import create_app
from netra.server.auth import AuthRoute, Subject, issue_token, require_role, token_config
from netra.server.auth.records import unit_of_work
from tests.servers import serving

CLIENT_ID, CLIENT_SECRET = "netra-test", "provider-secret-" + "p" * 32
ALICE = {"sub": "op-alice", "email": "Alice@Example.com", "email_verified": True, "name": "Alice Liddell"}


class Provider:
    """A tiny OpenID provider: discovery, auto-approving authorize, token (RS256 id_token), userinfo, JWKS."""

    def __init__(self, issuer: str) -> None:
        self.issuer, self.key = issuer, rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}

    def discovery(self) -> dict:
        """The discovery document."""
        ends = {"authorization_endpoint": "authorize", "token_endpoint": "token", "userinfo_endpoint": "userinfo",
                "jwks_uri": "jwks"}
        return {"issuer": self.issuer, **{k: f"{self.issuer}/{v}" for k, v in ends.items()},
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"]}

    def jwks(self) -> dict:
        """The public signing key."""
        return {"keys": [{**jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True),
                          "kid": "k1", "use": "sig", "alg": "RS256"}]}

    def authorize(self, request: Request) -> RedirectResponse:
        """Approve at once: redirect back with a one-time code and the state."""
        query = dict(request.query_params)
        assert (query["client_id"], query["response_type"], query["code_challenge_method"]) == (CLIENT_ID, "code", "S256")
        code = secrets.token_urlsafe(16)
        self.codes[code] = query
        return RedirectResponse(f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}")

    def _id_token(self, nonce: str) -> str:
        """An id_token for Alice, signed with the provider's RSA key."""
        now = int(time.time())
        claims = {**ALICE, "iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": nonce}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})

    async def token(self, request: Request) -> JSONResponse:
        """Exchange a code: client secret (basic), redirect URI and PKCE verifier checked."""
        form, basic = await request.form(), base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        asked = self.codes.pop(str(form["code"]), None)
        if not asked or request.headers.get("authorization") != f"Basic {basic}" or not _pkce_ok(asked, form):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        return JSONResponse(self._grant(asked))

    def _grant(self, asked: dict) -> dict:
        """The token answer for an authorized request: an access token for userinfo and the id_token."""
        access = secrets.token_urlsafe(16)
        self.tokens[access] = ALICE
        return {"access_token": access, "token_type": "Bearer", "expires_in": 300,
                "id_token": self._id_token(asked["nonce"]), "scope": asked["scope"]}

    def userinfo(self, request: Request) -> JSONResponse:
        """The claims of the bearer's user."""
        return JSONResponse(self.tokens[request.headers["authorization"].split()[1]])

    def app(self) -> FastAPI:
        """The provider's ASGI app."""
        app = FastAPI()
        for path, endpoint, method in [("/.well-known/openid-configuration", self.discovery, "GET"),
                                       ("/jwks", self.jwks, "GET"), ("/authorize", self.authorize, "GET"),
                                       ("/token", self.token, "POST"), ("/userinfo", self.userinfo, "GET")]:
            app.add_api_route(path, endpoint, methods=[method])
        return app


def _pkce_ok(asked: dict, form) -> bool:
    """Whether the verifier matches the challenge and the redirect URI is the one authorized."""
    digest = hashlib.sha256(str(form.get("code_verifier", "")).encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return challenge == asked["code_challenge"] and form.get("redirect_uri") == asked["redirect_uri"]




admin_router = APIRouter(route_class=AuthRoute)
admin_router.add_api_route("/test/admin", lambda: {"ok": True}, dependencies=[Depends(require_role("admin"))])


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Settings:
    """Settings over a fresh NETRA_HOME (SQLite records DB under it)."""
    return Settings(home=tmp_path_factory.mktemp("auth-home"))


def _dev_app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    app.include_router(admin_router)
    return app


@pytest.fixture(scope="module")
def dev(home: Settings) -> Iterator[httpx.Client]:
    """A client of a server in the default dev auth mode (with an admin-only test route)."""
    with serving(lambda _: _dev_app(home)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def oauth_settings(home: Settings) -> Iterator[Settings]:
    """OAuth-mode settings whose issuer is a local OpenID provider."""
    with serving(lambda url: Provider(url).app()) as issuer:
        yield home.model_copy(update={"auth_mode": "oauth", "oauth_issuer": issuer, "oauth_client_id": CLIENT_ID,
                                      "oauth_client_secret": SecretStr(CLIENT_SECRET)})


@pytest.fixture(scope="module")
def sso(oauth_settings: Settings) -> Iterator[httpx.Client]:
    """A client (following redirects, keeping cookies) of a server in OAuth mode."""
    with serving(lambda _: create_app(oauth_settings)) as url:
        with httpx.Client(base_url=url, timeout=30, follow_redirects=True) as client:
            yield client


def _login(client: httpx.Client, email: str, role: str | None = None) -> dict:
    answer = client.post("/auth/dev-login", json={"email": email, "role": role})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_dev_login_then_me(dev):
    """A dev login answers a bearer token; /auth/me answers that user."""
    answer = _login(dev, "Bob@Example.com")
    me = dev.get("/auth/me", headers=_bearer(answer["access_token"]))
    assert me.status_code == 200 and me.json() == answer["user"]
    assert (me.json()["email"], me.json()["role"], answer["token_type"]) == ("bob@example.com", "user", "bearer")


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
def test_admin_route_needs_the_admin_role(dev, role, status):
    """A role-guarded route answers 403 `forbidden` to other roles."""
    token = _login(dev, f"{role}@example.com", role)["access_token"]
    answer = dev.get("/test/admin", headers=_bearer(token))
    assert answer.status_code == status
    assert status == 200 or answer.json()["error"]["code"] == "forbidden"


def test_dev_login_is_404_in_oauth_mode(sso):
    """With NETRA_AUTH_MODE=oauth the dev login does not exist."""
    answer = sso.post("/auth/dev-login", json={"email": "eve@example.com"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found")


async def _user_id(settings: Settings, email: str) -> tuple[str, str]:
    async with unit_of_work(settings) as uow:
        user = await uow.users.by_email(email)
        return user.id, user.name


def _netra_claims(settings: Settings, answer: httpx.Response) -> tuple[str, dict]:
    token = answer.json()["access_token"]
    return token, jwt.decode(token, token_config(settings).secret, algorithms=["HS256"])


def test_full_oauth_code_flow_signs_in_the_provider_user(sso, oauth_settings):
    """login -> provider -> callback: the answer is a Netra token for the user now in the records DB."""
    answer = sso.get("/auth/login")
    assert [r.status_code for r in answer.history] == [302, 307] and "set-cookie" in answer.history[0].headers
    token, claims = _netra_claims(oauth_settings, answer)
    user_id, name = asyncio.run(_user_id(oauth_settings, ALICE["email"]))
    assert (claims["sub"], claims["user_id"], claims["email"], name) == (user_id, user_id, "alice@example.com",
                                                                         "Alice Liddell")
    assert sso.get("/auth/me", headers=_bearer(token)).json()["id"] == user_id


def test_callback_without_login_state_is_refused(sso):
    """A callback with no matching login state (forged or replayed) is a 400 `login_failed`."""
    answer = sso.get("/auth/callback", params={"code": "forged", "state": "forged"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "login_failed")


def test_logout_clears_the_login_state(sso):
    """Logout answers 204 and expires the state cookie."""
    answer = sso.post("/auth/logout")
    assert answer.status_code == 204 and "netra_oauth_state=" in answer.headers["set-cookie"]


def test_dev_login_without_role_keeps_the_users_role(dev):
    """Signing in again without a role neither demotes nor promotes the user."""
    _login(dev, "keeper@example.com", "developer")
    answer = dev.post("/auth/dev-login", json={"email": "KEEPER@example.com"})
    assert answer.json()["user"]["role"] == "developer"
