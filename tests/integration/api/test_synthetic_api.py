"""Synthetic data jobs over HTTP on both backends: start, poll to done, analyse; roles, 404s, refusals.

Each `api` test starts a server on a fresh database, so the cases of a table run in one test.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from netra.persistence.analytics import AnalyticsStore
from netra.server.routes.synthetic import manifest_summary, scenario_out
from netra.workloads.synthetic import SCENARIOS
from tests.integration.api.seeding import workspace_of

EVENTS = 2_000
JOB = {"scenario": "mixed", "events": EVENTS, "seed": 11, "days": 3.0}
DEADLINE_S = 120.0
# body, status: refused before any job starts
BAD_JOBS = [
    ({**JOB, "scenario": "no_such_scenario"}, 400),
    ({**JOB, "days": -1}, 400),
    ({**JOB, "events": 0}, 422),
    ({**JOB, "events": 2_000_001}, 422),
    ({**JOB, "seed": -1}, 422),
    ({**JOB, "colour": "red"}, 422),
]


def finished(client: httpx.Client, location: str) -> dict[str, Any]:
    """Poll a job until it is done or failed (or the deadline passes); return its last state."""
    deadline = time.monotonic() + DEADLINE_S
    job = client.get(location).json()
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.1)
        job = client.get(location).json()
    return job


def started(client: httpx.Client, job: dict[str, Any]) -> dict[str, Any]:
    """Start a job; check the 202 answer and its Location; return the answer."""
    answer = client.post("/api/synthetic/jobs", json=job)
    body = answer.json()
    assert (answer.status_code, body["status"], answer.headers["location"]) == (202, "queued", body["location"])
    return body


def check_done(job: dict[str, Any]) -> None:
    """The job is done, every event loaded; its `mixed` manifest has every planted inefficiency and their total."""
    assert (job["status"], job["error"], job["events_done"], job["events_total"]) == ("done", None, EVENTS, EVENTS)
    manifest = job["manifest"]
    assert (manifest["scenario"], manifest["events"], len(manifest["inefficiencies"])) == ("mixed", EVENTS, 5)
    assert manifest["planted_monthly_saving_usd"] == pytest.approx(
        sum(i["monthly_saving_usd"] for i in manifest["inefficiencies"]))


def check_job_runs(dev: httpx.Client, store: AnalyticsStore) -> None:
    """A developer's job runs to done with its manifest; cost_analyzer then counts its events."""
    body = started(dev, JOB)
    check_done(finished(dev, body["location"]))
    assert dev.post("/api/tools/cost_analyzer", json={}).json()["figures"]["requests"]["value"] == EVENTS
    listed = dev.get("/api/synthetic/jobs").json()
    assert ([j["job_id"] for j in listed["items"]], listed["next_offset"]) == ([body["job_id"]], None)
    assert store.count() == EVENTS


def check_refusals(api, admin: httpx.Client, alice: httpx.Client) -> None:
    """Bad arguments answer 400 or 422; a user 403; no token 401."""
    for body, status in BAD_JOBS:
        answer = admin.post("/api/synthetic/jobs", json=body)
        assert answer.status_code == status, (body, answer.text)
    assert "unknown scenario 'no_such_scenario'" in admin.post("/api/synthetic/jobs", json=BAD_JOBS[0][0]).text
    refused = alice.post("/api/synthetic/jobs", json=JOB)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
    assert api.anonymous.post("/api/synthetic/jobs", json=JOB).status_code == 401


def check_visibility(admin: httpx.Client, dev: httpx.Client, alice: httpx.Client) -> None:
    """A job is seen in its workspace by its creator and admins only; an unknown job is 404."""
    location = started(dev, {**JOB, "events": 10, "append": True})["location"]
    assert finished(dev, location)["status"] == "done"
    assert (alice.get(location).status_code, admin.get(location).status_code) == (404, 404)
    inside = {"X-Netra-Workspace": workspace_of(dev)}  # the admin, made a viewer of the developer's workspace
    dev.post(f"/api/workspaces/{inside['X-Netra-Workspace']}/members", json={"email": "root@example.com", "role": "viewer"})
    assert admin.get(location, headers=inside).status_code == 200 and alice.get("/api/synthetic/jobs").json()["items"] == []
    assert dev.get("/api/synthetic/jobs/no-such-job").status_code == 404


def test_jobs_load_events_for_their_creators_only(api, store):
    """A job loads events the tools see; users may not start jobs; a job is its creator's and admins'."""
    admin, dev, alice = (api.login("root@example.com", role="admin"), api.login("dev@example.com", role="developer"),
                         api.login("alice@example.com"))
    check_job_runs(dev, store)
    check_refusals(api, admin, alice)
    check_visibility(admin, dev, alice)
    scenarios = alice.get("/api/synthetic/scenarios").json()["items"]
    assert [s["name"] for s in scenarios] == list(SCENARIOS)


# scenario, inefficiencies it plants
PLANTED = [("baseline", []), ("retry_storm", ["retry_storm"]),
           ("mixed", ["batchable_offline", "oversized_max_tokens", "premium_on_simple", "retry_storm",
                      "uncached_prefix"])]


@pytest.mark.parametrize(("scenario", "planted"), PLANTED)
def test_scenarios_name_what_they_plant(scenario: str, planted: list[str]):
    """A scenario lists its features' shares (summing to 1) and its planted kinds."""
    out = scenario_out(scenario)
    assert (out.planted, sum(out.features.values())) == (planted, pytest.approx(1.0))


MANIFEST = {"scenario": "s", "seed": 1, "events": 3, "days": 1.0, "start": "a", "end": "b", "span_days": 1.0,
            "catalog_version": "v", "total_cost_usd": 9.0, "monthly_cost_usd": 270.0, "features": {"f": 3},
            "inefficiencies": [{"kind": k, "feature": "f", "model": "m", "affected_events": 1, "fix": {},
                                "window_saving_usd": w, "monthly_saving_usd": w * 30}
                               for k, w in (("a", 1.0), ("b", 2.0))]}


def test_manifest_summary_totals_the_planted_savings():
    """The summary keeps the costs and each inefficiency (without its fix), and totals their savings."""
    summary = manifest_summary(MANIFEST)
    assert (summary["planted_window_saving_usd"], summary["planted_monthly_saving_usd"]) == (3.0, 90.0)
    assert "fix" not in summary["inefficiencies"][0] and summary["total_cost_usd"] == 9.0
