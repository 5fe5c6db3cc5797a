"""Human in the loop in Chromium: the approval card of a paused run, Drop selected, Approve all, a reload.

The module's tests share the offline server (`netra`) and sign in users of their own. With
"Let me approve the recommendations" ticked, the default question pauses before the actions
agent: the page shows each recommendation with the saving the tools computed and a checkbox.
Dropping one starts a new run whose report leaves it out; a reload of a paused thread shows the
card again (from the thread's state), and Approve all then gets the report of every one.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, expect

from netra.cli.app import DEFAULT_QUESTION
from tests.browser.pages import ChatPage, unique_email

CARD = "section.approval"


def paused(chat: ChatPage, name: str) -> Locator:
    """Sign in, tick the approval box, ask the default question; return the approval card once shown."""
    chat.sign_in(unique_email(name))
    chat.page.get_by_label("Let me approve the recommendations").check()
    chat.ask(DEFAULT_QUESTION)
    card = chat.page.locator(CARD).last
    expect(card.get_by_role("button", name="Approve all")).to_be_enabled()
    return card


def offered(card: Locator) -> list[str]:
    """The policy ids the card offers, in order."""
    return card.locator(".approval-item").evaluate_all("items => items.map(i => i.dataset.policy)")


def paused_payload(chat: ChatPage) -> dict[str, Any]:
    """What the newest thread of the page's user waits for (the Agent Server state), as the API has it."""
    thread = chat.get("/api/threads").json()["items"][0]
    return chat.get(f"/threads/{thread['id']}/state").json()["interrupts"][0]["value"]


def test_a_paused_run_shows_each_recommendation_with_the_tools_saving(chat):
    card = paused(chat, "pam")
    payload = paused_payload(chat)
    assert offered(card) == [rec["policy_id"] for rec in payload["recommendations"]]
    first = payload["recommendations"][0]
    expect(card.locator(".approval-item").first).to_contain_text(f"${first['monthly_saving_usd']:.2f} per month")
    expect(card.get_by_role("button", name="Drop selected")).to_be_disabled()
    assert chat.agents()["actions_to_meet_goals"] == "waiting"


def test_drop_selected_starts_a_run_whose_report_leaves_the_recommendation_out(chat):
    card = paused(chat, "dru")
    dropped = offered(card)[0]
    card.get_by_label(f"Drop {dropped}").check()
    card.get_by_role("button", name="Drop selected").click()
    expect(chat.page.locator(".msg.user").last).to_have_text(f"Drop: {dropped}")
    report = chat.wait_report()
    assert dropped not in report.inner_text() and offered(card)[1] in report.inner_text()


def test_a_reloaded_paused_thread_shows_the_card_and_approve_all_gets_every_recommendation(chat):
    ids = offered(paused(chat, "rae"))
    chat.page.reload()
    card = chat.page.locator(CARD).last
    card.get_by_role("button", name="Approve all").click()
    expect(chat.page.locator(".msg.user").last).to_have_text("Approve all recommendations")
    text = chat.wait_report().inner_text()
    assert all(policy_id in text for policy_id in ids)
