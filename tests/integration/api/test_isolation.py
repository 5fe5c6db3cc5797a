"""Users are isolated: another user's thread, message, run or report is answered exactly like a
missing one (404) on every route, writes included, and never shows up in one's lists.

The route table is read from the app's OpenAPI document (every path under `/api/threads`,
`/api/runs` and `/api/reports` with a path parameter), so a route added later is walked too;
a new path parameter must be added to `PARAMS`, a new body-taking route to `BODIES`.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.integration.api.seeding import seed_run, user_id

ROOTS = ("/api/threads/", "/api/runs/", "/api/reports/")
METHODS = frozenset({"get", "post", "put", "patch", "delete"})
PARAM = re.compile(r"\{(\w+)\}")
# path parameter -> which of the victim's records fills it
PARAMS = {"thread_id": "thread", "run_id": "run", "report_id": "report"}
# (method, path template) -> a valid JSON body (so the answer is about the record, not the body)
BODIES: dict[tuple[str, str], Any] = {
    ("post", "/api/threads/{thread_id}/messages"): {"content": "let me in"},
    ("patch", "/api/threads/{thread_id}"): {"title": "taken over", "metadata": {"owner": "bob"}},
}
# routes this suite was written for: the table read from OpenAPI must hold at least these
WRITTEN = {("get", "/api/threads/{thread_id}"), ("patch", "/api/threads/{thread_id}"),
           ("delete", "/api/threads/{thread_id}"), ("get", "/api/threads/{thread_id}/messages"),
           ("post", "/api/threads/{thread_id}/messages"), ("get", "/api/threads/{thread_id}/runs"),
           ("get", "/api/runs/{run_id}"), ("get", "/api/runs/{run_id}/agents"), ("get", "/api/runs/{run_id}/report"),
           ("get", "/api/reports/{report_id}"), ("get", "/api/reports/{report_id}/markdown"),
           ("get", "/api/reports/{report_id}/html")}
LISTS = ["/api/threads", "/api/reports"]
Route = tuple[str, str]


def owned_routes(client: httpx.Client) -> list[Route]:
    """Return (method, path template) of every route of an owned record, from the OpenAPI document."""
    paths = client.get("/openapi.json").json()["paths"]
    return sorted((method, path) for path, operations in paths.items() if path.startswith(ROOTS) and "{" in path
                  for method in operations if method in METHODS)


def fill(path: str, ids: dict[str, str]) -> str:
    """Return the path with each parameter replaced by the id of its record."""
    return PARAM.sub(lambda match: ids[PARAMS[match.group(1)]], path)


def answers(client: httpx.Client, routes: list[Route], ids: dict[str, str]) -> dict[Route, tuple[int, str]]:
    """Send every route with `ids`; return each answer's status and error code ('' when none)."""
    sent = {route: client.request(route[0], fill(route[1], ids), json=BODIES.get(route)) for route in routes}
    return {route: (answer.status_code, error_code(answer)) for route, answer in sent.items()}


def error_code(answer: httpx.Response) -> str:
    """Return the code of an error body, '' for any other answer."""
    body = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else {}
    return body.get("error", {}).get("code", "") if isinstance(body, dict) else ""


def readings(client: httpx.Client, routes: list[Route], ids: dict[str, str]) -> dict[str, tuple[int, str]]:
    """Return status and body of every GET route (the victim's view of their records)."""
    paths = [fill(path, ids) for method, path in routes if method == "get"] + LISTS
    return {path: (answer.status_code, answer.text) for path in paths for answer in [client.get(path)]}


def victims_world(api: Any, client: httpx.Client) -> dict[str, str]:
    """Create a thread with a message, a run with agent runs and a report; return their ids by kind."""
    thread_id = client.post("/api/threads", json={"title": "private"}).json()["id"]
    message = client.post(f"/api/threads/{thread_id}/messages", json={"content": "secret"}).json()
    seeded = seed_run(api, user_id(client), thread_id)
    return {"thread": thread_id, "message": message["id"], "run": seeded.run_id, "report": seeded.report_ids[0],
            **{f"agent{i}": agent for i, agent in enumerate(seeded.agent_run_ids)}}


def listed_ids(client: httpx.Client) -> set[str]:
    """Return every id (and parent id) in the client's thread and report lists."""
    items = [item for path in LISTS for item in client.get(path).json()["items"]]
    return {value for item in items for key, value in item.items() if key.endswith("id")}


def test_route_table_covers_the_owned_routes_and_each_needs_a_token(api):
    routes = owned_routes(api.anonymous)
    assert routes and WRITTEN <= set(routes), sorted(WRITTEN - set(routes))
    assert {param for _, path in routes for param in PARAM.findall(path)} <= set(PARAMS)
    fake = dict.fromkeys(PARAMS.values(), "00000000-0000-4000-8000-000000000000")
    assert {route: status for route, (status, _) in answers(api.anonymous, routes, fake).items()} == dict.fromkeys(
        routes, 401)


def test_another_users_records_are_not_found_on_every_route(api):
    alice, bob = api.login("alice@example.com"), api.login("bob@example.com")
    ids, routes = victims_world(api, alice), owned_routes(alice)
    before, bobs_thread = readings(alice, routes, ids), bob.post("/api/threads", json={"title": "mine"}).json()
    assert answers(bob, routes, ids) == dict.fromkeys(routes, (404, "not_found"))
    assert listed_ids(bob) == {bobs_thread["id"]} and not listed_ids(bob) & set(ids.values())
    assert readings(alice, routes, ids) == before and {s for s, _ in before.values()} == {200}
