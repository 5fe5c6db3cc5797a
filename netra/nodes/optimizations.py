"""Optimizations core: propose policies, simulate each (fanned out), pick the best set.

With a model, the model's tool loop over the opportunity finders (`tool_loop.model_tools`)
runs first on the agent's first visit; its results land in `analyses` and `tool_calls`.
"""

from __future__ import annotations

from typing import Any

from langgraph.types import Send

from netra.graph.deps import Deps
from netra.graph.strategies import get_strategy
from netra.nodes._common import dump, record, scope_args
from netra.nodes.tool_loop import model_tools

_RISK_ORDER = {"low": 0, "medium": 1, "unknown": 2, "high": 3}  # unknown: no quality evidence yet


def propose(deps: Deps, request: dict) -> tuple[list[dict], dict]:
    """Run the policy proposer over the request's scope; return policies and the call record."""
    result = deps.dispatcher().run("policy_proposer", scope_args(request))
    return result.rows, record(result)


def simulate(deps: Deps, request: dict, policies: list[dict], target: float | None = None):
    """Run the policy simulator on `policies`; return the tool result."""
    args = {**scope_args(request), "policies": policies}
    return deps.dispatcher().run("policy_simulator", args | ({"target_saving_pct": target} if target else {}))


def simulate_one(deps: Deps, request: dict, policy: dict) -> dict:
    """Simulate one policy alone (the fan-out task)."""
    result = simulate(deps, request, [policy])
    return {"simulations": {policy["policy_id"]: dump(result)}, "tool_calls": [record(result)]}


def admissible(request: dict, policies: list[dict], simulations: dict) -> list[dict]:
    """Keep policies that save money alone and respect the quality constraint; best first."""
    ok = [p for p in policies if simulations.get(p["policy_id"], {}).get("figures", {})
          .get("combined_monthly_saving_usd", {}).get("value", 0) > 0]
    if request.get("preserve_quality"):
        ok = [p for p in ok if p.get("quality_risk") != "high"]
    return sorted(ok, key=lambda p: (_RISK_ORDER[p.get("quality_risk", "low")], -p["monthly_saving_usd"]))


def select(deps: Deps, state: dict) -> dict:
    """Pick the best set and simulate it together (no double counting)."""
    request = state.get("request", {})
    chosen = admissible(request, state.get("policies", []), state.get("simulations", {}))
    result = simulate(deps, request, chosen, request.get("target_saving_pct"))
    return {"recommendations": _recommendations(chosen, result.rows), "simulation": dump(result),
            "tool_calls": [record(result)], "agent_status": {"optimizations_core": "done"}}


def _recommendations(chosen: list[dict], rows: list[dict]) -> list[dict]:
    by_id = {r["policy_id"]: r for r in rows}
    return [{**p, "simulated": by_id.get(p["policy_id"], {})} for p in chosen]


def optimizations_core(deps: Deps, state: dict) -> dict:
    """Propose (and fan out simulations) on the first visit; select on the return visit."""
    if state.get("agent_status", {}).get("optimizations_core") == "running":
        return select(deps, state)
    update = _proposed(deps, state)
    if get_strategy(state.get("strategy") or deps.settings.strategy).fan_out:
        return update
    return _simulate_in_turn(deps, state, update)


def _proposed(deps: Deps, state: dict) -> dict[str, Any]:
    extra = model_tools(deps, "optimizations_core", state, [])
    policies, call = propose(deps, state.get("request", {}))
    return {**extra, "policies": policies, "tool_calls": [*extra.get("tool_calls", []), call],
            "agent_status": {"optimizations_core": "running"}}


def _simulate_in_turn(deps: Deps, state: dict, update: dict[str, Any]) -> dict:
    request = state.get("request", {})
    done = [simulate_one(deps, request, policy) for policy in update["policies"]]
    sims = {key: value for one in done for key, value in one["simulations"].items()}
    calls = [*update["tool_calls"], *(call for one in done for call in one["tool_calls"])]
    after = select(deps, {**state, **update, "simulations": sims})
    return {**update, **after, "simulations": sims, "tool_calls": calls + after["tool_calls"]}


def simulate_policy(deps: Deps, payload: dict) -> dict:
    """Simulate one `Send`-dispatched policy."""
    return simulate_one(deps, payload["request"], payload["policy"])


def route_optimizations(state: dict) -> list[Send] | str:
    """After `optimizations_core`: send each unsimulated policy to a worker, or go on."""
    if state.get("agent_status", {}).get("optimizations_core") != "running":
        return "supervisor"
    done, request = state.get("simulations", {}), state.get("request", {})
    todo = [p for p in state.get("policies", []) if p["policy_id"] not in done]
    return [Send("simulate_policy", {"policy": p, "request": request}) for p in todo] or "optimizations_core"
