"""Apex tool (optimization): a staged rollout plan for policies, with thresholds taken from the data.

`rollout_planner` takes the given policies (or `optimal_policy_proposer`'s chosen set) and, for
each one, gives the canary stages (`STAGES`; shadow only where the model's output changes),
how long each stage must run to see its minimum requests at the pair's observed request rate,
the metrics to watch for its kind (`WATCH`) with thresholds derived from the scoped events of
its (feature, model) (`RULES`), and its rollback conditions (`ROLLBACK`, replaced per provider by
`PROVIDER_ROLLBACK` where the provider's caching or batch interface decides what to check and do;
the provider family is `playbooks.provider_family`'s, each row names the document it follows).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from pydantic import Field

from netra.tools._sql import Queries, empty, finish, ratio
from netra.tools.base import ToolContext, ToolResult
from netra.tools.findings import Policy
from netra.tools.policy_optimal import optimal_set
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope
from netra.workloads.catalog import PriceCatalog
from netra.workloads.playbooks import TOOLS_DOC, playbook, provider_family

TOOL = "rollout_planner"
BATCH_WINDOW_H = 24.0  # providers' Batch API completion window

# stage -> (users' traffic %, share of the pair's requests observed %, minimum requests, minimum hours)
STAGES: tuple[tuple[str, float, float, int, float], ...] = (
    ("shadow", 0, 10, 200, 24), ("canary_5", 5, 5, 200, 24), ("canary_25", 25, 25, 500, 24),
    ("full", 100, 100, 1000, 48))
SHADOW_KINDS = frozenset({"route_model", "cap_max_tokens"})  # the output changes: compare it offline first

WATCH: dict[str, tuple[str, ...]] = {
    "route_model": ("quality_score", "p95_latency_ms", "error_rate", "cost_per_request_usd"),
    "prompt_cache": ("cache_read_share", "p95_latency_ms", "error_rate", "cost_per_request_usd"),
    "cap_max_tokens": ("truncation_rate", "quality_score", "error_rate", "cost_per_request_usd"),
    "batch_api": ("batch_completion_hours", "error_rate", "cost_per_request_usd"),
    "retry_budget": ("error_rate", "p95_latency_ms", "cost_per_request_usd"),
}

Limit = Callable[[Any, dict[str, Any]], "float | None"]
# metric -> (unit, healthy comparison, baseline from the pair's stats, threshold from (args, stats))
RULES: dict[str, tuple[str, str, Callable[[dict[str, Any]], Any], Limit]] = {
    "p95_latency_ms": ("ms", "<=", lambda s: s["p95_latency_ms"],
                       lambda a, s: s["p95_latency_ms"] * (1 + a.latency_tolerance_pct / 100)),
    "error_rate": ("ratio", "<=", lambda s: s["error_rate"], lambda a, s: s["error_rate"] + a.error_rate_margin),
    "quality_score": ("score", ">=", lambda s: s["quality_score"],
                      lambda a, s: None if s["quality_score"] is None else s["quality_score"] - a.quality_budget),
    "cost_per_request_usd": ("USD", "<=", lambda s: s["cost_per_request_usd"], lambda a, s: s["cost_per_request_usd"]),
    "cache_read_share": ("ratio", ">", lambda s: s["cache_read_share"], lambda a, s: s["cache_read_share"]),
    "truncation_rate": ("ratio", "<=", lambda s: s["truncation_rate"],
                        lambda a, s: min(s.get("over_cap_share", 0.0) + a.error_rate_margin, 1.0)),
    "batch_completion_hours": ("h", "<=", lambda s: None, lambda a, s: BATCH_WINDOW_H),
}
BREACH = {"<=": ">", ">=": "<", ">": "<="}

COMMON_ROLLBACK = ("any watched metric breaches its threshold in two consecutive checks",
                   "return to the previous stage (0% from the first canary) and investigate")
ROLLBACK: dict[str, tuple[tuple[str, str], ...]] = {
    "route_model": (("shadow answers of {target} fall below the quality floor", "do not start the canary; "
                     "keep {model}"),),
    "prompt_cache": (("cache-read share has not risen by the end of canary_5", "hold: put the shared prefix "
                      "first and make it at least the provider's minimum cacheable length"),),
    "cap_max_tokens": (("truncation rate above its ceiling", "raise the cap above {cap} or remove it"),),
    "batch_api": (("a batch is not complete within 24 h", "send its requests interactively and pause "
                   "the Batch API route"),),
    "retry_budget": (("failures seen by users rise above the error-rate ceiling", "restore the previous retry "
                      "count"),),
}
_NO_CACHE_READS = "cache-read share has not risen by the end of canary_5"
_OPENAI_HOLD = "hold: put the static prefix first and keep it byte-identical across requests"
_GOOGLE_HOLD = (_NO_CACHE_READS, "hold: put the shared content first and send requests that share it close "
                                 "together, or reference an explicit cache")
_GOOGLE_BATCH = ("the batch job has not succeeded within 24 h", "send its requests interactively and pause the "
                 "batch route")
# (kind, provider family) -> the kind's rollback row for that provider (its document: `playbooks.playbook`)
PROVIDER_ROLLBACK: dict[tuple[str, str], tuple[str, str]] = {
    ("prompt_cache", "openai"): (_NO_CACHE_READS, _OPENAI_HOLD + ", and send a stable prompt_cache_key"),
    ("prompt_cache", "azure"): (_NO_CACHE_READS, _OPENAI_HOLD),
    ("prompt_cache", "anthropic"): (_NO_CACHE_READS, "hold: end the static prefix with a cache_control breakpoint "
                                    "(TTL {ttl}) and keep everything before it byte-identical"),
    ("prompt_cache", "gemini"): _GOOGLE_HOLD,
    ("prompt_cache", "vertex_ai"): _GOOGLE_HOLD,
    ("batch_api", "openai"): ("a batch is not completed within its 24h completion window (status expired)",
                              "send its requests interactively and pause the Batch API route"),
    ("batch_api", "azure"): ("a global batch is not completed within its 24h target turnaround",
                             "send its requests interactively and pause the batch deployment route"),
    ("batch_api", "anthropic"): ("a Message Batch ends with expired requests (not processed within 24 h)",
                                 "send the expired requests interactively and pause the Message Batches route"),
    ("batch_api", "gemini"): _GOOGLE_BATCH,
    ("batch_api", "vertex_ai"): _GOOGLE_BATCH,
}

PAIR_SQL = """SELECT feature, model, count() AS requests,
    quantileExact(0.95)(latency_ms) AS p95_latency, countIf(status != 'ok') / count() AS error_share,
    avg(quality_score) AS mean_quality, count(quality_score) AS scored, sum(cost_usd) / count() AS cost_each,
    sum(cached_input_tokens) / greatest(sum(input_tokens), 1) AS cached_share,
    countIf(finish_reason = 'length') / count() AS length_share
FROM workload_events {where} GROUP BY feature, model ORDER BY feature, model"""
OVER_CAP_SQL = "SELECT countIf(output_tokens > {cap:UInt32}) / count() AS over_share FROM workload_events {where}"

FIGURES = {
    "policies": ("policies", "policies planned"), "stages": ("stages", "stage rows over all policies"),
    "watch_metrics": ("metrics", "watched metrics over all policies"),
    "rollback_conditions": ("conditions", "rollback conditions over all policies"),
    "unmeasured_thresholds": ("metrics", "watched metrics without data for a threshold (e.g. no quality scores)"),
    "longest_rollout_hours": ("h", "longest total stage time of a policy at today's request rate")}


class PlanArgs(Scope):
    """Arguments of `rollout_planner` (and `evaluation_criteria_definer`)."""

    policies: list[Policy] | None = Field(None, description="policies to plan (default: optimal_policy_proposer's)")
    quality_budget: float = Field(0.02, ge=0, le=1, description="allowed drop of the mean quality score (0..1)")
    latency_tolerance_pct: float = Field(10.0, ge=0, description="allowed p95 latency rise, percent")
    error_rate_margin: float = Field(0.01, ge=0, le=1, description="allowed error-rate rise (absolute)")


def _stats(row: dict[str, Any], hours: float) -> dict[str, Any]:
    """Return one (feature, model)'s baseline stats from its PAIR_SQL row."""
    scored = int(row["scored"])
    return {"requests": int(row["requests"]), "requests_per_hour": ratio(row["requests"], hours),
            "p95_latency_ms": float(row["p95_latency"]), "error_rate": float(row["error_share"]),
            "quality_score": float(row["mean_quality"]) if scored else None, "scored_requests": scored,
            "cost_per_request_usd": float(row["cost_each"]), "cache_read_share": float(row["cached_share"]),
            "truncation_rate": float(row["length_share"])}


def pair_stats(q: Queries, scope: Scope) -> dict[tuple[str, str], dict[str, Any]]:
    """Return the baseline stats of every (feature, model) in scope (none when the scope is empty)."""
    rows = q.rows(PAIR_SQL, scope)
    hours = q.span(scope) * 24 if rows else 1.0
    return {(r["feature"], r["model"]): _stats(r, hours) for r in rows}


def policy_stats(q: Queries, scope: Scope, policy: Policy, pairs: dict) -> dict[str, Any] | None:
    """Return the stats of a policy's pair (a cap adds the share of outputs above it), or None."""
    base = pairs.get((policy.feature, policy.model))
    if base is None or policy.kind != "cap_max_tokens":
        return base
    pair = scope.model_copy(update={"feature": policy.feature, "model": policy.model})
    row = q.rows(OVER_CAP_SQL, pair, params={"cap": int(policy.params.get("cap") or 0)})[0]
    return {**base, "over_cap_share": float(row["over_share"] or 0.0)}


def threshold_row(metric: str, args: PlanArgs, stats: dict[str, Any]) -> dict[str, Any]:
    """Return a metric's unit, baseline, threshold, comparison and breach text for a pair's stats."""
    unit, healthy, base, limit = RULES[metric]
    value = limit(args, stats)
    breach = f"{metric} {BREACH[healthy]} {value:.6g} {unit}" if value is not None else "not measurable here"
    return {"metric": metric, "unit": unit, "baseline": base(stats), "threshold": value, "comparison": healthy,
            "breach": breach}


def planned(ctx: ToolContext, args: PlanArgs) -> tuple[list[Policy], list[str]]:
    """Return the given policies, or optimal_policy_proposer's chosen set (with a note saying so)."""
    if args.policies is not None:
        return args.policies, []
    chosen, _ = optimal_set(ctx, args, quality_budget=args.quality_budget,
                            max_p95_latency_increase_pct=args.latency_tolerance_pct)
    return chosen, [f"no policies given: planning optimal_policy_proposer's chosen set ({len(chosen)})"]


def _fill(text: str, policy: Policy) -> str:
    """Fill {model}, {target}, {cap} and {ttl} of a rollback text from the policy."""
    return text.format(model=policy.model, target=policy.params.get("target_model", "the target"),
                       cap=policy.params.get("cap", "the cap"), ttl=policy.params.get("ttl_option", "the replay's"))


def stage_rows(policy: Policy, stats: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the policy's stages, each lasting long enough to observe its minimum requests."""
    stages = [s for s in STAGES if s[0] != "shadow" or policy.kind in SHADOW_KINDS]
    return [{"table": "stage", "policy_id": policy.policy_id, "stage": name, "users_pct": users,
             "observed_pct": seen, "min_requests": need,
             "hours": max(hours, ratio(need, stats["requests_per_hour"] * seen / 100)),
             "advance_when": "every watched metric stays within its threshold for the stage's hours"}
            for name, users, seen, need, hours in stages]


def _watch_rows(policy: Policy, stats: dict[str, Any], args: PlanArgs) -> list[dict[str, Any]]:
    """Return the metrics to watch for the policy's kind, with data-derived thresholds."""
    return [{"table": "watch", "policy_id": policy.policy_id, "kind": policy.kind,
             **threshold_row(metric, args, stats)} for metric in WATCH[policy.kind]]


def _kind_rollback(kind: str, family: str) -> tuple[tuple[str, str, str], ...]:
    """Return the kind's (condition, action, source) rows: the provider's own, else the generic ones."""
    own = PROVIDER_ROLLBACK.get((kind, family))
    if own is None:
        return tuple((condition, action, TOOLS_DOC) for condition, action in ROLLBACK[kind])
    return ((*own, playbook(kind, family)[0].source),)


def rollback_rows(policy: Policy, family: str = "") -> list[dict[str, Any]]:
    """Return the policy's rollback conditions: the common one, then its kind's for its provider `family`."""
    rows = ((*COMMON_ROLLBACK, TOOLS_DOC), *_kind_rollback(policy.kind, family))
    return [{"table": "rollback", "policy_id": policy.policy_id, "provider": family, "condition": _fill(cond, policy),
             "action": _fill(action, policy), "source": source} for cond, action, source in rows]


@dataclass
class _Planner:
    """Plans the policies of one run over the scoped pairs' stats."""

    q: Queries
    args: PlanArgs
    pairs: dict
    catalog: PriceCatalog

    def policy_plan(self, policy: Policy) -> list[dict[str, Any]] | str:
        """Return one policy's stage, watch and rollback rows, or a note when its pair has no events."""
        stats = policy_stats(self.q, self.args, policy, self.pairs)
        if stats is None:
            return f"{policy.policy_id}: no events of {policy.feature}/{policy.model} in scope; not planned"
        family = provider_family(self.catalog, policy.model, policy.params)
        return stage_rows(policy, stats) + _watch_rows(policy, stats, self.args) + rollback_rows(policy, family)

    def plan(self, policies: list[Policy]) -> tuple[list[dict], list[str]]:
        """Return every policy's rows, and notes on policies without data (and on an empty plan)."""
        plans = [self.policy_plan(p) for p in policies]
        rows = [r for p in plans if not isinstance(p, str) for r in p]
        notes = [p for p in plans if isinstance(p, str)]
        if not rows:
            notes.append("no policies to plan")
        return rows, notes


def _values(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Return the planner's figure values from its rows."""
    count = {t: [r for r in rows if r["table"] == t] for t in ("stage", "watch", "rollback")}
    hours: dict[str, float] = {}
    for row in count["stage"]:
        hours[row["policy_id"]] = hours.get(row["policy_id"], 0.0) + row["hours"]
    return {"policies": len(hours), "stages": len(count["stage"]), "watch_metrics": len(count["watch"]),
            "rollback_conditions": len(count["rollback"]), "longest_rollout_hours": max(hours.values(), default=0),
            "unmeasured_thresholds": sum(r["threshold"] is None for r in count["watch"])}


@apex_tool(TOOL, "Plan a staged rollout (shadow, 5%, 25%, 100%) of policies: stage durations at today's request "
                 "rate, metrics to watch with thresholds from the data (p95 latency, error rate, quality), and "
                 "rollback conditions.", PlanArgs, family="optimization")
def rollout_planner(ctx: ToolContext, args: PlanArgs) -> ToolResult:
    """Plan the rollout of the policies (module docstring).

    Args:
        ctx: The analytics store and price catalog.
        args: The scope, optional policies and the tolerances the thresholds use.

    Returns:
        Rows with a `table` key: `stage`, `watch` and `rollback`, grouped by policy.
    """
    q = Queries(ctx.store)
    pairs = pair_stats(q, args)
    if not pairs:
        return empty(TOOL, FIGURES, q)
    policies, notes = planned(ctx, args)
    rows, skipped = _Planner(q, args, pairs, ctx.catalog).plan(policies)
    return finish(TOOL, FIGURES, _values(rows), rows, q, notes + skipped)
