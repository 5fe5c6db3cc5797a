"""Runs and reports over HTTP on both backends: a run with its agents, agent pages, a run's
report, the report list, and a report as JSON, markdown download and standalone HTML page."""

from __future__ import annotations

import httpx

from tests.integration.api.seeding import RunSeed, Seeded, seed_run, user_id

MARKDOWN = ("# Spend review\n\n<script>alert('owned')</script>\n\n| model | cost |\n|---|---|\n"
            "| gpt-4o | 12 € |\n\n[click](javascript:alert(1))\n")
AGENTS = ("planner", "analyst", "writer")
QUESTION = "Why is <b>spend</b> & latency up?"
# (path after /api/reports/{id}, Content-Type, Content-Disposition or None)
FORMATS = [("", "application/json", None),
           ("/markdown", "text/markdown; charset=utf-8", 'attachment; filename="netra-report-{id}.md"'),
           ("/html", "text/html; charset=utf-8", None),
           ("/html?download=1", "text/html; charset=utf-8", 'attachment; filename="netra-report-{id}.html"'),
           ("/html?download=0", "text/html; charset=utf-8", None)]
# in the HTML page: must appear / must not appear
HTML_HAS = ["<!DOCTYPE html>", "<title>Why is &lt;b&gt;spend&lt;/b&gt; &amp; latency up?</title>", "<style>",
            "<table>", "<td>12 €</td>", "&lt;script&gt;alert(", "<h1>Spend review</h1>"]
HTML_HAS_NOT = ["<script", "<b>spend", 'href="javascript:']


def seeded(api, client: httpx.Client, seed: RunSeed = RunSeed()) -> Seeded:
    """Create a thread of the client's user and plant `seed` as a run of it."""
    thread_id = client.post("/api/threads", json={"title": "runs"}).json()["id"]
    return seed_run(api, user_id(client), thread_id, seed)


def ok(client: httpx.Client, path: str) -> httpx.Response:
    """GET `path`; assert 200; return the answer."""
    answer = client.get(path)
    assert answer.status_code == 200, f"{path}: {answer.text}"
    return answer


def agent_pages(client: httpx.Client, run_id: str, limit: int) -> list[list[str]]:
    """Return the agent-run ids of each page of a run's agents, following `next_offset`."""
    pages, offset = [], 0
    while offset is not None:
        page = ok(client, f"/api/runs/{run_id}/agents?limit={limit}&offset={offset}").json()
        pages.append([agent["id"] for agent in page["items"]])
        offset = page["next_offset"]
    return pages


def test_run_shows_its_agents_newest_first(api):
    alice = api.login("alice@example.com")
    run = seeded(api, alice, RunSeed(question="Cut spend?", agents=AGENTS))
    body = ok(alice, f"/api/runs/{run.run_id}").json()
    assert (body["id"], body["question"], body["status"], body["error"]) == (run.run_id, "Cut spend?", "success", None)
    assert [(a["id"], a["agent"]) for a in body["agents"]] == list(zip(run.agent_run_ids, AGENTS))[::-1]
    assert ok(alice, f"/api/threads/{body['thread_id']}/runs").json()["items"][0]["id"] == run.run_id
    assert agent_pages(alice, run.run_id, 2) == [list(run.agent_run_ids[:0:-1]), [run.agent_run_ids[0]]]


def test_run_report_is_the_newest_and_missing_until_written(api):
    alice = api.login("alice@example.com")
    done = seeded(api, alice, RunSeed(reports=("# old", "# new")))
    pending = seeded(api, alice, RunSeed(reports=(), status="running"))
    report = ok(alice, f"/api/runs/{done.run_id}/report").json()
    assert (report["id"], report["markdown"], report["run_id"]) == (done.report_ids[1], "# new", done.run_id)
    missing = alice.get(f"/api/runs/{pending.run_id}/report")
    assert (missing.status_code, missing.json()["error"]["message"]) == (404, "run has no report yet")


def test_reports_are_listed_newest_first_and_read_as_json(api):
    alice = api.login("alice@example.com")
    ids = [report for i in range(2) for report in seeded(api, alice, RunSeed(reports=(f"# r{i}",))).report_ids]
    assert [r["id"] for r in ok(alice, "/api/reports").json()["items"]] == ids[::-1]
    body = ok(alice, f"/api/reports/{ids[0]}").json()
    assert (body["markdown"], body["structured"], body["grounded"]) == ("# r0", {"n": 0}, True)


def test_report_formats_and_download_headers(api):
    alice = api.login("alice@example.com")
    report_id = seeded(api, alice, RunSeed(reports=(MARKDOWN,))).report_ids[0]
    for suffix, media_type, disposition in FORMATS:
        answer = ok(alice, f"/api/reports/{report_id}{suffix}")
        expected = disposition.format(id=report_id) if disposition else None
        assert (answer.headers["content-type"], answer.headers.get("content-disposition")) == (media_type, expected)
    assert ok(alice, f"/api/reports/{report_id}/markdown").text == MARKDOWN


def test_report_html_is_standalone_and_escapes_raw_html(api):
    alice = api.login("alice@example.com")
    report_id = seeded(api, alice, RunSeed(question=QUESTION, reports=(MARKDOWN,))).report_ids[0]
    answer = ok(alice, f"/api/reports/{report_id}/html")
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert [part for part in HTML_HAS if part not in answer.text] == []
    assert [part for part in HTML_HAS_NOT if part in answer.text] == []
    assert "default-src 'none'" in answer.headers["content-security-policy"]
