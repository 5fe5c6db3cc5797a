"""References over HTTP on both backends: CRUD, pages, another user's as 404, validation, 401.

Each `api` test starts a server on a fresh database, so the cases of a table run in one test.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from netra.server.routes.references import web_url

DOC = {"name": "FinOps playbook", "content": "Route simple prompts to small models."}
LINK = {"name": "Pricing page", "url": "https://openai.com/api/pricing/"}
# PATCH body -> (name, content, url) afterwards, applied in order to a reference made from DOC | LINK
CHANGES = [
    ({"name": "Playbook v2"}, ("Playbook v2", DOC["content"], LINK["url"])),
    ({"url": None}, ("Playbook v2", DOC["content"], None)),
    ({"url": "http://example.com/a?b=c", "content": ""}, ("Playbook v2", "", "http://example.com/a?b=c")),
]
# method, path, body, status: each answers 4xx, never a 500
BAD_REQUESTS: list[tuple[str, str, Any, int]] = [
    ("POST", "/api/references", {"name": "", "content": "x"}, 422),
    ("POST", "/api/references", {"name": "n" * 201, "content": "x"}, 422),
    ("POST", "/api/references", {"name": "only a name"}, 422),
    ("POST", "/api/references", {"name": "x", "url": "ftp://example.com/file"}, 422),
    ("POST", "/api/references", {"name": "x", "url": "javascript:alert(1)"}, 422),
    ("POST", "/api/references", {"name": "x", "url": "https://" + "a" * 2048}, 422),
    ("POST", "/api/references", {"name": "x", "content": "nul \u0000"}, 422),
    ("POST", "/api/references", {"name": "x", "content": "y", "user_id": "someone"}, 422),
    ("PATCH", "/api/references/{ref}", {"name": None}, 422),
    ("PATCH", "/api/references/{ref}", {"content": "", "url": None}, 400),
    ("GET", "/api/references", None, 422),
    ("GET", "/api/references/%00", None, 404),
    ("DELETE", "/api/references/" + "9" * 400, None, 404),
]


def create(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    """Create a reference; return it."""
    answer = client.post("/api/references", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


def walk(client: httpx.Client, limit: int) -> list[list[str]]:
    """Follow `next_offset` from offset 0; return the names of each page."""
    pages, offset = [], 0
    while offset is not None:
        page = client.get("/api/references", params={"limit": limit, "offset": offset}).json()
        pages.append([item["name"] for item in page["items"]])
        offset = page["next_offset"]
    return pages


def anonymous_status(api) -> int:
    """Return the status of listing references without a token."""
    return api.anonymous.get("/api/references").status_code


def check_changes(alice: httpx.Client, ref: dict[str, Any]) -> None:
    """Each PATCH sets the fields it names, in order."""
    for body, expected in CHANGES:
        changed = alice.patch(f"/api/references/{ref['id']}", json=body).json()
        assert (changed["name"], changed["content"], changed["url"]) == expected, body


def check_refusals(alice: httpx.Client, ref: dict[str, Any]) -> None:
    """Bad input answers 4xx with the error body, never a 500."""
    for method, path, body, status in BAD_REQUESTS:
        answer = alice.request(method, path.format(ref=ref["id"]), json=body, params={"limit": 0})
        assert (answer.status_code, "error" in answer.json()) == (status, True), (method, path, body, answer.text)


def check_isolation(bob: httpx.Client, ref: dict[str, Any]) -> None:
    """Another user's reference answers 404 to every method, as a missing one would."""
    for method in ("GET", "PATCH", "DELETE"):
        body = {"name": "mine"} if method == "PATCH" else None
        answer = bob.request(method, f"/api/references/{ref['id']}", json=body)
        assert (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found")


def check_pages_and_delete(alice: httpx.Client, bob: httpx.Client, ref: dict[str, Any]) -> None:
    """My references page newest first, none of them in another user's list; a deleted one is gone."""
    for n in range(2):
        create(alice, {"name": f"note {n}", "content": "text"})
    assert walk(alice, 2) == [["note 1", "note 0"], ["Playbook v2"]] and walk(bob, 2) == [[]]
    assert alice.delete(f"/api/references/{ref['id']}").status_code == 204
    assert alice.get(f"/api/references/{ref['id']}").status_code == 404


def test_crud_pages_isolation_and_refusals(api):
    """Create, read, change, list and delete my references; another user's answer 404; bad input 4xx; 401."""
    alice, bob = api.login("alice@example.com"), api.login("bob@example.com")
    ref = create(alice, DOC | LINK)
    assert (alice.get(f"/api/references/{ref['id']}").json(), anonymous_status(api)) == (ref, 401)
    check_changes(alice, ref)
    check_refusals(alice, ref)
    check_isolation(bob, ref)
    check_pages_and_delete(alice, bob, ref)


# url, whether it is accepted
URLS = [("https://example.com", True), ("HTTP://Example.com/x", True), ("https://", False),
        ("mailto:a@example.com", False), ("https://exa mple.com", False), ("//example.com", False),
        ("https://example.com/\n", False)]


@pytest.mark.parametrize(("url", "accepted"), URLS)
def test_only_absolute_web_urls(url: str, accepted: bool):
    """A url must be http(s), have a host, and hold no spaces or control characters."""
    try:
        web_url(url)
    except ValueError:
        assert not accepted
    else:
        assert accepted
