"""Apex tools (cost simulation): reprice the window under policies; keep those quality allows.

`cost_impact_simulator` sums the billable token classes of each (feature, model) in scope, split by
`is_batch` and "retried failure" (status != 'ok' and a later attempt of the same (feature, model,
prompt_hash) follows, as in `retry_waste_analyzer`). One policy per (kind, feature, model) is kept; a
pair's policies change its token sums in `ORDER`, so overlaps never double count: retry_budget drops
the retried failures; cap_max_tokens drops each request's output above `params["cap"]` (visible output
first, then reasoning); prompt_cache moves hit tokens from input to cache read and written tokens to
cache write -- these need `kv_cache_finder`'s prefix replay, so they come from the policy:
`params["uncached_hit_tokens"]` (and `written_tokens`) if given, else its window saving / the model's
(input - cache-read) price, which nets the write premium; route_model prices the pair at
`params["target_model"]`; batch_api at batch prices. A policy's saving is its pair's catalog cost
before its step minus after. `cost_reduction_quality_preservation` keeps the policies whose expected
quality drop (`expected_drop`) is at most `quality_budget` and reprices the window under those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import Field

from netra.tools._sql import TOKEN_CLASS_SQL, Queries, empty, finish, ratio
from netra.tools.base import ToolContext, ToolResult
from netra.tools.findings import Policy
from netra.tools.registry import apex_tool
from netra.tools.scope import DAYS_PER_MONTH, Scope, monthly
from netra.workloads.catalog import TOKEN_CLASSES

SIMULATOR, PRESERVER = "cost_impact_simulator", "cost_reduction_quality_preservation"
ORDER = ("retry_budget", "cap_max_tokens", "prompt_cache", "route_model", "batch_api")

# events of the scope, each flagged `retried` when it is a failure a later attempt retried
_FLAGGED = """(SELECT *, status != 'ok' AND prompt_hash != 0 AND row_number() OVER (
      PARTITION BY feature, model, prompt_hash ORDER BY timestamp DESC, request_id DESC) > 1 AS retried
    FROM workload_events {where})"""

PARTS_SQL = ("SELECT feature, model, is_batch AS batch, retried," + TOKEN_CLASS_SQL + """,
  sum(cost_usd) AS cost
FROM """ + _FLAGGED + """
GROUP BY feature, model, batch, retried ORDER BY feature, model, batch, retried""")

# output tokens above the cap, per part: visible output first, the rest from reasoning
CUT_SQL = """SELECT is_batch AS batch, retried,
  sum(least(greatest(toInt64(output_tokens) - {cap:Int64}, 0),
            greatest(toInt64(output_tokens) - toInt64(reasoning_tokens), 0))) AS output_cut,
  sum(greatest(toInt64(output_tokens) - {cap:Int64}, 0)) - output_cut AS reasoning_cut
FROM """ + _FLAGGED + """
GROUP BY batch, retried ORDER BY batch, retried"""
_PAIR = "feature = {p_feature:String} AND model = {p_model:String}"

# expected quality drop: fixed by kind (the model's output does not change), else a prior by quality_risk
FIXED_DROP: dict[str, float] = {"prompt_cache": 0.0, "batch_api": 0.0}
RISK_PRIOR: dict[str, float] = {"low": 0.01, "medium": 0.05, "high": 0.15}

_SCORES_SQL = """SELECT feature, model, avg(quality_score) AS score
FROM workload_events {where} GROUP BY feature, model"""

SIM_FIGURES = {
    "baseline_window_cost_usd": ("USD", "scoped cost over the window"),
    "repriced_window_cost_usd": ("USD", "window cost under the policies"),
    "baseline_monthly_cost_usd": ("USD/month", "scoped cost per 30-day month"),
    "repriced_monthly_cost_usd": ("USD/month", "monthly cost under the policies"),
    "window_saving_usd": ("USD", "baseline minus repriced window cost"),
    "monthly_saving_usd": ("USD/month", "baseline minus repriced monthly cost"),
    "saving_pct": ("%", "saving, percent of baseline cost"), "policies_applied": ("policies", "policies applied")}
KEEP_FIGURES = {
    "kept_policies": ("policies", "within the quality budget"), "rejected_policies": ("policies", "over the budget"),
    "kept_window_saving_usd": ("USD", "window saving of the kept policies, repriced together"),
    "kept_monthly_saving_usd": ("USD/month", "monthly saving of the kept policies, repriced together"),
    "kept_saving_pct": ("%", "kept saving, percent of baseline cost")}

Parts = dict[tuple[bool, bool], dict[str, float]]


class SimulationArgs(Scope):
    """Arguments of `cost_impact_simulator`."""

    policies: list[Policy] = Field(description="the policies to apply together")


class PreservationArgs(SimulationArgs):
    """Arguments of `cost_reduction_quality_preservation`."""

    quality_budget: float = Field(0.02, ge=0, le=1, description="max allowed expected quality drop (0..1)")


@dataclass
class _Pair:
    """One (feature, model) being repriced: the model it is priced at and its token parts."""

    model: str
    parts: Parts
    cost: float = 0.0
    batch: bool = False


@dataclass
class _Run:
    """One repricing: the context, the scope, the recorder and the pairs as they change."""

    ctx: ToolContext
    scope: Scope
    queries: Queries
    pairs: dict[tuple[str, str], _Pair] = field(default_factory=dict)
    days: float = 1.0


def _load(run: _Run) -> None:
    """Read the token parts of every (feature, model) in scope into `run.pairs`."""
    for row in run.queries.rows(PARTS_SQL, run.scope):
        pair = run.pairs.setdefault((row["feature"], row["model"]), _Pair(row["model"], {}))
        pair.parts[(bool(row["batch"]), bool(row["retried"]))] = {k: float(row[k]) for k in TOKEN_CLASSES}
        pair.cost += float(row["cost"])


def _price(run: _Run, pair: _Pair) -> float:
    """Return the pair's cost: each part's token classes at the pair model's (batch) prices."""
    return sum(n * run.ctx.catalog.unit_prices(pair.model, batch or pair.batch)[k]
               for (batch, _), tokens in pair.parts.items() for k, n in tokens.items())


def _move(parts: Parts, tokens: float, src: str, dst: str) -> None:
    """Move up to `tokens` from class `src` to `dst`, spread over the parts by their `src` tokens."""
    have = sum(p[src] for p in parts.values())
    share = min(max(tokens, 0.0) / have, 1.0) if have else 0.0
    for part in parts.values():
        part[dst], part[src] = part[dst] + part[src] * share, part[src] * (1 - share)


def _retry(run: _Run, pair: _Pair, policy: Policy) -> str:
    """Remove the retried failures of the pair."""
    pair.parts = {k: v for k, v in pair.parts.items() if not k[1]}
    return ""


def _cap(run: _Run, pair: _Pair, policy: Policy) -> str:
    """Remove the output above `params["cap"]` from every part still present (a removed part stays removed)."""
    cap = int(policy.params.get("cap") or 0)
    bound = {"cap": cap, "p_feature": policy.feature, "p_model": policy.model}
    for row in run.queries.rows(CUT_SQL, run.scope, _PAIR, bound) if cap > 0 else []:
        part = pair.parts.get((bool(row["batch"]), bool(row["retried"])), {"output": 0.0, "reasoning": 0.0})
        part.update(output=part["output"] - row["output_cut"], reasoning=part["reasoning"] - row["reasoning_cut"])
    return "" if cap > 0 else "params.cap is missing or not positive"


def _cache(run: _Run, pair: _Pair, policy: Policy) -> str:
    """Move hit tokens to cache read and written tokens to cache write (see module docstring)."""
    hits = policy.params.get("uncached_hit_tokens", _hits_from_saving(run, policy))
    if hits is None:
        return "cache reads are not cheaper than input on this model"
    _move(pair.parts, float(policy.params.get("written_tokens", 0)), "input", "cache_write")
    _move(pair.parts, float(hits), "input", "cache_read")
    return ""


def _hits_from_saving(run: _Run, policy: Policy) -> float | None:
    """Return window saving (else monthly x days / 30) / (input - cache-read price); None if not cheaper."""
    prices = run.ctx.catalog.unit_prices(policy.model)
    gap = prices["input"] - prices["cache_read"]
    saving = policy.window_saving_usd or max(policy.monthly_saving_usd, 0.0) * run.days / DAYS_PER_MONTH
    return saving / gap if gap > 0 else None


def _route(run: _Run, pair: _Pair, policy: Policy) -> str:
    """Price the pair at the target model's prices."""
    target = str(policy.params.get("target_model") or "")
    if run.ctx.catalog.resolve(target) is None:
        return f"target model {target!r} is not in the price catalog"
    pair.model = target
    return ""


def _batch(run: _Run, pair: _Pair, policy: Policy) -> str:
    """Price every part of the pair at batch prices."""
    pair.batch = True
    return ""


# policy kind -> the step that changes a pair's tokens or prices ("" or why it was skipped)
_STEPS: dict[str, Callable[[_Run, _Pair, Policy], str]] = {
    "retry_budget": _retry, "cap_max_tokens": _cap, "prompt_cache": _cache,
    "route_model": _route, "batch_api": _batch}
# (blocks the policy, why) checked in order before a policy's step
_BLOCKERS = ((lambda run, pair: pair is None, "no events of this (feature, model) in scope"),
             (lambda run, pair: run.ctx.catalog.resolve(pair.model) is None, "model not in the price catalog"))
_ID_FIELDS = {"policy_id", "kind", "feature", "model"}


def _apply(run: _Run, policy: Policy) -> dict[str, Any]:
    """Apply one policy to its pair and return its row (window and monthly saving, status)."""
    pair = run.pairs.get((policy.feature, policy.model))
    why = next((text for blocks, text in _BLOCKERS if blocks(run, pair)), "")
    before = 0.0 if why else _price(run, pair)
    why = why or _STEPS[policy.kind](run, pair, policy)
    saving = 0.0 if why else before - _price(run, pair)
    return {"table": "policy", **policy.model_dump(include=_ID_FIELDS), "window_saving_usd": saving,
            "monthly_saving_usd": monthly(saving, run.days), "applied": not why, "skipped_because": why}


def _feature_rows(run: _Run, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return one row per feature in scope: baseline, repriced, saving and its percent."""
    base: dict[str, float] = {}
    for (feature, _), pair in run.pairs.items():
        base[feature] = base.get(feature, 0.0) + pair.cost
    saved = {f: sum(r["window_saving_usd"] for r in rows if r["feature"] == f) for f in base}
    return [{"table": "feature", "feature": f, "baseline_window_cost_usd": base[f],
             "repriced_window_cost_usd": base[f] - saved[f], "window_saving_usd": saved[f],
             "saving_pct": 100 * ratio(saved[f], base[f])} for f in sorted(base, key=lambda f: (-saved[f], f))]


def _reprice(run: _Run, policies: list[Policy]) -> tuple[list[dict], list[str]]:
    """Apply the first policy per (kind, feature, model), each pair's in `ORDER`; return rows and notes."""
    unique = {(p.kind, p.feature, p.model): p for p in reversed(policies)}
    ordered = sorted(unique.values(), key=lambda p: (p.feature, p.model, ORDER.index(p.kind)))
    rows, repeats = [_apply(run, p) for p in ordered], len(policies) - len(unique)
    notes = [f"{r['policy_id']}: not applied: {r['skipped_because']}" for r in rows if not r["applied"]]
    notes += [f"{repeats} policies repeat a (kind, feature, model); ignored"] * (repeats > 0)
    return rows + _feature_rows(run, rows), notes


def _sim_values(run: _Run, rows: list[dict[str, Any]]) -> dict[str, float]:
    """Return the simulator's figure values from the loaded pairs and the policy rows."""
    base, days = sum(p.cost for p in run.pairs.values()), run.days
    saved = sum(r["window_saving_usd"] for r in rows if r["table"] == "policy")
    return {"baseline_window_cost_usd": base, "repriced_window_cost_usd": base - saved,
            "baseline_monthly_cost_usd": monthly(base, days),
            "repriced_monthly_cost_usd": monthly(base - saved, days),
            "window_saving_usd": saved, "monthly_saving_usd": monthly(saved, days),
            "saving_pct": 100 * ratio(saved, base), "policies_applied": sum(bool(r.get("applied")) for r in rows)}


def _start(ctx: ToolContext, args: Scope) -> _Run:
    """Return a run with the scope's pairs loaded (none when the scope is empty)."""
    run = _Run(ctx, Scope.model_validate(args.model_dump(include=set(Scope.model_fields))), Queries(ctx.store))
    _load(run)
    run.days = run.queries.span(run.scope) if run.pairs else 1.0
    return run


@apex_tool(SIMULATOR, "Reprice the window under a set of policies from token sums, without double counting: "
                      "baseline, repriced and saved cost.", SimulationArgs, family="optimization")
def cost_impact_simulator(ctx: ToolContext, args: SimulationArgs) -> ToolResult:
    """Reprice the window under `args.policies` (module docstring); rows: `table` "policy" and "feature"."""
    run = _start(ctx, args)
    if not run.pairs:
        return empty(SIMULATOR, SIM_FIGURES, run.queries)
    rows, notes = _reprice(run, args.policies)
    return finish(SIMULATOR, SIM_FIGURES, _sim_values(run, rows), rows, run.queries, notes)


def expected_drop(policy: Policy, scores: dict[tuple[str, str], float]) -> tuple[float, str]:
    """Return a policy's expected quality drop and its basis (fixed, measured or prior)."""
    if policy.kind in FIXED_DROP:
        return FIXED_DROP[policy.kind], "fixed: the model's output does not change"
    source = scores.get((policy.feature, policy.model))
    target = scores.get((policy.feature, str(policy.params.get("target_model", ""))))
    if policy.kind == "route_model" and source is not None and target is not None:
        return max(source - target, 0.0), f"measured: mean quality {source:.4f} -> {target:.4f}"
    return RISK_PRIOR[policy.quality_risk], f"prior for {policy.quality_risk} quality risk"


def _verdict(policy: Policy, scores: dict, budget: float) -> dict[str, Any]:
    """Return the kept/rejected row of one policy."""
    drop, basis = expected_drop(policy, scores)
    kept = drop <= budget + 1e-12
    return {"table": "decision", **policy.model_dump(include=_ID_FIELDS), "decision": "kept" if kept else "rejected",
            "expected_quality_drop": drop,
            "reason": f"expected drop {drop:.4f} {'<=' if kept else '>'} budget {budget:.4f} ({basis})",
            "stated_monthly_saving_usd": policy.monthly_saving_usd}


def _decide(run: _Run, args: PreservationArgs) -> list[dict[str, Any]]:
    """Return each policy's kept/rejected row; quality scores are read without the scope's model filter."""
    scope = run.scope.model_copy(update={"model": None})
    rows = run.queries.rows(_SCORES_SQL, scope, "quality_score IS NOT NULL")
    scores = {(r["feature"], r["model"]): float(r["score"]) for r in rows}
    return [_verdict(p, scores, args.quality_budget) for p in args.policies]


@apex_tool(PRESERVER, "Keep only the policies whose expected quality drop fits a budget (measured from quality "
                      "scores where possible); reprice the window under them.", PreservationArgs,
           family="optimization")
def cost_reduction_quality_preservation(ctx: ToolContext, args: PreservationArgs) -> ToolResult:
    """Keep the policies within the quality budget, reprice them; rows: "decision", then the simulator's."""
    run = _start(ctx, args)
    if not run.pairs:
        return empty(PRESERVER, KEEP_FIGURES, run.queries)
    decisions = _decide(run, args)
    rows, notes = _reprice(run, [p for p, d in zip(args.policies, decisions) if d["decision"] == "kept"])
    return finish(PRESERVER, KEEP_FIGURES, _keep_values(run, rows, decisions), decisions + rows,
                  run.queries, notes)


def _keep_values(run: _Run, rows: list[dict[str, Any]], decisions: list[dict[str, Any]]) -> dict[str, float]:
    """Return the kept/rejected counts and the simulator's figures of the kept set, prefixed `kept_`."""
    kept = sum(d["decision"] == "kept" for d in decisions)
    values = {f"kept_{name}": value for name, value in _sim_values(run, rows).items()}
    return values | {"kept_policies": kept, "rejected_policies": len(decisions) - kept}
