"""Threads over HTTP on both backends: CRUD, rename, cascade, messages, pagination, validation, 401."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.api.seeding import Seeded, seed_run, user_id

# (method, path, JSON body or None, query params): each must answer 4xx with the error body, never 500
BAD_REQUESTS = [
    ("POST", "/api/threads", {"title": "x" * 301}, {}),
    ("POST", "/api/threads", {"title": "ok", "owner": "someone"}, {}),
    ("POST", "/api/threads", {"title": 12}, {}),
    ("POST", "/api/threads", {"metadata": ["not", "an", "object"]}, {}),
    ("POST", "/api/threads", [], {}),
    ("PATCH", "/api/threads/{thread}", {}, {}),
    ("PATCH", "/api/threads/{thread}", {"title": "y" * 301}, {}),
    ("PATCH", "/api/threads/{thread}", {"title": "ok", "user_id": "x"}, {}),
    ("POST", "/api/threads/{thread}/messages", {"content": ""}, {}),
    ("POST", "/api/threads/{thread}/messages", {}, {}),
    ("POST", "/api/threads/{thread}/messages", {"content": "z" * 20_001}, {}),
    ("POST", "/api/threads/{thread}/messages", {"content": "hi", "role": "assistant"}, {}),
    ("POST", "/api/threads/{thread}/messages", {"content": "hi", "extra": 1}, {}),
    ("GET", "/api/threads", None, {"limit": 0}),
    ("GET", "/api/threads", None, {"limit": 501}),
    ("GET", "/api/threads", None, {"offset": -1}),
    ("GET", "/api/threads", None, {"limit": "many"}),
    ("GET", "/api/threads/{thread}/messages", None, {"limit": 0}),
    ("GET", "/api/threads/{thread}/runs", None, {"offset": -1}),
    ("GET", "/api/threads/%00", None, {}),
    ("GET", "/api/threads/" + "9" * 400, None, {}),
    ("DELETE", "/api/threads/no-such-thread", None, {}),
]
# body of a PATCH -> (title, metadata) afterwards, applied in order to a thread made as ("Spend review", {"team": "ml"})
CHANGES = [
    ({"title": "Q3 spend"}, ("Q3 spend", {"team": "ml"})),
    ({"metadata": {"team": "infra"}}, ("Q3 spend", {"team": "infra"})),
    ({"title": "", "metadata": {}}, ("", {})),
]
MESSAGES = [{"content": "hello"}, {"content": "again", "role": "user"}]
# what a thread's deletion takes with it
CASCADED = ["/api/threads/{thread}/messages", "/api/threads/{thread}/runs", "/api/runs/{run}",
            "/api/runs/{run}/agents", "/api/runs/{run}/report", "/api/reports/{report}"]
UNAUTHENTICATED = ["/api/threads", "/api/threads/x", "/api/threads/x/messages", "/api/threads/x/runs"]


def new_thread(client: httpx.Client, **body: Any) -> dict[str, Any]:
    """Create a thread; return it."""
    answer = client.post("/api/threads", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def walk(client: httpx.Client, path: str, limit: int) -> list[list[str]]:
    """Follow `next_offset` from offset 0; return the ids of each page."""
    pages, offset = [], 0
    while offset is not None:
        page = client.get(path, params={"limit": limit, "offset": offset}).json()
        assert (page["limit"], page["offset"]) == (limit, offset)
        pages.append([item["id"] for item in page["items"]])
        offset = page["next_offset"]
    return pages


def cascaded(thread_id: str, seeded: Seeded) -> list[str]:
    """Return the paths of what deleting the thread must take with it."""
    return [path.format(thread=thread_id, run=seeded.run_id, report=seeded.report_ids[0]) for path in CASCADED]


def statuses(client: httpx.Client, paths: list[str]) -> dict[str, int]:
    """Return the status of a GET of each path."""
    return {path: client.get(path).status_code for path in paths}


def test_threads_are_created_read_and_listed_newest_first(api):
    alice = api.login("alice@example.com")
    first = new_thread(alice, title="Spend review", metadata={"team": "ml"})
    second = new_thread(alice)
    assert (first["title"], first["metadata"], second["title"], second["metadata"]) == ("Spend review", {"team": "ml"}, "", {})
    assert "user_id" not in first and alice.get(f"/api/threads/{first['id']}").json() == first
    assert [t["id"] for t in alice.get("/api/threads").json()["items"]] == [second["id"], first["id"]]


def test_thread_is_renamed_and_its_metadata_replaced(api):
    alice = api.login("alice@example.com")
    thread = new_thread(alice, title="Spend review", metadata={"team": "ml"})
    for body, expected in CHANGES:
        changed = alice.patch(f"/api/threads/{thread['id']}", json=body).json()
        assert (changed["title"], changed["metadata"], changed["created_at"]) == (*expected, thread["created_at"]), body
    assert alice.get(f"/api/threads/{thread['id']}").json()["title"] == CHANGES[-1][1][0]


def test_deleted_thread_is_gone(api):
    alice = api.login("alice@example.com")
    thread_id = new_thread(alice)["id"]
    answers = [alice.delete(f"/api/threads/{thread_id}"), alice.get(f"/api/threads/{thread_id}"),
               alice.delete(f"/api/threads/{thread_id}"), alice.patch(f"/api/threads/{thread_id}", json={"title": "x"})]
    assert [a.status_code for a in answers] == [204, 404, 404, 404] and answers[0].content == b""
    assert answers[1].json()["error"]["code"] == "not_found"


def test_messages_are_added_and_listed_newest_first(api):
    alice = api.login("alice@example.com")
    thread_id = new_thread(alice)["id"]
    added = [alice.post(f"/api/threads/{thread_id}/messages", json=body) for body in MESSAGES]
    assert [(a.status_code, a.json()["role"], a.json()["thread_id"]) for a in added] == [(201, "user", thread_id)] * 2
    page = alice.get(f"/api/threads/{thread_id}/messages").json()
    assert [m["content"] for m in page["items"]] == [body["content"] for body in MESSAGES[::-1]]
    assert (page["limit"], page["offset"], page["next_offset"]) == (50, 0, None)


def test_delete_cascades_to_messages_runs_and_reports(api):
    alice = api.login("alice@example.com")
    thread_id = new_thread(alice)["id"]
    alice.post(f"/api/threads/{thread_id}/messages", json={"content": "hi"})
    gone = cascaded(thread_id, seed_run(api, user_id(alice), thread_id))
    assert statuses(alice, gone) == dict.fromkeys(gone, 200)
    assert alice.delete(f"/api/threads/{thread_id}").status_code == 204
    assert statuses(alice, gone) == dict.fromkeys(gone, 404) and alice.get("/api/reports").json()["items"] == []


def test_pagination_walks_threads_newest_first(api):
    alice = api.login("alice@example.com")
    made = [new_thread(alice, title=f"t{i}")["id"] for i in range(7)]
    pages = walk(alice, "/api/threads", 3)
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [thread for page in pages for thread in page] == made[::-1]


def test_unauthenticated_requests_answer_401(api):
    anonymous, forged = api.anonymous, api.client({"Authorization": "Bearer not-a-token"})
    for client, path in ((client, path) for client in (anonymous, forged) for path in UNAUTHENTICATED):
        answer = client.get(path)
        assert answer.status_code == 401 and answer.json()["error"]["code"], f"{path}: {answer.text}"
    assert anonymous.post("/api/threads", json={"title": "x"}).status_code == 401


def test_bad_requests_answer_4xx_with_the_error_body(api):
    alice = api.login("alice@example.com")
    thread_id = new_thread(alice, title="t")["id"]
    for method, template, body, params in BAD_REQUESTS:
        answer = alice.request(method, template.format(thread=thread_id), json=body, params=params)
        assert 400 <= answer.status_code < 500, f"{method} {template} {body!r:.60}: {answer.status_code}"
        assert set(answer.json()["error"]) == {"code", "message", "request_id"}, answer.text
    assert alice.get(f"/api/threads/{thread_id}").json()["title"] == "t"
