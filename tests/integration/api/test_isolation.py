"""Workspaces and users are isolated: another workspace's (or another user's) thread, message, run,
report, reference, member, key or synthetic job is answered exactly like a missing one on
every route, writes included, and never shows up in one's lists.

The route table is read from the app's OpenAPI document (every path under `ROOTS` with a path
parameter), so a route added later is walked too; a new path parameter must be added to
`PARAMS`, a new body-taking route to `BODIES`. Each attacker of `ATTACKERS` sends every route
with the victim's ids and with ids that exist nowhere: the answers must be the same (no
oracle) and never a success. The victim's own view of her records stays as it was.
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable

import httpx

from tests.integration.api.seeding import seed_run, user_id
from tests.integration.api.workspaces import FAKE_ID, acting_in, key_of, member, workspace_of

RECORD_ROOTS = ("/api/threads/", "/api/runs/", "/api/reports/", "/api/references/", "/api/synthetic/jobs/",
                "/threads/")
ROOTS = (*RECORD_ROOTS, "/api/workspaces/")
METHODS = frozenset({"get", "post", "put", "patch", "delete"})
PARAM = re.compile(r"\{(\w+)\}")
# path parameter -> which of the victim's records fills it
PARAMS = {"thread_id": "thread", "run_id": "run", "report_id": "report", "reference_id": "reference",
          "job_id": "job", "workspace_id": "workspace", "user_id": "user", "key_id": "key"}
SSE_RUN = {"assistant_id": "netra", "input": {"question": "what does the other workspace spend?"}}
# (method, path template) -> a valid JSON body (so the answer is about the record, not the body)
BODIES: dict[tuple[str, str], Any] = {
    ("post", "/api/threads/{thread_id}/messages"): {"content": "let me in"},
    ("patch", "/api/threads/{thread_id}"): {"title": "taken over", "metadata": {"owner": "bob"}},
    ("patch", "/api/references/{reference_id}"): {"name": "taken over"},
    ("post", "/api/workspaces/{workspace_id}/members"): {"email": "mallory@example.com", "role": "owner"},
    ("post", "/api/workspaces/{workspace_id}/keys"): {"name": "stolen", "scopes": ["ingest", "read"]},
    ("post", "/threads/{thread_id}/runs"): SSE_RUN,
    ("post", "/threads/{thread_id}/runs/stream"): SSE_RUN,
    ("post", "/threads/{thread_id}/history"): {},
}
# routes this suite was written for: the table read from OpenAPI must hold at least these
WRITTEN = {("get", "/api/threads/{thread_id}"), ("patch", "/api/threads/{thread_id}"),
           ("delete", "/api/threads/{thread_id}"), ("get", "/api/threads/{thread_id}/messages"),
           ("post", "/api/threads/{thread_id}/messages"), ("get", "/api/threads/{thread_id}/runs"),
           ("get", "/api/runs/{run_id}"), ("get", "/api/runs/{run_id}/agents"), ("get", "/api/runs/{run_id}/report"),
           ("get", "/api/reports/{report_id}"), ("get", "/api/reports/{report_id}/markdown"),
           ("get", "/api/reports/{report_id}/html"), ("get", "/api/references/{reference_id}"),
           ("get", "/api/synthetic/jobs/{job_id}"), ("get", "/threads/{thread_id}/state"),
           ("post", "/threads/{thread_id}/runs/{run_id}/cancel"), ("get", "/api/workspaces/{workspace_id}/members"),
           ("post", "/api/workspaces/{workspace_id}/members"), ("delete", "/api/workspaces/{workspace_id}/members/{user_id}"),
           ("post", "/api/workspaces/{workspace_id}/keys"), ("get", "/api/workspaces/{workspace_id}/keys"),
           ("delete", "/api/workspaces/{workspace_id}/keys/{key_id}")}
LISTS = ["/api/threads", "/api/reports", "/api/references", "/api/synthetic/jobs", "/api/workspaces"]
STREAMING = ("/stream", "/join")  # their answers are streams: walked, not compared as the victim's readings
JOB = {"scenario": "baseline", "events": 10, "seed": 3, "days": 1.0, "append": True}
Route = tuple[str, str]


def owned_routes(client: httpx.Client, roots: tuple[str, ...] = ROOTS) -> list[Route]:
    """Return (method, path template) of every route of a record under `roots`, from the OpenAPI document."""
    paths = client.get("/openapi.json").json()["paths"]
    return sorted((method, path) for path, operations in paths.items() if path.startswith(roots) and "{" in path
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
    """Return status and body of every GET route (the victim's view of her records)."""
    paths = [fill(path, ids) for method, path in routes if method == "get" and not path.endswith(STREAMING)]
    return {path: (answer.status_code, answer.text) for path in paths + LISTS for answer in [client.get(path)]}


def finished_job(alice: httpx.Client) -> str:
    """Start a small synthetic job in Alice's workspace; return its id once it is done."""
    location = alice.post("/api/synthetic/jobs", json=JOB).json()["location"]
    deadline = time.monotonic() + 60
    while alice.get(location).json()["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.1)
    return location.rsplit("/", 1)[1]


def victims_world(api: Any, alice: httpx.Client) -> dict[str, str]:
    """Plant a thread with a message, a run with its agent runs and report, a reference, a key and a job."""
    thread_id = alice.post("/api/threads", json={"title": "private"}).json()["id"]
    message = alice.post(f"/api/threads/{thread_id}/messages", json={"content": "secret"}).json()
    seeded, workspace = seed_run(api, user_id(alice), thread_id), workspace_of(alice)
    reference = alice.post("/api/references", json={"name": "merger memo", "content": "secret"}).json()
    return {"thread": thread_id, "message": message["id"], "run": seeded.run_id, "report": seeded.report_ids[0],
            "reference": reference["id"], "workspace": workspace, "user": user_id(alice),
            "key": key_of(alice, workspace)["id"], "job": finished_job(alice)}


def listed_ids(client: httpx.Client) -> set[str]:
    """Return every id (and parent id) in the client's lists, the Agent Server's thread search included."""
    items = [item for path in LISTS for item in client.get(path).json()["items"]]
    items += client.post("/threads/search", json={}).json()
    return {value for item in items for key, value in item.items() if key.endswith("id")}


def bob(api: Any, alice: httpx.Client) -> httpx.Client:
    """A user of another workspace (his personal one)."""
    return api.login("bob@example.com")


def vera(api: Any, alice: httpx.Client) -> httpx.Client:
    """A viewer of another workspace (Bob's)."""
    owner = api.login("bob@example.com")
    return member(api, owner, workspace_of(owner), "vera@example.com", "viewer")


def carol(api: Any, alice: httpx.Client) -> httpx.Client:
    """A member of Alice's own workspace: another user, so Alice's records are not hers either."""
    return member(api, alice, workspace_of(alice), "carol@example.com", "member")


def alice_elsewhere(api: Any, alice: httpx.Client) -> httpx.Client:
    """Alice herself, acting in another workspace of hers: records are kept per workspace."""
    side = alice.post("/api/workspaces", json={"name": "side project"}).json()["id"]
    return acting_in(api, "alice@example.com", side)


# attacker -> (how the attacker is made, the roots walked: a member of Alice's workspace may read its members)
ATTACKERS: dict[str, tuple[Callable[[Any, httpx.Client], httpx.Client], tuple[str, ...]]] = {
    "bob": (bob, ROOTS), "vera": (vera, ROOTS), "carol": (carol, RECORD_ROOTS),
    "alice elsewhere": (alice_elsewhere, RECORD_ROOTS)}


def test_route_table_covers_the_owned_routes_and_each_needs_a_token(api):
    routes = owned_routes(api.anonymous)
    assert routes and WRITTEN <= set(routes), sorted(WRITTEN - set(routes))
    assert {param for _, path in routes for param in PARAM.findall(path)} <= set(PARAMS)
    fake = dict.fromkeys(PARAMS.values(), FAKE_ID)
    assert {route: status for route, (status, _) in answers(api.anonymous, routes, fake).items()} == dict.fromkeys(
        routes, 401)


def check_attacker(attacker: httpx.Client, routes: list[Route], ids: dict[str, str]) -> dict[Route, tuple[int, str]]:
    """Assert the attacker gets the same answers with the victim's ids as with ids of nothing, never a success."""
    seen = answers(attacker, routes, ids)
    assert seen == answers(attacker, routes, dict.fromkeys(ids, FAKE_ID))
    assert all(status in (403, 404) for status, _ in seen.values()), seen
    assert not listed_ids(attacker) & (set(ids.values()) - {ids["workspace"]} - {ids["user"]})
    return seen


def test_another_workspace_finds_nothing_on_any_route(api):
    alice = api.login("alice@example.com", role="developer")
    ids, routes = victims_world(api, alice), owned_routes(alice)
    attackers = {name: (make(api, alice), roots) for name, (make, roots) in ATTACKERS.items()}
    before = readings(alice, routes, ids)
    seen = {name: check_attacker(client, owned_routes(alice, roots), ids) for name, (client, roots) in attackers.items()}
    assert set(seen["bob"].values()) == {(404, "not_found")}  # an owner of his own workspace: only "not found"
    assert readings(alice, routes, ids) == before and {status for status, _ in before.values()} == {200}


def test_another_workspace_is_not_listed_and_its_members_stay(api):
    alice, bob_ = api.login("alice@example.com"), api.login("bob@example.com")
    workspace = workspace_of(alice)
    assert workspace not in {item["id"] for item in bob_.get("/api/workspaces").json()["items"]}
    members = alice.get(f"/api/workspaces/{workspace}/members").json()["items"]
    assert [(m["email"], m["role"]) for m in members] == [("alice@example.com", "owner")]
    assert bob_.get("/api/threads", headers={"X-Netra-Workspace": workspace}).status_code == 404
