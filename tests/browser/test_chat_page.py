"""The chat page in Chromium: sign in, ask, watch the agents, read the report; threads; errors.

The module's tests share one offline server (`netra`) and sign in users of their own. The
first test writes the screenshots the README and docs/web.md show (docs/screenshots/).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, expect

from netra.cli.app import DEFAULT_QUESTION
from tests.browser.pages import QUESTION_BOX, ChatPage, unique_email

PLAN = ["triage", "data", "optimizations_core", "actions_to_meet_goals", "reporting"]
SHORT = "What was the p95 latency of gpt-4o last week?"  # triage -> data -> reporting
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
DOWNLOADS = [("Download Markdown", "md", "markdown"), ("Download HTML", "html", "html?download=1")]


def newest_run(chat: ChatPage) -> dict[str, Any]:
    """The newest run of the newest thread of the page's user, with its agent runs (REST)."""
    thread = chat.get("/api/threads").json()["items"][0]
    run = chat.get(f"/api/threads/{thread['id']}/runs").json()["items"][0]
    return chat.get(f"/api/runs/{run['id']}").json()


def recommendations(card: Locator) -> Locator:
    """The report's recommendations table."""
    return card.locator("table").filter(has=card.page.locator("th", has_text="monthly saving"))


def test_the_default_question_runs_every_planned_agent_and_shows_the_report(chat):
    card = chat.asked(unique_email("ada"), DEFAULT_QUESTION)
    assert_every_planned_agent_done(chat)
    assert_report(card)
    screenshots(chat)
    assert_tool_details(chat)
    assert_downloads(chat, card.get_attribute("data-report-id"))
    assert_reopens(chat)


def assert_every_planned_agent_done(chat: ChatPage) -> None:
    """The run succeeded, its agent runs are the plan, and the panel shows each of them done."""
    run = newest_run(chat)
    assert run["status"] == "success" and sorted(agent["agent"] for agent in run["agents"]) == sorted(PLAN)
    assert chat.agents() == dict.fromkeys(PLAN, "done")


def assert_report(card: Locator) -> None:
    """Recommendations with their figures' provenance, the action plan, the spend chart."""
    table = recommendations(card)
    expect(table.locator("tbody tr").first).to_be_visible()
    provenance = table.locator(".figure").first.get_attribute("data-provenance")
    assert provenance.startswith("attributed monthly saving: policy_simulator (policy_simulator-")
    expect(card.locator("h4", has_text="Action plan")).to_be_visible()
    expect(card.locator('svg[data-chart="spend"] rect[data-model]').first).to_be_visible()


def assert_tool_details(chat: ChatPage) -> None:
    """A tool call of the data agent opens to show its arguments and figures."""
    tool = chat.page.locator('#agent-list li[data-agent="data"] .tool').filter(has_text="cost_analyzer").first
    tool.locator("summary").click()
    expect(tool.locator(".tool-args")).to_be_visible()
    expect(tool.locator(".tool-figures")).to_contain_text("total_cost_usd")


def assert_downloads(chat: ChatPage, report_id: str) -> None:
    """Both download buttons save exactly what the API answers, under the API's file names."""
    for label, suffix, path in DOWNLOADS:
        with chat.page.expect_download() as download:
            chat.report().get_by_role("button", name=label).click()
        assert download.value.suggested_filename == f"netra-report-{report_id}.{suffix}"
        assert Path(download.value.path()).read_text() == chat.get(f"/api/reports/{report_id}/{path}").text


def screenshots(chat: ChatPage) -> None:
    """Save the finished report at desktop and phone widths."""
    chat.screenshot(SCREENSHOTS / "report-desktop.png", DESKTOP)
    chat.screenshot(SCREENSHOTS / "report-phone.png", PHONE)


def assert_reopens(chat: ChatPage) -> None:
    """A reload comes back to the thread: its report, and its agents as the records have them."""
    chat.page.reload()
    expect(chat.page.locator("#thread-title")).to_have_text(DEFAULT_QUESTION)
    chat.wait_report()
    expect(chat.page.locator("#agent-list > li")).to_have_count(len(PLAN))
    assert chat.agents() == dict.fromkeys(PLAN, "done")


def data_update(message: dict[str, Any]) -> bool:
    """Whether a server message is a `sub_agent_update` of the data agent."""
    return message["type"] == "sub_agent_update" and message["data"]["agent"] == "data"


def test_a_dropped_socket_reconnects_and_resumes_from_the_last_seq(chat):
    relay = chat.relay(cut_after=data_update)
    chat.sign_in(unique_email("dee"))
    chat.ask(SHORT)
    expect(chat.page.locator("#connection")).to_have_attribute("data-state", "reconnecting")
    relay.down = False  # the line is back: the next attempt connects
    chat.wait_report()
    assert relay.resumes()[-1]["after_seq"] > 0 and set(chat.agents().values()) == {"done"}


def rename_new_thread(chat: ChatPage, title: str) -> None:
    """Create a thread with the sidebar's button and rename it inline to `title`."""
    chat.page.locator("#new-thread").click()
    chat.page.locator(".thread.current").get_by_role("button", name="Rename “New thread”").click()
    chat.page.get_by_label("Thread title").fill(title)
    chat.page.get_by_label("Thread title").press("Enter")
    expect(chat.page.locator(".thread.current .thread-open")).to_have_text(title)
    expect(chat.page.locator("#thread-title")).to_have_text(title)


def test_threads_are_created_renamed_and_deleted(chat):
    chat.sign_in(unique_email("alice"))
    rename_new_thread(chat, "Alice's plans")
    rename_new_thread(chat, "Scratch")
    chat.page.once("dialog", lambda dialog: dialog.accept())
    chat.page.get_by_role("button", name="Delete “Scratch”").click()
    expect(chat.page.locator("#thread-list .thread-open")).to_have_text(["Alice's plans"])
    assert [thread["title"] for thread in chat.get("/api/threads").json()["items"]] == ["Alice's plans"]


def test_another_users_sidebar_does_not_show_my_thread(chat):
    chat.sign_in(unique_email("alice"))
    rename_new_thread(chat, "Alice's plans")
    alice_thread = chat.page.locator(".thread.current").get_attribute("data-thread-id")
    chat.page.get_by_role("button", name="Sign out").click()
    chat.sign_in(unique_email("bob"))
    expect(chat.page.locator("#no-threads")).to_be_visible()
    assert chat.threads() == [] and chat.get(f"/api/threads/{alice_thread}").status_code == 404


def test_a_refused_question_shows_in_the_thread(chat):
    chat.sign_in(unique_email("ada"))
    chat.page.locator("#new-thread").click()
    thread_id = chat.page.locator(".thread.current").get_attribute("data-thread-id")
    assert chat.delete(f"/api/threads/{thread_id}").status_code == 204  # gone behind the page's back
    chat.ask(SHORT)
    expect(chat.page.locator(".notice.error")).to_contain_text("The run failed (not_found)")
    expect(chat.page.get_by_role("button", name="Send")).to_be_enabled()


def test_an_uncaught_error_shows_a_message_instead_of_a_blank_page(chat):
    chat.sign_in(unique_email("ada"))
    chat.page.evaluate("() => { setTimeout(() => { throw new Error('boom in a handler'); }); }")
    expect(chat.page.locator("#fatal")).to_contain_text("boom in a handler")
    chat.page.get_by_role("button", name="Dismiss").click()
    expect(chat.page.locator("#fatal")).to_be_hidden()
    chat.errors.clear()  # thrown on purpose


def type_and_enter(chat: ChatPage, label: str, text: str) -> None:
    """Check that the field labelled `label` has the focus, type `text` and press Enter."""
    expect(chat.page.get_by_label(label)).to_be_focused()
    chat.page.keyboard.type(text)
    chat.page.keyboard.press("Enter")


def test_the_page_works_from_the_keyboard_at_phone_width(chat):
    chat.open(PHONE)
    type_and_enter(chat, "Email", joined(chat, unique_email("kay")))
    type_and_enter(chat, QUESTION_BOX, SHORT)
    chat.wait_report()
    expect(chat.page.locator("#agent-status[aria-live=polite]")).to_contain_text("reporting")
    assert chat.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    open_threads(chat)


def joined(chat: ChatPage, email: str) -> str:
    """Make `email` a member of the workload's workspace, which the page opens in; return it."""
    chat.workspace.join(email)
    return email


def open_threads(chat: ChatPage) -> None:
    """Open the thread list from the header's button (phones) and check it says so."""
    toggle = chat.page.get_by_role("button", name="Threads", exact=True)
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(chat.page.locator("#sidebar")).to_be_visible()
