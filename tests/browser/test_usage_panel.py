"""The chat page's "Model usage" panel in Chromium: what the runs API reports, and nothing offline.

A model-mode server (its agents call the scripted OpenAI-compatible server through the real
`ChatOpenAI` client) answers the default question; the panel must show, per agent and in
total, the tokens and cost `GET /api/runs/{id}` reports. The offline server's run made no
model call: the panel says so, and shows no cost at all.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from playwright.sync_api import Locator, expect

from netra.cli.app import DEFAULT_QUESTION
from tests.browser.conftest import Site, forget_model_answers, new_chat, site
from tests.browser.pages import ChatPage, unique_email
from tests.integration.api.conftest import embedded_settings
from tests.integration.test_model_mode import OPTIMIZE_TRIAGE, grounded_prose
from tests.support.llm_server import Reply, ScriptedLLM
from tests.support.servers import serving

STRUCTURED = frozenset({"json_schema", "json_object"})
REPLIES = 40  # more than a run asks for: whatever order the agents call in, each finds an answer
def answer(body: dict[str, Any]) -> Reply:
    """Answer any model call of a run: triage's JSON, the report's grounded prose, else a closing text."""
    if (body.get("response_format") or {}).get("type") in STRUCTURED:
        return Reply(content=json.dumps(OPTIMIZE_TRIAGE))
    if "Figures (JSON):" in str(body["messages"][-1].get("content")):
        return grounded_prose(body)
    return Reply(content="The figures are in.")


@pytest.fixture(scope="module")
def model(workload, catalog, tmp_path_factory) -> Iterator[tuple[Site, ScriptedLLM]]:
    """The module's model-mode server and its scripted model (no retries)."""
    scripted = ScriptedLLM()
    with serving(scripted.app):
        settings = embedded_settings(tmp_path_factory.mktemp("usage")).model_copy(
            update={"llm_base_url": scripted.base_url, "llm_max_retries": 0})
        with site(settings, workload, catalog) as server:
            yield server, scripted


@pytest.fixture
def model_chat(browser, model) -> Iterator[ChatPage]:
    """A signed-out page of the model-mode server, whose model answers every call of one run afresh."""
    server, scripted = model
    forget_model_answers(server)
    scripted.replies.clear()
    scripted.script(*(Reply(make=answer) for _ in range(REPLIES)))
    yield from new_chat(browser, server)


def newest_run(chat: ChatPage) -> dict[str, Any]:
    """The newest run of the page user's newest thread, as `GET /api/runs/{id}` answers it."""
    thread = chat.get("/api/threads").json()["items"][0]
    run = chat.get(f"/api/threads/{thread['id']}/runs").json()["items"][0]
    return chat.get(f"/api/runs/{run['id']}").json()


def cost_text(totals: dict[str, Any]) -> str:
    """The cost cell the panel must show: a measured cost only for calls that carried tokens."""
    if not totals["sent"] or totals["input_tokens"] + totals["output_tokens"] == 0:
        return "no tokens"
    return "not priced" if totals["cost_usd"] is None else f"${totals['cost_usd']:.4f}"


def expected_row(agent: str, totals: dict[str, Any]) -> list[str]:
    """The row of `agent` as the panel must write it from the API's totals: name and calls, input, output, cost."""
    calls = f"{totals['calls']} call{'' if totals['calls'] == 1 else 's'}"
    hits = f", {totals['cache_hits']} from cache" if totals["cache_hits"] else ""
    cached = f"\n{totals['cached_input_tokens']:,} cached" if totals["cached_input_tokens"] else ""
    return [f"{agent}\n{calls}{hits}", f"{totals['input_tokens']:,}{cached}", f"{totals['output_tokens']:,}",
            cost_text(totals)]


def row(panel: Locator, agent: str) -> list[str]:
    """The cells of the panel's row of `agent`, its name first."""
    return panel.locator(f'tr[data-agent="{agent}"] > *').all_inner_texts()


def assert_rows(panel: Locator, usage: dict[str, Any]) -> None:
    """The panel has a row per agent of the usage and a total row, written from the API's totals, and the model."""
    for agent, totals in {**usage["agents"], "total": usage["total"]}.items():
        assert row(panel, agent) == expected_row(agent, totals), agent
    assert panel.locator("tbody tr").count() == len(usage["agents"])
    expect(panel).to_contain_text(f"model {usage['model']}")


def test_the_panel_shows_each_agents_tokens_and_cost_as_the_runs_api_reports(model_chat):
    model_chat.asked(unique_email("ada"), DEFAULT_QUESTION)
    panel = model_chat.page.locator("#usage-panel")
    expect(panel.locator("tfoot tr")).to_be_visible()
    usage = newest_run(model_chat)["usage"]
    assert usage["total"]["sent"] >= 4 and usage["total"]["input_tokens"] > 0 and usage["total"]["cost_usd"] > 0
    assert set(usage["agents"]) == {"triage", "data", "optimizations_core", "reporting"}
    assert_rows(panel, usage)


def test_an_offline_run_shows_no_model_calls_and_no_cost(chat):
    chat.asked(unique_email("bo"), DEFAULT_QUESTION)
    panel = chat.page.locator("#usage-panel")
    expect(panel.locator(".usage-none")).to_have_text("No model calls: this run answered offline, without a model.")
    assert newest_run(chat)["usage"] is None
    assert "$" not in panel.inner_text() and panel.locator("table").count() == 0
