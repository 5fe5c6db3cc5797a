"""Runs in progress, in Chromium: a reload re-attaches, Stop cancels.

The server's agents call a scripted model whose first call waits for `gate.open()`, so the
run is certainly in progress (inside triage) while the test reloads the page or stops the
run; no timing is assumed. Once the gate opens, triage falls back to its rules and the other
agents answer offline (the model answers 500), so the report is the offline one.
"""

from __future__ import annotations

from playwright.sync_api import expect

from netra.cli.app import DEFAULT_QUESTION
from tests.browser.pages import ChatPage, unique_email, wait_until

PLAN = ["triage", "data", "optimizations_core", "actions_to_meet_goals", "reporting"]
ENDED_CANCELLED = {"done", "cancelled"}


def stored_seq(chat: ChatPage) -> int:
    """The last seq the page kept for its live run (sessionStorage)."""
    return chat.page.evaluate("JSON.parse(sessionStorage.getItem('netra.live')).seq")


def run_status(chat: ChatPage) -> str:
    """The status of the newest run of the page's user (REST)."""
    thread = chat.get("/api/threads").json()["items"][0]
    return chat.get(f"/api/threads/{thread['id']}/runs").json()["items"][0]["status"]


def test_a_reload_during_a_run_reattaches_and_gets_the_complete_report(gated_chat, gate):
    relay = gated_chat.relay()
    gated_chat.sign_in(unique_email("rey"))
    seen = started_run(gated_chat, gate)
    gated_chat.page.reload()
    wait_until(gated_chat.page, lambda: any(frame["after_seq"] == seen for frame in relay.resumes()))
    gate.open()
    assert_complete(gated_chat)


def started_run(chat: ChatPage, gate) -> int:
    """Ask the default question, wait until its run is inside the gated model call; return the page's seq."""
    chat.ask(DEFAULT_QUESTION)
    gate.wait_called(chat.page)
    chat.wait_agent("triage", "running")
    assert stored_seq(chat) > 0 and run_status(chat) == "running"
    return stored_seq(chat)


def assert_complete(chat: ChatPage) -> None:
    """The report with its recommendations, every planned agent done, the run a success."""
    card = chat.wait_report()
    expect(card.locator("th", has_text="monthly saving")).to_be_visible()
    assert chat.agents() == dict.fromkeys(PLAN, "done") and run_status(chat) == "success"
    expect(chat.page.get_by_role("button", name="Stop")).to_be_hidden()


def test_stop_cancels_the_run_and_the_page_says_so(gated_chat, gate):
    gated_chat.sign_in(unique_email("stu"))
    started_run(gated_chat, gate)
    gated_chat.page.get_by_role("button", name="Stop").click()
    expect(gated_chat.page.get_by_role("button", name="Stopping…")).to_be_disabled()  # acknowledged
    gate.open()
    expect(gated_chat.page.locator(".notice.error")).to_have_text("The run was cancelled.")
    assert run_status(gated_chat) == "cancelled" and {"cancelled"} <= set(gated_chat.agents().values()) <= ENDED_CANCELLED
