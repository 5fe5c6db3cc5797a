"""Actions to meet goals: turn chosen policies into ordered steps with success criteria.

Steps follow the policy's provider (`netra.workloads.playbooks`: OpenAI caches a byte-identical
prefix automatically and takes a `prompt_cache_key`; Anthropic needs a `cache_control` breakpoint
with the TTL the prompt-cache replay chose; Gemini has implicit and explicit caching; each
provider's batch interface has its own steps), and each step ends with the document it follows.

Steps carry no numbers of their own: every figure in a success criterion is a value a
tool computed (the policy's saving), cited by the report. A route's criterion says quality is
kept only when the team's scores showed it within the budget (`quality_risk` "low", from
`model_routing_recommender`'s evidence); any other route must pass its shadow test first.
When the run asked for approval (`netra.graph.approval`), the agent first pauses the run with
the recommendations for the human to approve or drop; the dropped ones get no action, and the
kept ones are simulated again together (`policy_simulator`), so the report's combined and
attributed savings are the tool's figures for the set that was approved.
Titles, steps and criteria are Markdown: the policy's names, parameters and sources go in as
code spans (`netra.report.markup.code`), so a feature or model name holding Markdown shows as
literal text.
"""

from __future__ import annotations

from typing import Any

from netra.graph.approval import approved
from netra.graph.deps import Deps
from netra.nodes._common import dump, record
from netra.nodes.optimizations import simulate
from netra.report.markup import code
from netra.workloads.playbooks import cache_control, playbook, provider_family

# kind -> (title, success criterion); `{feature}`, `{model}`, `{target}`, `{cap}`: the policy's, as code
PLAYBOOK: dict[str, tuple[str, str]] = {
    "route_model": ("Route {feature} from {model} to {target}",
                    "monthly cost of {feature} falls by the saving below; {quality}"),
    "prompt_cache": ("Enable prompt caching for {feature} on {model}",
                     "cache-read tokens appear on {feature} and its monthly cost falls by the saving below"),
    "cap_max_tokens": ("Cap the output tokens of {feature} at {cap}",
                       "runaway outputs of {feature} stop and its monthly cost falls by the saving below"),
    "batch_api": ("Move {feature} to the provider's batch interface",
                  "{feature} requests are billed at batch prices; monthly saving as below"),
    "retry_budget": ("Add backoff and a retry budget to {feature}",
                     "failed billed attempts of {feature} disappear; monthly saving as below"),
}
# a route's quality risk -> what its criterion says of quality ("low": measured within the budget on both models)
QUALITY_SHOWN = "quality score of {feature} on {target} stays within the budget, as measured on both models"
QUALITY_NOT_SHOWN = ("quality is not shown kept yet: switch only once the shadow test scores {target} within the "
                     "budget of {model}")


def _fill(text: str, policy: dict[str, Any]) -> str:
    """Fill a template with the policy's names and parameters (as code) and its quality sentence."""
    params = policy.get("params", {})
    quality = QUALITY_SHOWN if policy.get("quality_risk") == "low" else QUALITY_NOT_SHOWN
    names = {"feature": code(policy["feature"]), "model": code(policy["model"]),
             "target": code(params.get("target_model", "")), "cap": code(params.get("cap", "")),
             "cache_control": cache_control(params)}
    return text.format(**names, quality=quality.format(**names))


def action_for(priority: int, policy: dict[str, Any], family: str = "") -> dict[str, Any]:
    """Return the action plan entry for one chosen policy, with the steps of its provider `family`."""
    title, criterion = PLAYBOOK[policy["kind"]]
    steps = playbook(policy["kind"], family)
    return {"priority": priority, "policy_id": policy["policy_id"], "title": _fill(title, policy),
            "provider": family, "steps": [f"{_fill(s.text, policy)} (source: {code(s.source)})" for s in steps],
            "sources": list(dict.fromkeys(s.source for s in steps)), "success_criteria": [_fill(criterion, policy)],
            "monthly_saving_usd": policy.get("simulated", {}).get("attributed_monthly_saving_usd",
                                                                  policy["monthly_saving_usd"])}


def actions_to_meet_goals(deps: Deps, state: dict) -> dict:
    """Order the chosen (and, when asked, approved) policies as optimizations ranked them."""
    policies = approved(state)
    update = resimulated(deps, state, policies) if len(policies) < len(state.get("recommendations") or []) else {}
    policies = update.get("recommendations", policies)
    families = [provider_family(deps.catalog, p["model"], p.get("params", {})) for p in policies]
    actions = [action_for(i, p, f) for i, (p, f) in enumerate(zip(policies, families), start=1)]
    return {**update, "actions": actions, "agent_status": {"actions_to_meet_goals": "done"}}


def resimulated(deps: Deps, state: dict, kept: list[dict[str, Any]]) -> dict[str, Any]:
    """Simulate the kept policies together again: their recommendations, the combined simulation, the call."""
    request = state.get("request", {})
    result = simulate(deps, request, [{k: v for k, v in p.items() if k != "simulated"} for p in kept],
                      request.get("target_saving_pct"))
    rows = {row["policy_id"]: row for row in result.rows}
    recs = [{**p, "simulated": rows.get(p["policy_id"], {})} for p in kept]
    return {"recommendations": recs, "simulation": dump(result), "tool_calls": [record(result)]}
