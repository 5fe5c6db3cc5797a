"""Signing in to the chat page through an OpenID provider, in Chromium.

The provider (tests/support/oidc_provider.py) approves at once. The callback finishes in the page with
a one-time code in an HttpOnly cookie, which the page trades for its token with
`POST /auth/exchange`: the address never holds a token, and a link carrying one
(`/#access_token=...`, once a way to sign a victim into an attacker's account) signs no one in.
"""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest
from playwright.sync_api import expect
from pydantic import SecretStr

from tests.browser.conftest import Site, new_chat, site
from tests.browser.pages import ChatPage
from tests.integration.api.conftest import embedded_settings
from tests.support.oidc_provider import ALICE, CLIENT_ID, CLIENT_SECRET, Provider
from tests.support.servers import serving

SIGN_IN_LINK = "Sign in with your identity provider"


@pytest.fixture(scope="module")
def oidc(workload, catalog, tmp_path_factory) -> Iterator[Site]:
    """A server in OAuth mode (no dev login) whose provider is a local one."""
    provider = Provider()
    with serving(provider.app) as issuer:
        oauth = {"auth_mode": "oauth", "oauth_issuer": issuer, "oauth_client_id": CLIENT_ID,
                 "oauth_client_secret": SecretStr(CLIENT_SECRET)}
        settings = embedded_settings(tmp_path_factory.mktemp("oidc")).model_copy(update=oauth)
        with site(settings, workload, catalog) as server:
            yield server


@pytest.fixture
def oidc_chat(browser, oidc) -> Iterator[ChatPage]:
    """A signed-out page of the OAuth server."""
    yield from new_chat(browser, oidc)


def sign_in_at_the_provider(chat: ChatPage) -> None:
    """Open the page, follow its provider link, wait until it shows Alice signed in."""
    chat.open()
    chat.page.get_by_role("link", name=SIGN_IN_LINK).click()
    expect(chat.page.locator("#who")).to_have_text(ALICE["email"].lower())


def test_the_provider_sign_in_ends_signed_in_with_no_token_in_the_address(oidc_chat):
    sign_in_at_the_provider(oidc_chat)
    assert oidc_chat.page.url == oidc_chat.url + "/" and oidc_chat.token()
    assert oidc_chat.get("/auth/me").json()["email"] == ALICE["email"].lower()
    expect(oidc_chat.page.locator("#connection")).to_have_attribute("data-state", "connected")
    expect(oidc_chat.page.locator("#dev-login")).to_be_hidden()


def test_a_reload_keeps_the_provider_sign_in(oidc_chat):
    sign_in_at_the_provider(oidc_chat)
    oidc_chat.page.reload()
    expect(oidc_chat.page.locator("#who")).to_have_text(ALICE["email"].lower())


def test_a_link_carrying_a_token_signs_no_one_in(oidc_chat, oidc):
    """`/#access_token=<someone's token>`: the page ignores it and shows the sign-in."""
    planted = _someones_token(oidc)
    oidc_chat.page.goto(f"{oidc.url}/#access_token={planted}")
    expect(oidc_chat.page.get_by_role("link", name=SIGN_IN_LINK)).to_be_visible()
    assert oidc_chat.token() is None and oidc_chat.page.locator("#who").inner_text() == ""


def _someones_token(server: Site) -> str:
    """A valid token of a user of the server (the attacker's own account)."""
    with httpx.Client(base_url=server.url, follow_redirects=True) as attacker:
        attacker.get("/auth/login")
        return attacker.post("/auth/exchange").json()["access_token"]
