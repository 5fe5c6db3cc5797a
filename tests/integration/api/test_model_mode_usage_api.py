"""A run's model usage over HTTP: `GET /api/runs/{id}` carries what the report recorded, for its owner only."""

from __future__ import annotations

import asyncio

from netra.report.record import structured_of
from tests.integration.api.seeding import RunSeed, records, seed_run, user_id, workspace_of

TOTALS = {"calls": 6, "sent": 6, "cache_hits": 0, "retries": 1, "refusals": 1, "skipped": 0, "input_tokens": 8441,
          "cached_input_tokens": 2263, "output_tokens": 112, "reasoning_tokens": 0, "latency_ms": 109.5,
          "cost_usd": 0.00116362}
USAGE = {"model": "gpt-4o-mini", "workspace": "w/netra", "run_id": "r1", "agents": {"triage": TOTALS}, "total": TOTALS}


async def _report(url: str, workspace_id: str, owner_id: str, run_id: str, report: dict) -> None:
    async with records(url, workspace_id) as uow:
        await uow.reports.create(owner_id, run_id=run_id, markdown=report["markdown"], structured=structured_of(report))
        await uow.commit()


def planted(api, client, report: dict | None) -> str:
    """Plant a run of the client's user, with `report` (as the run service stores it) when given; return its id."""
    thread_id = client.post("/api/threads", json={"title": "usage"}).json()["id"]
    run = seed_run(api, user_id(client), thread_id, RunSeed(reports=()))
    if report is not None:
        asyncio.run(_report(api.settings.resolved_database_url(), workspace_of(client), user_id(client), run.run_id, report))
    return run.run_id


def test_a_runs_usage_is_served_with_the_run(api):
    alice, bob = api.login("alice@example.com"), api.login("bob@example.com")
    run_id = planted(api, alice, {"markdown": "# r", "usage": USAGE})
    assert alice.get(f"/api/runs/{run_id}").json()["usage"] == USAGE
    assert bob.get(f"/api/runs/{run_id}").status_code == 404


def test_a_run_without_model_calls_has_no_usage(api):
    alice = api.login("alice@example.com")
    offline, pending = planted(api, alice, {"markdown": "# r"}), planted(api, alice, None)
    assert alice.get(f"/api/runs/{offline}").json()["usage"] is None
    assert alice.get(f"/api/runs/{pending}").json()["usage"] is None
