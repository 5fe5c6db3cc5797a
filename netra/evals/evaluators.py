"""Evaluators: each scores one aspect of a run against its case and ground-truth manifest.

    result = EVALUATORS["finding_recall"](case, state, manifest, run_info)
    result  # {"score": 0.8, "passed": False, "details": {..., "failures": ["missed ..."]}}

`state` is the graph's final state, `manifest` the scenario's ground truth and `run_info`
what the runner measured: `{"seconds", "mode", "usage": {"input_tokens", "output_tokens",
"total_tokens", "cost_usd"}}`. `details["failures"]` explains each failed check in words.
A case whose expectation cannot be checked (an expected kind the manifest does not plant)
raises `CaseError`; the runner records the case as crashed.
"""

from __future__ import annotations

import statistics
from typing import Any, Callable

from netra.evals.dataset import FIXED_BY, FIXES, Case
from netra.graph.state import AGENTS
from netra.report.cite import ungrounded

Result = dict[str, Any]
Evaluator = Callable[[Case, dict, dict, dict], Result]


class CaseError(Exception):
    """The case's expectations do not fit its workload (e.g. an expected kind is not planted)."""


def result(score: float | None, passed: bool, details: dict[str, Any], failures: list[str] | None = None) -> Result:
    """Return one evaluator's output; `failures` explain a failed check in words."""
    return {"score": score, "passed": passed, "details": {**details, "failures": failures or []}}


def planted(manifest: dict) -> dict[str, dict]:
    """Return {manifest kind: inefficiency} of the manifest."""
    return {i["kind"]: i for i in manifest.get("inefficiencies", [])}


def expected_pairs(case: Case, manifest: dict) -> dict[tuple[str, str], dict]:
    """Return {(recommendation kind, feature): inefficiency} for the case's expected findings."""
    truth = planted(manifest)
    missing = [k for k in case.expected.findings if k not in truth]
    if missing:
        raise CaseError(f"expected findings {missing} are not planted in {case.scenario} "
                        f"(seed {case.seed}, {case.events} events); planted: {sorted(truth)}")
    return {(FIXES[k], truth[k]["feature"]): truth[k] for k in case.expected.findings}


def recommendations(state: dict) -> list[dict]:
    """Return the run's recommendations (empty when it made none)."""
    return list(state.get("recommendations") or [])


def _pair(rec: dict) -> tuple[str, str]:
    return rec.get("kind", ""), rec.get("feature", "")


def finding_recall(case: Case, state: dict, manifest: dict, run_info: dict) -> Result:
    """Share of expected findings recommended (right kind on the planted feature)."""
    wanted = expected_pairs(case, manifest)
    found = {_pair(r) for r in recommendations(state)}
    missed = [truth for pair, truth in wanted.items() if pair not in found]
    hits = len(wanted) - len(missed)
    details = {"expected": len(wanted), "found": hits, "missed": [m["kind"] for m in missed]}
    return result(hits / len(wanted) if wanted else 1.0, not missed, details, [_missed(m) for m in missed])


def _missed(truth: dict) -> str:
    return (f"missed `{truth['kind']}` on `{truth['feature']}`: no `{FIXES[truth['kind']]}` recommendation "
            f"(manifest saving ${truth['monthly_saving_usd']:,.2f}/month)")


def finding_precision(case: Case, state: dict, manifest: dict, run_info: dict) -> Result:
    """Share of recommendations that are expected findings; any other one is a false positive."""
    wanted, recs = expected_pairs(case, manifest), recommendations(state)
    wrong = [r for r in recs if _pair(r) not in wanted]
    details = {"recommended": len(recs), "correct": len(recs) - len(wrong),
               "false_positives": [f"{r.get('kind')}@{r.get('feature')}" for r in wrong]}
    score = (len(recs) - len(wrong)) / len(recs) if recs else 1.0
    return result(score, not wrong, details, [_false_positive(r, case, manifest) for r in wrong])


def _false_positive(rec: dict, case: Case, manifest: dict) -> str:
    kind, feature = _pair(rec)
    said = f"recommended `{kind}` on `{feature}` (${rec.get('monthly_saving_usd', 0):,.2f}/month)"
    if feature not in {i["feature"] for i in planted(manifest).values()}:
        return f"{said}, but `{feature}` is healthy: it must get no recommendation"
    if FIXED_BY.get(kind) in case.expected.absent:
        return f"{said}, but `{FIXED_BY[kind]}` is listed as absent: it must not be recommended"
    return f"{said}, which the case does not expect"


def savings_error(case: Case, state: dict, manifest: dict, run_info: dict) -> Result:
    """Median relative error of the expected findings' savings vs the manifest; each within tolerance."""
    if not case.expected.savings_from_manifest:
        return result(None, True, {"checked": False})
    wanted, tolerance = expected_pairs(case, manifest), case.expected.savings_tolerance
    errors = [_saving_error(r, wanted[_pair(r)]) for r in recommendations(state) if _pair(r) in wanted]
    off = [e for e in errors if e["error"] > tolerance]
    details = {"checked": True, "tolerance": tolerance, "errors": errors}
    return result(_median([e["error"] for e in errors]), not off, details, [_off(e, tolerance) for e in off])


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _saving_error(rec: dict, truth: dict) -> dict[str, Any]:
    estimate, actual = float(rec.get("monthly_saving_usd") or 0.0), float(truth["monthly_saving_usd"])
    # a one-cent floor keeps the ratio finite when the true saving is zero
    error = abs(estimate - actual) / max(abs(actual), 0.01)
    return {"kind": rec["kind"], "feature": rec["feature"], "estimate_usd": estimate,
            "manifest_usd": actual, "error": error}


def _off(error: dict[str, Any], tolerance: float) -> str:
    return (f"`{error['kind']}` on `{error['feature']}` estimated ${error['estimate_usd']:,.2f}/month vs manifest "
            f"${error['manifest_usd']:,.2f}: off by {error['error']:.1%} (tolerance {tolerance:.0%})")


def grounding(case: Case, state: dict, manifest: dict, run_info: dict) -> Result:
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


def trajectory(case: Case, state: dict, manifest: dict, run_info: dict) -> Result:
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


def intent(case: Case, state: dict, manifest: dict, run_info: dict) -> Result:
    """Whether triage read the question's intent (and goal, when the case names one) as expected."""
    request = state.get("request") or {}
    got = {"intent": request.get("intent"), "goal": request.get("goal")}
    wanted = {"intent": case.intent, "goal": case.goal or got["goal"]}
    wrong = [f"triage read {k} `{got[k]}`, expected `{wanted[k]}`" for k in wanted if got[k] != wanted[k]]
    return result(0.0 if wrong else 1.0, not wrong, {"expected": wanted, "actual": got}, wrong)


def run_errors(case: Case, state: dict, manifest: dict, run_info: dict) -> Result:
    """Agent failures the run recorded (an agent that failed after its retries); passes when none."""
    errors = list(state.get("errors") or [])
    failures = [f"agent `{e.get('agent')}` failed: {e.get('type', '')}: {e.get('message', '')}" for e in errors]
    return result(float(len(errors)), not errors, {"errors": errors}, failures)


def latency(case: Case, state: dict, manifest: dict, run_info: dict) -> Result:
    """Wall seconds of the run (the workload load excluded); fails only past `max_seconds`."""
    seconds, budget = float(run_info.get("seconds", 0.0)), case.expected.max_seconds
    over = budget is not None and seconds > budget
    failures = [f"the run took {seconds:.1f} s, over the {budget:g} s budget"] if over else []
    return result(seconds, not over, {"seconds": seconds, "max_seconds": budget}, failures)


def token_cost(case: Case, state: dict, manifest: dict, run_info: dict) -> Result:
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


def evaluate(case: Case, state: dict, manifest: dict, run_info: dict) -> dict[str, Result]:
    """Run every evaluator of `EVALUATORS` on one case's run."""
    return {name: fn(case, state, manifest, run_info) for name, fn in EVALUATORS.items()}
