"""What the browser tests drive: the chat page, a relay in front of its socket, a gated model.

    chat.sign_in("ada@example.com"); chat.ask(DEFAULT_QUESTION); chat.wait_report()
    relay = chat.relay()                  # every /ws frame the page sends, and a way to cut the line
    gate.wait_called(); ...; gate.open()  # a run held inside its first model call

Every wait is bounded by a generous deadline; tests never assert durations.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from urllib.parse import urlsplit
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import httpx
from playwright.sync_api import Locator, Page, WebSocketRoute, expect

from tests.support.llm_server import Reply, ScriptedLLM

DEADLINE_S = 30.0
expect.set_options(timeout=DEADLINE_S * 1000)
QUESTION_BOX = "Ask Netra about your LLM workload"
Message = dict[str, Any]


def unique_email(name: str) -> str:
    """Return an email of a user no other test signs in as (the module's tests share a server)."""
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


class ChatPage:
    """The chat page of one browser context, at `url`."""

    def __init__(self, page: Page, url: str, workspace: Any = None) -> None:
        self.page, self.url, self.errors, self.workspace = page, url, [], workspace
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.set_default_timeout(DEADLINE_S * 1000)

    def open(self, viewport: dict[str, int] | None = None) -> None:
        """Open the page (at `viewport` when given)."""
        if viewport:
            self.page.set_viewport_size(viewport)
        self.page.goto(self.url + ("/?workspace=local" if self.workspace else "/"))

    def sign_in(self, email: str) -> None:
        """Open the page and sign in through the development login form (a member of the workload's workspace)."""
        if self.workspace:
            self.workspace.join(email)
        self.open()
        self.page.get_by_label("Email").fill(email)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.locator("#who")).to_have_text(email)

    def ask(self, question: str) -> None:
        """Type the question and press Enter."""
        box = self.page.get_by_label(QUESTION_BOX)
        box.fill(question)
        box.press("Enter")

    def report(self) -> Locator:
        """The newest report card."""
        return self.page.locator(".msg.report").last

    def wait_report(self) -> Locator:
        """Wait for the newest report's table (the recommendations); return the card."""
        expect(self.report().locator(".report-body table").first).to_be_visible()
        return self.report()

    def agents(self) -> dict[str, str]:
        """The agent panel: agent -> state."""
        return self.page.eval_on_selector_all(
            "#agent-list > li", "rows => Object.fromEntries(rows.map(r => [r.dataset.agent, r.dataset.state]))")

    def wait_agent(self, agent: str, state: str) -> None:
        """Wait until the agent panel shows `agent` in `state`."""
        expect(self.page.locator(f'#agent-list > li[data-agent="{agent}"]')).to_have_attribute("data-state", state)

    def threads(self) -> list[str]:
        """The titles in the sidebar, as listed."""
        return self.page.locator("#thread-list .thread-open").all_inner_texts()

    def token(self) -> str:
        """The bearer token the page keeps in sessionStorage."""
        return self.page.evaluate("sessionStorage.getItem('netra.token')")

    def get(self, path: str) -> httpx.Response:
        """GET an API path as the signed-in user of the page."""
        return httpx.get(self.url + path, headers=self.headers(), timeout=DEADLINE_S)

    def delete(self, path: str) -> httpx.Response:
        """DELETE an API path as the signed-in user of the page (behind the page's back)."""
        return httpx.delete(self.url + path, headers=self.headers(), timeout=DEADLINE_S)

    def headers(self) -> dict[str, str]:
        """The page's own request headers: its bearer token, and its workspace when it names one."""
        named = {"X-Netra-Workspace": "local"} if self.workspace else {}
        return {"Authorization": f"Bearer {self.token()}", **named}

    def asked(self, email: str, question: str) -> Locator:
        """Sign in, ask, wait for the report; return its card."""
        self.sign_in(email)
        self.ask(question)
        return self.wait_report()

    def relay(self, cut_after: Callable[[Message], bool] | None = None) -> "Relay":
        """Put a relay between the page and `/ws` (for connections opened from now on)."""
        relay = Relay(cut_after=cut_after)
        self.page.route_web_socket(lambda url: urlsplit(url).path == "/ws", relay)
        return relay

    def screenshot(self, path: Path, viewport: dict[str, int]) -> None:
        """Scroll the newest report's top into view and save a screenshot of the viewport."""
        self.page.set_viewport_size(viewport)
        self.page.evaluate("() => document.activeElement && document.activeElement.blur()")
        self.report().evaluate("card => card.scrollIntoView({block: 'start'})")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path))

    def assert_healthy(self) -> None:
        """No uncaught error reached the page, and the error boundary's message is hidden."""
        assert self.errors == []
        expect(self.page.locator("#fatal")).to_be_hidden()


@dataclass
class Relay:
    """Passes /ws traffic through, records what the page sends; `cut_after` drops the line once."""

    sent: list[Message] = field(default_factory=list)
    down: bool = False
    cut_after: Callable[[Message], bool] | None = None

    def __call__(self, route: WebSocketRoute) -> None:
        """Connect a new page socket to the server (or refuse it while the line is down)."""
        if self.down:
            return route.close(code=1011, reason="line down")
        server = route.connect_to_server()
        route.on_message(lambda text: self.outgoing(server, text))
        server.on_message(lambda text: self.incoming(route, text))

    def outgoing(self, server: WebSocketRoute, text: str | bytes) -> None:
        """Record and forward a frame of the page."""
        self.sent.append(json.loads(text))
        server.send(text)

    def incoming(self, route: WebSocketRoute, text: str | bytes) -> None:
        """Forward a server message; after the one `cut_after` accepts, cut the line and keep it down."""
        route.send(text)
        if self.cut_after is not None and self.cut_after(json.loads(text)):
            self.cut_after, self.down = None, True
            route.close(code=1011, reason="line cut")

    def resumes(self) -> list[Message]:
        """The `resume` frames the page sent."""
        return [frame["data"] for frame in self.sent if frame.get("action") == "resume"]


@dataclass
class Gate:
    """A scripted model whose first answer waits for `open()`: a run stays inside that call until then."""

    llm: ScriptedLLM
    seen: int = 0  # the model's requests before this gate
    opened: threading.Event = field(default_factory=threading.Event)

    def reply(self) -> Reply:
        """The gated reply: not JSON, so triage falls back to its rules once the gate opens."""
        return Reply(make=self._wait)

    def _wait(self, body: dict[str, Any]) -> Reply:
        self.opened.wait(DEADLINE_S)
        return Reply(content="not json")

    def open(self) -> None:
        """Let the held model call answer."""
        self.opened.set()

    def wait_called(self, page: Page) -> None:
        """Wait until the model was called (the run is inside that call)."""
        wait_until(page, lambda: len(self.llm.requests) > self.seen)


def wait_until(page: Page, done: Callable[[], bool]) -> None:
    """Wait until `done()` holds, letting the page (and its routes) run meanwhile; fail after the deadline.

    Waits go through `page.wait_for_timeout`: Playwright's sync API runs route handlers (the
    relay) only while the test is inside a Playwright call, so `time.sleep` would stall them.
    """
    deadline = time.monotonic() + DEADLINE_S
    while not done() and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert done(), "the condition did not hold before the deadline"
