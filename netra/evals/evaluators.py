"""Evaluators: each scores one aspect of a run against its case and the reference truth.

    result = EVALUATORS["finding_recall"](case, state, truth, run_info)
    result  # {"score": 0.8, "passed": False, "details": {..., "failures": ["missed ..."]}}

`state` is the graph's final state, `truth` the case's `CaseTruth` (the reference's expected
opportunities and its verdict on each recommendation, `netra.evals.truth`) and `run_info` what
the runner measured: `{"seconds", "mode", "usage": {"input_tokens", "output_tokens",
"total_tokens", "cost_usd"}}`. `details["failures"]` explains each failed check in words.
"""

from __future__ import annotations

import statistics
from typing import Any, Callable

from netra.evals.dataset import Case
from netra.evals.truth import CaseError, CaseTruth, Judged
from netra.evals.reference import Opportunity
from netra.graph.state import AGENTS
from netra.report.cite import ungrounded

Result = dict[str, Any]
Evaluator = Callable[[Case, dict, CaseTruth, dict], Result]
__all__ = ["EVALUATORS", "CaseError", "evaluate"]


def result(score: float | None, passed: bool, details: dict[str, Any], failures: list[str] | None = None) -> Result:
    """Return one evaluator's output; `failures` explain a failed check in words."""
    return {"score": score, "passed": passed, "details": {**details, "failures": failures or []}}


def _key(opportunity: Opportunity) -> str:
    kind, feature, model = opportunity.policy.key
    return f"{kind}@{feature}:{model}"


def finding_recall(case: Case, state: dict, truth: CaseTruth, run_info: dict) -> Result:
    """Share of the reference's expected opportunities the run recommended (same kind, feature and model)."""
    missed, expected = truth.missed(), len(truth.expected)
    details = {"expected": expected, "found": expected - len(missed), "missed": [_key(o) for o in missed]}
    return result((expected - len(missed)) / expected if expected else 1.0, not missed, details,
                  [_missed(o) for o in missed])


def _missed(opportunity: Opportunity) -> str:
    kind, feature, model = opportunity.policy.key
    return (f"missed `{kind}` on `{feature}` ({model}): the reference expects it "
            f"(${opportunity.monthly_saving_usd:,.2f}/month; {opportunity.verdict.reason})")


def finding_precision(case: Case, state: dict, truth: CaseTruth, run_info: dict) -> Result:
    """Share of recommendations the reference supports; an unsupported one is a false positive."""
    wrong, recommended = truth.false_positives(), len(truth.judged)
    details = {"recommended": recommended, "correct": recommended - len(wrong),
               "false_positives": [f"{j.recommendation.policy.kind}@{j.recommendation.policy.feature}" for j in wrong]}
    score = (recommended - len(wrong)) / recommended if recommended else 1.0
    return result(score, not wrong, details, [_false_positive(j) for j in wrong])


def _false_positive(judged: Judged) -> str:
    rec = judged.recommendation
    return (f"recommended {rec.label} (${rec.stated_monthly_usd:,.2f}/month), which the reference does not "
            f"support: {judged.verdict.reason}")


def savings_error(case: Case, state: dict, truth: CaseTruth, run_info: dict) -> Result:
    """Median relative error of the supported recommendations' savings against the reference; each within tolerance."""
    if not case.expected.check_savings:
        return result(None, True, {"checked": False})
    tolerance, checked = case.expected.savings_tolerance, truth.savings_errors()
    errors = [_saving_error(j) for j in checked]
    off = [e for e in errors if e["error"] > tolerance]
    details = {"checked": True, "tolerance": tolerance, "errors": errors}
    return result(_median([e["error"] for e in errors]), not off, details, [_off(e, tolerance) for e in off])


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _saving_error(judged: Judged) -> dict[str, Any]:
    policy = judged.recommendation.policy
    return {"kind": policy.kind, "feature": policy.feature, "model": policy.model,
            "estimate_usd": judged.recommendation.stated_monthly_usd,
            "reference_usd": judged.reference_monthly_usd, "error": judged.error}


def _off(error: dict[str, Any], tolerance: float) -> str:
    return (f"`{error['kind']}` on `{error['feature']}` estimated ${error['estimate_usd']:,.2f}/month vs reference "
            f"${error['reference_usd']:,.2f}: off by {error['error']:.1%} (tolerance {tolerance:.0%})")


def grounding(case: Case, state: dict, truth: CaseTruth, run_info: dict) -> Result:
    """Share of the report's numbers that trace to a cited tool figure; passes when all do."""
    report = state.get("report") or {}
    markdown = report.get("markdown") or ""
    bad = [str(note).removeprefix("ungrounded: ") for note in report.get("ungrounded") or []]
    total = len(ungrounded(markdown, set()))
    share = max(0.0, 1 - len(bad) / total) if total else 1.0
    details = {"numbers": total, "ungrounded": bad}
    return result(share, bool(markdown) and not bad, details, _grounding_failures(markdown, bad))


def _grounding_failures(markdown: str, bad: list[str]) -> list[str]:
    if not markdown:
        return ["the run produced no report"]
    return [f"{len(bad)} number(s) in the report trace to no tool figure: {', '.join(bad)}"] if bad else []


def agents_run(state: dict) -> list[str]:
    """Return the agents that ran (any status but skipped), in graph order."""
    status = state.get("agent_status") or {}
    return [a for a in AGENTS if a in status and status[a] != "skipped"]


def tools_called(state: dict) -> list[str]:
    """Return the distinct tools the run called, sorted."""
    return sorted({c.get("tool", "") for c in state.get("tool_calls") or []})


def trajectory(case: Case, state: dict, truth: CaseTruth, run_info: dict) -> Result:
    """Agents run and tools called vs expected: 1.0 equal sets, 0.5 expected ⊆ run, else 0.0."""
    agents = _compare("agents", case.expected.agents, agents_run(state))
    tools = _compare("tools", case.expected.tools, tools_called(state))
    strict, subset = agents["strict"] and tools["strict"], agents["subset"] and tools["subset"]
    failures = [text for part in (agents, tools) for text in part.pop("failures")]
    return result(1.0 if strict else 0.5 if subset else 0.0, subset,
                  {"strict": strict, "subset": subset, "agents": agents, "tools": tools}, failures)


def _compare(what: str, expected: list[str], actual: list[str]) -> dict[str, Any]:
    """Compare one expected set with the run's (an empty expectation checks nothing)."""
    missing, extra = sorted(set(expected) - set(actual)), sorted(set(actual) - set(expected))
    checked = bool(expected)
    failures = [f"{what} expected but not run: {', '.join(missing)} (ran: {', '.join(actual) or 'none'})"]
    return {"expected": sorted(expected), "actual": actual, "missing": missing, "extra": extra if checked else [],
            "strict": not checked or not (missing or extra), "subset": not missing,
            "failures": failures if missing else []}


def _filters(case: Case) -> dict[str, str]:
    """Return the filters of the case's scope, as triage's request holds them."""
    return {k: v for k, v in case.scope.model_dump().items() if k != "days" and v is not None}


def intent(case: Case, state: dict, truth: CaseTruth, run_info: dict) -> Result:
    """Whether triage read the question's intent, filters (and goal, when the case names one) as expected."""
    request = state.get("request") or {}
    got = {"intent": request.get("intent"), "goal": request.get("goal"), "filters": request.get("filters") or {}}
    wanted = {"intent": case.intent, "goal": case.goal or got["goal"], "filters": _filters(case)}
    wrong = [f"triage read {k} `{got[k]}`, expected `{wanted[k]}`" for k in wanted if got[k] != wanted[k]]
    return result(0.0 if wrong else 1.0, not wrong, {"expected": wanted, "actual": got}, wrong)


def run_errors(case: Case, state: dict, truth: CaseTruth, run_info: dict) -> Result:
    """Agent failures the run recorded (an agent that failed after its retries); passes when none."""
    errors = list(state.get("errors") or [])
    failures = [f"agent `{e.get('agent')}` failed: {e.get('type', '')}: {e.get('message', '')}" for e in errors]
    return result(float(len(errors)), not errors, {"errors": errors}, failures)


def latency(case: Case, state: dict, truth: CaseTruth, run_info: dict) -> Result:
    """Wall seconds of the run (the workload load excluded); fails only past `max_seconds`."""
    seconds, budget = float(run_info.get("seconds", 0.0)), case.expected.max_seconds
    over = budget is not None and seconds > budget
    failures = [f"the run took {seconds:.1f} s, over the {budget:g} s budget"] if over else []
    return result(seconds, not over, {"seconds": seconds, "max_seconds": budget}, failures)


def token_cost(case: Case, state: dict, truth: CaseTruth, run_info: dict) -> Result:
    """Model tokens the run used (0 offline) and their price when the catalog knows the model."""
    usage = run_info.get("usage") or {}
    return result(float(usage.get("total_tokens", 0)), True, {"mode": run_info.get("mode"), **usage})


EVALUATORS: dict[str, Evaluator] = {
    "finding_recall": finding_recall,
    "finding_precision": finding_precision,
    "savings_error": savings_error,
    "grounding": grounding,
    "trajectory": trajectory,
    "intent": intent,
    "run_errors": run_errors,
    "latency": latency,
    "token_cost": token_cost,
}


def evaluate(case: Case, state: dict, truth: CaseTruth, run_info: dict) -> dict[str, Result]:
    """Run every evaluator of `EVALUATORS` on one case's run."""
    return {name: fn(case, state, truth, run_info) for name, fn in EVALUATORS.items()}
