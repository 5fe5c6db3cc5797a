"""report.md of an evaluation run: header, goals, aggregates, a row per case, every recommendation
against the reference, failures in words.

    render_report(results_document)   # -> markdown text
"""

from __future__ import annotations

from typing import Any, Callable

from netra.evals.aggregate import GOALS

Shown = Callable[[Any], str]


def _fixed(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}"


def _pct(value: Any) -> str:
    return "–" if value is None else f"{value:.1%}"


def _secs(value: Any) -> str:
    return "–" if value is None else f"{value:.2f} s"


def _plain(value: Any) -> str:
    return "–" if value is None else f"{value:,}" if isinstance(value, int) else f"{value:,.4f}"


# aggregate -> (label, how its value is shown)
AGGREGATE_ROWS: list[tuple[str, str, Shown]] = [
    ("cases", "cases", _plain), ("passed", "passed", _plain), ("failed", "failed", _plain),
    ("crashed", "crashed", _plain), ("finding_recall_micro", "finding recall (micro)", _fixed),
    ("finding_recall_macro", "finding recall (macro)", _fixed),
    ("finding_precision_micro", "finding precision (micro)", _fixed),
    ("finding_precision_macro", "finding precision (macro)", _fixed),
    ("savings_error_median", "median savings error", _pct), ("savings_error_max", "worst savings error", _pct),
    ("savings_checked", "savings checked (supported recommendations)", _plain),
    ("grounding_mean", "grounding (mean share of numbers cited)", _fixed),
    ("trajectory_strict_rate", "trajectory strict rate", _fixed),
    ("trajectory_subset_rate", "trajectory subset rate", _fixed), ("intent_accuracy", "intent accuracy", _fixed),
    ("run_error_free_rate", "runs without agent errors", _fixed), ("latency_p50_s", "latency p50", _secs),
    ("latency_p95_s", "latency p95", _secs), ("latency_total_s", "latency total", _secs),
    ("reference_total_s", "reference truth total", _secs),
    ("tokens_total", "model tokens", _plain), ("cost_usd_total", "model cost (USD)", _plain),
]
# case table column -> (evaluator, how its score is shown)
CASE_COLUMNS: list[tuple[str, str, Shown]] = [
    ("recall", "finding_recall", _fixed), ("precision", "finding_precision", _fixed),
    ("savings error", "savings_error", _pct), ("grounding", "grounding", _fixed),
    ("trajectory", "trajectory", _fixed), ("seconds", "latency", _secs),
]


def header(doc: dict[str, Any]) -> list[str]:
    """Return the title and what ran: dataset, mode, versions, times."""
    version, agg = doc.get("version", {}), doc["aggregates"]
    model = f" (`{doc['model']}`)" if doc.get("model") else ""
    return [f"# Netra evaluation: {doc['dataset']['name']}", "",
            f"- mode: {doc['mode']}{model}, strategy `{doc.get('strategy')}`; netra {version.get('netra')}, "
            f"python {version.get('python')}, price catalog {version.get('price_catalog')}",
            f"- started {doc['started']}, finished {doc['finished']} ({doc['wall_seconds']:.1f} s wall)",
            f"- {agg['cases']} cases: {agg['passed']} passed, {agg['failed']} failed ({agg['crashed']} crashed)", ""]


def aggregate_table(agg: dict[str, Any]) -> list[str]:
    """Return the aggregates as a two-column table."""
    rows = [f"| {label} | {shown(agg.get(key))} |" for key, label, shown in AGGREGATE_ROWS]
    return ["## Aggregates", "", "| metric | value |", "|---|---|", *rows, ""]


# goal -> (label, how the goal and the figure are shown)
GOAL_ROWS: list[tuple[str, str, Shown]] = [
    ("cases", "cases", _plain), ("finding_precision_micro", "precision", _fixed),
    ("finding_recall_micro", "recall", _fixed), ("savings_error_median", "median savings error", _pct),
    ("savings_error_max", "worst savings error", _pct)]
_MET = {True: "met", False: "**not met**", None: "not measured"}


def goal_table(agg: dict[str, Any]) -> list[str]:
    """Return each goal of the issue beside the run's figure."""
    rows = [f"| {label} | {'≥' if GOALS[key][1] > 0 else '≤'} {shown(GOALS[key][0])} | {shown(agg.get(key))} | "
            f"{_MET[agg.get('goals', {}).get(key)]} |" for key, label, shown in GOAL_ROWS]
    return ["## Goals", "", "| figure | goal | this run | |", "|---|---|---|---|", *rows, ""]


def _usd(value: Any) -> str:
    return "–" if value is None else f"${value:,.2f}"


def recommendation_rows(case: dict[str, Any]) -> list[str]:
    """Return one row per recommendation of a case: stated and reference saving, error, verdict."""
    return [f"| {case['id']} | `{r['kind']}` on `{r['feature']}` ({r['model']}) | {_usd(r['stated_monthly_usd'])} | "
            f"{_usd(r['reference_monthly_usd'] if r['supported'] else None)} | {_pct(r['error'])} | "
            f"{'supported' if r['supported'] else '**false positive**'} |"
            for r in (case.get("truth") or {}).get("recommendations", [])]


def recommendation_table(cases: list[dict[str, Any]]) -> list[str]:
    """Return every recommendation of the run against the reference (monthly USD)."""
    rows = [row for case in cases for row in recommendation_rows(case)]
    head = ["## Recommendations against the reference", "",
            "| case | recommendation | stated | reference | error | verdict |", "|---|---|---|---|---|---|"]
    return head + (rows or ["| – | no recommendation | | | | |"]) + [""]


def _score(case: dict[str, Any], evaluator: str, shown: Shown) -> str:
    output = case["evaluators"].get(evaluator)
    return "–" if output is None else shown(output["score"]) + ("" if output["passed"] else " ✗")


def case_row(case: dict[str, Any]) -> str:
    """Return one case's table row: verdict and each headline score (✗ marks a failed check)."""
    verdict = "pass" if case["passed"] else "crash" if case.get("error") else "FAIL"
    scores = [_score(case, evaluator, shown) for _, evaluator, shown in CASE_COLUMNS]
    return f"| {case['id']} | {workload(case)} | {case['intent']} | {verdict} | " + " | ".join(scores) + " |"


def workload(case: dict[str, Any]) -> str:
    """Return the case's workload in a few words: a scenario, or a planted or trace name."""
    return case["scenario"] if isinstance(case["events"], int) else str(case["events"])


def case_table(cases: list[dict[str, Any]]) -> list[str]:
    """Return the per-case table."""
    columns = ["case", "workload", "intent", "result", *(name for name, _, _ in CASE_COLUMNS)]
    return ["## Cases", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns),
            *(case_row(c) for c in cases), ""]


def case_failures(case: dict[str, Any]) -> list[str]:
    """Return the bullet lines explaining why a case failed."""
    if case.get("error"):
        return [f"- crashed: {case['error']}"]
    failed = {name: out for name, out in case["evaluators"].items() if not out["passed"]}
    return [f"- {name}: {text}" for name, out in failed.items() for text in out["details"]["failures"] or ["failed"]]


def failures(cases: list[dict[str, Any]]) -> list[str]:
    """Return the Failures section: each failed case with each failed check in words."""
    failed = [c for c in cases if not c["passed"]]
    body = [line for c in failed for line in [f"### {c['id']}", "", f"> {c['question']}", "",
                                               *case_failures(c), ""]]
    return ["## Failures", "", *(body or ["None: every check of every case passed.", ""])]


def render_report(doc: dict[str, Any]) -> str:
    """Return the markdown report of a results document."""
    cases = doc["cases"]
    return "\n".join(header(doc) + goal_table(doc["aggregates"]) + aggregate_table(doc["aggregates"])
                     + case_table(cases) + recommendation_table(cases) + failures(cases))
