"""Workspaces on each backend: the personal one, new ones, the header, roles, members, the last owner."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.api.workspaces import FAKE_ID, HEADER, acting_in, add_member, member, workspace_of

TOOL = ("post", "/api/tools/cost_analyzer", "{}")
# role -> (method, path ("{ws}": the workspace), JSON body) -> status the member gets
ALLOWED: dict[str, dict[tuple[str, str, str | None], int]] = {
    "viewer": {("get", "/api/threads", None): 200, ("post", "/api/threads", "{}"): 403, TOOL: 200,
               ("post", "/api/agent/run", '{"question": "why?"}'): 403, ("get", "/api/workspaces/{ws}/members", None): 200,
               ("post", "/api/workspaces/{ws}/members", '{"email": "x@example.com"}'): 403,
               ("get", "/api/workspaces/{ws}/keys", None): 403},
    "member": {("post", "/api/threads", "{}"): 201, TOOL: 200,
               ("post", "/api/workspaces/{ws}/members", '{"email": "x@example.com"}'): 403,
               ("post", "/api/workspaces/{ws}/keys", '{"name": "k"}'): 403},
    "admin": {("post", "/api/workspaces/{ws}/members", '{"email": "x@example.com", "role": "viewer"}'): 201,
              ("post", "/api/workspaces/{ws}/members", '{"email": "y@example.com", "role": "owner"}'): 403,
              ("post", "/api/workspaces/{ws}/keys", '{"name": "k"}'): 201},
    "owner": {("post", "/api/workspaces/{ws}/members", '{"email": "y@example.com", "role": "owner"}'): 201},
}


def statuses(client: httpx.Client, workspace: str, calls: dict[tuple[str, str, str | None], int]) -> dict[tuple, int]:
    """Send each call (the workspace's id in its path); return its status by call."""
    sent = {call: client.request(call[0], call[1].format(ws=workspace), content=call[2],
                                 headers={"Content-Type": "application/json"}) for call in calls}
    return {call: answer.status_code for call, answer in sent.items()}


def refusal(answer: httpx.Response) -> tuple[int, str]:
    """Return an error answer's status and code."""
    return answer.status_code, answer.json()["error"]["code"]


def test_a_user_starts_in_a_personal_workspace_and_may_found_others(api):
    alice = api.login("alice@example.com")
    [personal] = alice.get("/api/workspaces").json()["items"]
    assert (personal["personal"], personal["role"], personal["name"]) == (True, "owner", "Personal")
    team = alice.post("/api/workspaces", json={"name": "Acme"}).json()
    assert (team["personal"], team["role"]) == (False, "owner")
    assert [w["id"] for w in alice.get("/api/workspaces").json()["items"]] == [personal["id"], team["id"]]


def test_records_stay_in_the_workspace_they_were_made_in(api):
    alice = api.login("alice@example.com")
    team = alice.post("/api/workspaces", json={"name": "Acme"}).json()["id"]
    thread = acting_in(api, "alice@example.com", team).post("/api/threads", json={"title": "acme"}).json()["id"]
    assert alice.get(f"/api/threads/{thread}").status_code == 404  # the personal workspace has no such thread
    assert alice.get(f"/api/threads/{thread}", headers={HEADER: team}).status_code == 200


@pytest.mark.parametrize("role", list(ALLOWED))
def test_each_role_may_do_what_it_allows(api, role: str):
    alice = api.login("alice@example.com")
    workspace = workspace_of(alice)
    client = member(api, alice, workspace, f"{role}@example.com", role)
    calls = ALLOWED[role]
    assert statuses(client, workspace, calls) == calls


def last_owner_refusals(alice: httpx.Client, workspace: str, me: str) -> list[tuple[int, str]]:
    """Return how removing Alice, the workspace's only owner, and demoting her are answered."""
    members = f"/api/workspaces/{workspace}/members"
    return [refusal(alice.delete(f"{members}/{me}")),
            refusal(alice.post(members, json={"email": "alice@example.com", "role": "viewer"}))]


def removal(client: httpx.Client, workspace: str, user_id: str) -> int:
    """Return the status `client` gets removing the user from the workspace."""
    return client.delete(f"/api/workspaces/{workspace}/members/{user_id}").status_code


def test_a_workspace_keeps_an_owner(api):
    alice = api.login("alice@example.com")
    workspace, me = workspace_of(alice), alice.get("/auth/me").json()["id"]
    assert last_owner_refusals(alice, workspace, me) == [(409, "conflict"), (409, "conflict")]
    add_member(alice, workspace, "bob@example.com", "owner")
    assert (removal(alice, workspace, me), alice.get("/api/threads", headers={HEADER: workspace}).status_code) == (
        204, 404)


def test_members_are_removed_by_admins_and_leave_by_themselves(api):
    alice = api.login("alice@example.com")
    workspace = workspace_of(alice)
    admin, viewer = (member(api, alice, workspace, f"{role}@example.com", role) for role in ("admin", "viewer"))
    ids = {**member_ids(alice, workspace), "nobody": FAKE_ID}
    removals = [(admin, "alice", 403), (viewer, "admin", 403), (admin, "viewer", 204), (admin, "nobody", 404)]
    assert [removal(client, workspace, ids[name]) for client, name, _ in removals] == [s for *_, s in removals]
    assert viewer.get("/api/threads").status_code == 404 and admin.get("/api/threads").status_code == 200


def member_ids(client: httpx.Client, workspace: str) -> dict[str, str]:
    """Return the workspace's members' user ids by the first part of their email."""
    items = client.get(f"/api/workspaces/{workspace}/members").json()["items"]
    return {item["email"].split("@")[0]: item["user_id"] for item in items}


@pytest.mark.parametrize("header", [FAKE_ID, "x" * 37, "local", "../../local"])
def test_a_workspace_one_is_not_in_is_not_found(api, header: str):
    answer = api.login("alice@example.com").get("/api/threads", headers={HEADER: header})
    assert (answer.status_code, answer.json()["error"]["code"]) == (404, "not_found")
