"""Actions to meet goals: turn chosen policies into ordered steps with success criteria.

Steps carry no numbers of their own: every figure in a success criterion is a value a
tool computed (the policy's saving), cited by the report.
"""

from __future__ import annotations

from typing import Any

from netra.graph.deps import Deps

# kind -> (title, steps, success criterion); `{feature}`, `{model}`, `{target}` come from the policy
PLAYBOOK: dict[str, tuple[str, list[str], str]] = {
    "route_model": ("Route `{feature}` from `{model}` to `{target}`",
                    ["Shadow-run `{target}` on a sample of `{feature}` traffic and compare answers",
                     "Send a canary share of `{feature}` to `{target}`, then all of it",
                     "Keep `{model}` as the fallback for low-confidence answers"],
                    "monthly cost of `{feature}` falls by the saving below; quality score not below today's"),
    "prompt_cache": ("Enable prompt caching for `{feature}` on `{model}`",
                     ["Move the shared system prompt of `{feature}` to the front of every request",
                      "Mark the shared prefix as cacheable (provider cache-control)",
                      "Watch cache-read tokens of `{feature}` in the usage telemetry"],
                     "cache-read tokens appear on `{feature}` and its monthly cost falls by the saving below"),
    "cap_max_tokens": ("Cap max_tokens for `{feature}` at `{cap}`",
                       ["Set max_tokens of `{feature}` to `{cap}`",
                        "Alert on finish_reason=length for `{feature}`"],
                       "runaway outputs of `{feature}` stop and its monthly cost falls by the saving below"),
    "batch_api": ("Move `{feature}` to the Batch API",
                  ["Submit the nightly `{feature}` jobs as one batch file",
                   "Collect results asynchronously before the morning"],
                  "`{feature}` requests are billed at batch prices; monthly saving as below"),
    "retry_budget": ("Add backoff and a retry budget to `{feature}`",
                     ["Retry `{feature}` with exponential backoff and jitter",
                      "Cap retries per request and raise the client timeout above the p99 latency"],
                     "failed billed attempts of `{feature}` disappear; monthly saving as below"),
}


def _fill(text: str, policy: dict[str, Any]) -> str:
    params = policy.get("params", {})
    return text.format(feature=policy["feature"], model=policy["model"],
                       target=params.get("target_model", ""), cap=params.get("cap", ""))


def action_for(priority: int, policy: dict[str, Any]) -> dict[str, Any]:
    """Return the action plan entry for one chosen policy."""
    title, steps, criterion = PLAYBOOK[policy["kind"]]
    return {"priority": priority, "policy_id": policy["policy_id"], "title": _fill(title, policy),
            "steps": [_fill(s, policy) for s in steps], "success_criteria": [_fill(criterion, policy)],
            "monthly_saving_usd": policy.get("simulated", {}).get("attributed_monthly_saving_usd",
                                                                  policy["monthly_saving_usd"])}


def actions_to_meet_goals(deps: Deps, state: dict) -> dict:
    """Order the chosen policies as optimizations ranked them (low risk, big saving first)."""
    actions = [action_for(i, p) for i, p in enumerate(state.get("recommendations", []), start=1)]
    return {"actions": actions, "agent_status": {"actions_to_meet_goals": "done"}}
