"""The browser suite's fixtures: Debian Chromium through Playwright's sync API, and real servers.

    def test_x(chat):                         # a signed-out page of the module's offline server
        chat.sign_in(unique_email("ada"))

Chromium is /usr/bin/chromium (never `playwright install`): missing, the tests are skipped with
the reason, except under CI=true where they fail. Playwright runs in the test's own thread (no
pytest-playwright): the sync API's dispatcher lives inside the `with sync_playwright()` block of
the module's `browser` fixture. The server (`netra`: uvicorn in a thread, lifespan on, embedded
settings, so SQLite records and the in-process run log; the WebSocket implementation
`websockets-sansio`) is shared by the module's tests, over the session's chDB store planted
with `mixed` (20k events, seed 7, 14 days); each test signs in users of its own
(`pages.unique_email`) on a fresh browser context (its own sessionStorage) at 1280x900.
`gated` is a second server whose agents call a scripted model; `gate` holds that model's next
call until the test opens it, so a run is reliably in progress while the test reloads or
stops it. The API suite's `api` fixture (both backends) is imported for the routes' tests.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from netra.config import Settings
from netra.llm.breaker import BREAKERS
from netra.server import create_app
from netra.workloads.synthetic import generate_and_load
from tests.browser.pages import ChatPage, Gate
from tests.integration.api.conftest import api, api_settings, embedded_settings  # noqa: F401  (fixtures)
from tests.support.llm_server import ScriptedLLM
from tests.support.roles import grant
from tests.support.servers import serving
from tests.support.tenants import add_to_workspace

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}
WS = "websockets-sansio"  # uvicorn's default; its `websockets` implementation warns that it is deprecated


@dataclass
class Site:
    """A running server: its URL and settings."""

    url: str
    settings: Settings


@contextlib.contextmanager
def site(settings: Settings, store: Any, catalog: Any) -> Iterator[Site]:
    """Serve the app over `settings`, the store and the catalog, lifespan on; yield it."""
    with serving(lambda url: create_app(settings, store=store, catalog=catalog), lifespan="on", ws=WS) as url:
        yield Site(url, settings)


def chromium_path() -> str:
    """Return Debian Chromium's path; skip (fail under CI=true) when it is not installed."""
    if CHROMIUM.exists():
        return str(CHROMIUM)
    reason = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true needs the browser suite")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the module."""
    path = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def workload(session_store, catalog) -> Any:
    """The session's store holding `mixed` (20k events, seed 7, 14 days), planted once for the module.

    The `store` fixture is the same store emptied per test; a server shared by the module's
    tests needs the data for the whole module, as tests/integration/test_websocket.py does.
    """
    session_store.truncate()
    generate_and_load(session_store, catalog, "mixed", 20_000, 7, 14.0)
    return session_store


@pytest.fixture(scope="module")
def netra(workload, catalog, tmp_path_factory) -> Iterator[Site]:
    """The module's server over the workload, offline agents (no model)."""
    with site(embedded_settings(tmp_path_factory.mktemp("netra")), workload, catalog) as server:
        yield server


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    """The module's scripted model server (its breaker is forgotten afterwards)."""
    scripted = ScriptedLLM()
    with serving(scripted.app):
        yield scripted
    BREAKERS.pop(scripted.base_url, None)


@pytest.fixture(scope="module")
def gated(workload, catalog, tmp_path_factory, llm) -> Iterator[Site]:
    """The module's server whose agents call the scripted model (no retries, a breaker that stays closed)."""
    model = {"llm_base_url": llm.base_url, "llm_max_retries": 0, "llm_breaker_threshold": 1000}
    settings = embedded_settings(tmp_path_factory.mktemp("gated")).model_copy(update=model)
    with site(settings, workload, catalog) as server:
        yield server


def forget_model_answers(server: Site) -> None:
    """Empty the server's LLM response cache (DELETE /api/admin/llm-cache as an admin)."""
    login = httpx.post(f"{server.url}/auth/dev-login", json={"email": "root@example.com"})
    grant(server.settings, "root@example.com", "admin")
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert httpx.delete(f"{server.url}/api/admin/llm-cache", headers=headers).status_code == 200


@pytest.fixture
def gate(llm, gated) -> Iterator[Gate]:
    """The test's gate: the model's next call waits for `gate.open()` (opened at the end in any case).

    Later calls find the script empty and fail (500): the agents then answer offline. The
    server's cache of model answers is emptied first, or an earlier test's answer would do.
    """
    forget_model_answers(gated)
    llm.replies.clear()
    held = Gate(llm=llm, seen=len(llm.requests))
    llm.script(held.reply())
    yield held
    held.open()


@dataclass(frozen=True)
class Local:
    """The workspace the site's workload is planted in (`local`, as the CLI loads): users join it."""

    settings: Settings

    def join(self, email: str) -> None:
        """Make `email` a member of `local` (created when missing)."""
        add_to_workspace(self.settings, email)


def new_chat(browser: Browser, site_: Site) -> Iterator[ChatPage]:
    """Yield a chat page on a fresh context; fail the test on any uncaught page error."""
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    chat = ChatPage(context.new_page(), site_.url, Local(site_.settings))
    try:
        yield chat
        chat.assert_healthy()
    finally:
        context.close()


@pytest.fixture
def chat(browser, netra) -> Iterator[ChatPage]:
    """A signed-out page of the offline server."""
    yield from new_chat(browser, netra)


@pytest.fixture
def gated_chat(browser, gated) -> Iterator[ChatPage]:
    """A signed-out page of the gated-model server."""
    yield from new_chat(browser, gated)
