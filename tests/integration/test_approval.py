"""Human in the loop through the run manager and the real agent graph, on both backends.

A question asked with `approval=True` pauses before the actions agent: the run ends
`interrupted` (record, terminal `interrupted` event in the log) with the recommendations on
offer, as the tools computed them. A second run of the thread continues it with a decision:
the dropped recommendation is in neither the actions nor the report, and the report's
combined saving is the simulator's figure for the kept set. Bad decisions are refused before
any run is recorded.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Iterator

import pytest

from netra.config import Settings
from netra.graph.approval import DecisionError
from netra.persistence.repositories import NotFoundError
from netra.server.runs.approvals import NotWaitingError
from netra.server.sse.state import thread_values
from netra.tenancy import LOCAL_WORKSPACE, Owner
from tests.support.graphs import OPTIMIZE, load_mixed
from tests.support.run_world import World, backend_settings, world

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module", params=["embedded", "services"])
def settings(request, tmp_path_factory) -> Iterator[Settings]:
    """The settings of the backend under test (one database per module)."""
    with backend_settings(request.param, tmp_path_factory.mktemp("approval")) as built:
        yield built


@pytest.fixture(scope="module")
def mixed(session_store, catalog) -> Any:
    """`mixed` (5,000 events) in the session's store, planted once for the module."""
    session_store.truncate()
    load_mixed(session_store, catalog, events=5_000)
    return session_store


@dataclass
class Asked:
    """A paused run: the world, the owner acting in `local`, the run's result and its thread's values."""

    w: World
    owner: Owner
    result: dict[str, Any]
    values: dict[str, Any]

    @property
    def offered(self) -> list[str]:
        """The ids of the recommendations the pause offers."""
        return [rec["policy_id"] for rec in self.result["interrupt"]["recommendations"]]

    async def decide(self, decision: Any, user: Owner | None = None) -> dict[str, Any]:
        """Continue the thread with `decision`; return the run's result and the thread's values after."""
        handle = await self.w.manager.start(user or self.owner, "", self.result["thread_id"], decision=decision)
        result = await self.w.manager.wait(handle.run_id)
        return {"result": result, "values": await values_of(self.w, self.owner, result["thread_id"]),
                "log": await self.w.log.read(handle.run_id)}


async def values_of(w: World, owner: Owner, thread_id: str) -> dict[str, Any]:
    """Return the thread's latest state values."""
    return (await thread_values(w.resources, owner.workspace_id, [thread_id]))[thread_id]


async def asked(w: World) -> Asked:
    """Ask the optimization question with approval; wait for the pause."""
    owner = Owner(w.alice.user_id, LOCAL_WORKSPACE)  # the workload is in `local`
    handle = await w.manager.start(owner, OPTIMIZE, approval=True)
    result = await w.manager.wait(handle.run_id)
    return Asked(w, owner, result, await values_of(w, owner, handle.thread_id))


def scenario(settings: Settings, mixed: Any, catalog: Any, steps: Any) -> dict[str, Any]:
    """Run `steps(asked)` after a paused run in a fresh world of the backend."""
    async def main() -> dict[str, Any]:
        async with world(settings, None, mixed, catalog) as w:
            return await steps(await asked(w))
    return asyncio.run(asyncio.wait_for(main(), 240))


async def _paused(a: Asked) -> dict[str, Any]:
    log = await a.w.log.read(a.result["run_id"])
    return {"a": a, "record": await a.w.status(a.owner, a.result["run_id"]), "last": log[-1],
            "types": [e["type"] for e in log]}


def test_a_run_asking_for_approval_pauses_before_the_actions_agent(settings, mixed, catalog):
    seen = scenario(settings, mixed, catalog, _paused)
    a, last = seen["a"], seen["last"]
    assert (a.result["status"], seen["record"]) == ("interrupted", "interrupted") and a.result["report"] is None
    assert (last["type"], last["metadata"]["final"]) == ("interrupted", True) and "error" not in seen["types"]
    assert last["data"]["interrupt"] == a.result["interrupt"] and a.values["actions"] == [] and a.offered
    simulated = {r["policy_id"]: r["simulated"]["attributed_monthly_saving_usd"] for r in a.values["recommendations"]}
    assert {r["policy_id"]: r["monthly_saving_usd"] for r in a.result["interrupt"]["recommendations"]} == simulated


async def _dropped(a: Asked) -> dict[str, Any]:
    before = a.values["simulation"]["figures"]["combined_monthly_saving_usd"]["value"]
    return {"a": a, "before": before, "after": await a.decide({"drop": a.offered[:1]})}


def test_a_dropped_recommendation_is_in_neither_the_actions_nor_the_report(settings, mixed, catalog):
    seen = scenario(settings, mixed, catalog, _dropped)
    a, after = seen["a"], seen["after"]
    assert after["result"]["status"] == "success" and after["log"][-1]["type"] == "agent_completed"
    assert after["log"][0]["data"]["decision"] == {"drop": a.offered[:1]} and after["log"][0]["data"]["resumed"]
    _check_dropped(a.offered[0], a.offered[1:], after)
    _check_resimulated(a.offered[1:], after["values"], seen["before"])


def _check_dropped(dropped: str, kept: list[str], after: dict[str, Any]) -> None:
    """The actions are the kept recommendations'; the report names each kept one and not the dropped one."""
    report = after["result"]["report"]["markdown"]
    assert [act["policy_id"] for act in after["values"]["actions"]] == kept and dropped not in report
    assert all(f"`{policy_id}`" in report for policy_id in kept)


def _check_resimulated(kept: list[str], values: dict[str, Any], before: float) -> None:
    """The combined saving is the simulator's for the kept set (a call of the run), below the first one."""
    resimulated = [c for c in values["tool_calls"] if c["tool"] == "policy_simulator"][-1]
    assert [p["policy_id"] for p in resimulated["args"]["policies"]] == kept
    combined = values["simulation"]["figures"]["combined_monthly_saving_usd"]["value"]
    assert combined == resimulated["figures"]["combined_monthly_saving_usd"]["value"] < before


async def _approved(a: Asked) -> dict[str, Any]:
    return {"a": a, "after": await a.decide(True)}


def test_approving_all_keeps_every_recommendation_and_the_first_simulation(settings, mixed, catalog):
    seen = scenario(settings, mixed, catalog, _approved)
    a, values = seen["a"], seen["after"]["values"]
    assert seen["after"]["result"]["status"] == "success"
    assert [act["policy_id"] for act in values["actions"]] == a.offered
    assert values["simulation"] == a.values["simulation"]


async def _refused(a: Asked, decision: Any, user: Owner | None = None) -> type | None:
    try:
        await a.w.manager.start(user or a.owner, "", a.result["thread_id"], decision=decision)
    except Exception as exc:  # the refusal is what is measured
        return type(exc)
    return None


async def _refusals(a: Asked) -> dict[str, Any]:
    bob = Owner(a.w.bob.user_id, LOCAL_WORKSPACE)
    bad = [{"drop": ["no-such-policy"]}, "yes", {"drop": "all"}, {"approve": [], "drop": []}, False]
    refused = [await _refused(a, decision) for decision in bad] + [await _refused(a, True, bob)]
    runs = len(a.w.manager.runs)  # only the paused run: no refused decision was recorded
    await a.decide(True)
    return {"refused": refused, "runs": runs, "again": await _refused(a, True)}


def test_bad_decisions_and_a_thread_not_waiting_are_refused(settings, mixed, catalog):
    seen = scenario(settings, mixed, catalog, _refusals)
    assert seen["refused"] == [DecisionError] * 5 + [NotFoundError] and seen["runs"] == 1
    assert seen["again"] is NotWaitingError
