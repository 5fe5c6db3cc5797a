"""OpenID Connect sign-in on real uvicorn servers against a local provider (PKCE, RS256 id_token).

The callback finishes in the page: a 303 to "/" with `Cache-Control: no-store` and a one-time
code in an HttpOnly cookie, which `POST /auth/exchange` trades for a token exactly once; no
token ever travels in a URL. Users are matched by (issuer, subject); `email_verified` must be
exactly `true`; NETRA_OAUTH_ALLOWED_DOMAINS limits the email domains; an id_token that fails
validation answers 401, never 500.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Iterator

import httpx
import jwt
import pytest
from pydantic import SecretStr

from netra.config import Settings
from netra.server import create_app
from netra.server.auth.records import unit_of_work
from netra.server.auth.tokens import token_config
from tests.support.oidc_provider import ALICE, CLIENT_ID, CLIENT_SECRET, Provider, rsa_key
from tests.support.roles import grant
from tests.support.servers import serving


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[Provider, str]]:
    """The module's OpenID provider and its issuer URL."""
    op = Provider()
    with serving(op.app) as issuer:
        yield op, issuer


@pytest.fixture(autouse=True)
def alice_next(provider) -> None:
    """Every test starts with Alice signing in with a genuine id_token."""
    provider[0].reset()


def oauth_settings(home: Any, issuer: str, **fields: Any) -> Settings:
    """OAuth-mode settings over `home` whose provider is the local one."""
    return Settings(home=home, auth_mode="oauth", oauth_issuer=issuer, oauth_client_id=CLIENT_ID,
                    oauth_client_secret=SecretStr(CLIENT_SECRET), rate_limit_per_minute=0, **fields)


@pytest.fixture(scope="module")
def settings(provider, tmp_path_factory) -> Settings:
    """The module server's settings."""
    return oauth_settings(tmp_path_factory.mktemp("oauth-home"), provider[1])


@pytest.fixture(scope="module")
def sso_url(settings) -> Iterator[str]:
    """The URL of a server in OAuth mode."""
    with serving(lambda _: create_app(settings)) as url:
        yield url


@pytest.fixture
def sso(sso_url) -> Iterator[httpx.Client]:
    """A browser-like client of the OAuth server: follows redirects, keeps cookies (its own jar per test)."""
    with httpx.Client(base_url=sso_url, timeout=30, follow_redirects=True) as client:
        yield client


def callback(client: httpx.Client) -> httpx.Response:
    """Sign in at the provider (login -> authorize -> callback); return the callback's answer."""
    answer = client.get("/auth/login")
    return answer.history[2] if len(answer.history) > 2 else answer


def signed_in(client: httpx.Client) -> dict:
    """Sign in through the provider and the page's exchange; return the exchange's answer."""
    assert callback(client).status_code == 303
    answer = client.post("/auth/exchange")
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _user(settings: Settings, email: str) -> Any:
    async with unit_of_work(settings) as uow:
        return await uow.users.by_email(email)


def test_the_callback_finishes_in_the_page_with_nothing_but_a_one_time_code(sso):
    """303 to "/" (no token in it, not to be stored), the code in an HttpOnly cookie for the exchange only."""
    answer = callback(sso)
    cookie = answer.headers["set-cookie"]
    assert (answer.status_code, answer.headers["location"], answer.headers["cache-control"]) == (303, "/", "no-store")
    assert "netra_login=" in cookie and "HttpOnly" in cookie and "Path=/auth/exchange" in cookie
    assert "samesite=lax" in cookie.lower()


def test_the_exchange_answers_a_token_of_the_providers_user(sso, settings):
    """The page's POST /auth/exchange: a token of the user the provider vouched for, the cookie cleared."""
    callback(sso)
    exchanged = sso.post("/auth/exchange")
    claims = jwt.decode(exchanged.json()["access_token"], token_config(settings).secret, algorithms=["HS256"])
    user = asyncio.run(_user(settings, ALICE["email"]))
    assert (claims["sub"], claims["email"], user.name, user.oidc_subject) == (user.id, "alice@example.com",
                                                                              "Alice Liddell", "op-alice")
    assert exchanged.headers["cache-control"] == "no-store" and "netra_login" not in sso.cookies


def test_a_one_time_code_is_used_once(sso):
    """Replaying the code's cookie after the exchange: 401 `invalid_token`."""
    callback(sso)
    code = sso.cookies.get("netra_login")
    assert sso.post("/auth/exchange").status_code == 200
    replayed = sso.post("/auth/exchange", headers={"Cookie": f"netra_login={code}"})
    assert (replayed.status_code, replayed.json()["error"]["code"]) == (401, "invalid_token")


def test_the_exchange_without_a_code_has_nothing_to_finish(sso):
    """A page load with no sign-in pending: 204, no token."""
    answer = sso.post("/auth/exchange")
    assert (answer.status_code, answer.content) == (204, b"")


def test_users_are_matched_by_issuer_and_subject_not_by_email(sso, provider, settings):
    """The same subject with a new email is the same user; another subject claiming that email is refused."""
    first = signed_in(sso)["user"]
    provider[0].person = {**ALICE, "email": "alice.new@example.com"}
    moved = signed_in(sso)["user"]
    provider[0].person = {**ALICE, "sub": "op-mallory", "email": "alice.new@example.com"}
    refused = callback(sso)
    assert (moved["id"], moved["email"]) == (first["id"], "alice.new@example.com")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "login_refused")


def test_a_user_made_by_the_cli_is_linked_at_their_first_sign_in(sso, provider, settings):
    """`netra users role boss@… admin` before the boss ever signed in: the OAuth sign-in finds and links them."""
    grant(settings, "boss@example.com", "admin")
    provider[0].person = {"sub": "op-boss", "email": "boss@example.com", "email_verified": True, "name": "Boss"}
    user = signed_in(sso)["user"]
    assert (user["email"], user["role"]) == ("boss@example.com", "admin")


@pytest.mark.parametrize("verified", [False, "true", None, 1], ids=["false", "string", "absent", "one"])
def test_email_verified_must_be_exactly_true(sso, provider, settings, verified):
    """Anything but the JSON `true` (absent, false, the string "true", 1) is refused: 403, no user made."""
    email = f"unverified-{verified}@example.com".lower()
    provider[0].person = {"sub": f"op-{verified}", "email": email, "email_verified": verified, "name": "U"}
    answer = callback(sso)
    assert (answer.status_code, answer.json()["error"]["code"]) == (403, "login_refused")
    assert asyncio.run(_user(settings, email)) is None


NOW = int(time.time())
# how the id_token is spoiled: claims laid over it, or a key the provider's JWKS does not hold
SPOILED: dict[str, dict[str, Any]] = {
    "another audience": {"tampered": {"aud": "someone-else"}},
    "expired": {"tampered": {"iat": NOW - 3600, "exp": NOW - 1800}},
    "another issuer": {"tampered": {"iss": "https://issuer.invalid"}},
    "another nonce": {"tampered": {"nonce": "replayed"}},
    "forged signature": {"signing_key": rsa_key()},
}


@pytest.mark.parametrize("case", list(SPOILED))
def test_an_id_token_that_fails_validation_is_a_401_not_a_500(sso, provider, case):
    for attribute, value in SPOILED[case].items():
        setattr(provider[0], attribute, value)
    answer = callback(sso)
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "invalid_id_token")


def test_the_allowed_domains_keep_other_emails_out(provider, tmp_path):
    """NETRA_OAUTH_ALLOWED_DOMAINS=["example.org"]: Alice (example.com) is refused, Bob (Example.ORG) signs in."""
    settings = oauth_settings(tmp_path, provider[1], oauth_allowed_domains=["example.org"])
    with serving(lambda _: create_app(settings)) as url, httpx.Client(base_url=url, follow_redirects=True) as client:
        refused = callback(client)
        provider[0].person = {"sub": "op-bob", "email": "bob@Example.ORG", "email_verified": True, "name": "Bob"}
        admitted = signed_in(client)["user"]["email"]
    assert (refused.status_code, refused.json()["error"]["code"], admitted) == (403, "login_refused", "bob@example.org")


def test_callback_without_login_state_is_refused(sso):
    """A callback with no matching login state (forged or replayed) is a 400 `login_failed`."""
    answer = sso.get("/auth/callback", params={"code": "forged", "state": "forged"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "login_failed")


def test_dev_login_is_404_in_oauth_mode(sso):
    """With NETRA_AUTH_MODE=oauth the dev login does not exist."""
    answer = sso.post("/auth/dev-login", json={"email": "eve@example.com"})
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found")


def test_logout_clears_the_login_cookies(sso):
    """Logout answers 204 and expires the state cookie and any unused one-time code."""
    cookies = sso.post("/auth/logout").headers.get_list("set-cookie")
    assert {cookie.split("=")[0] for cookie in cookies} == {"netra_oauth_state", "netra_login"}
