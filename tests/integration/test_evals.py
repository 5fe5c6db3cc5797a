"""Offline evaluations end to end: the smoke set through the graph, results and report, compare, the gate.

The dataset format, the reference and the evaluators have their own tests (tests/unit/test_eval_*.py).
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from netra.cli.evals import compare_command
from netra.config import Settings
from netra.errors import UserInputError
from netra.evals import Thresholds, compare, load_results, run_eval
from netra.evals import runner
from netra.evals.runner import progress_line
from netra.llm.breaker import BREAKERS
from tests.support.llm_server import Reply, ScriptedLLM
from tests.support.servers import serving

ROOT = Path(__file__).resolve().parents[2]
SMOKE = ROOT / "evals" / "datasets" / "smoke"
PLANTED_CASES = ["sparse-cache-optimize", "unlogged-interactive-optimize"]


def write_dataset(folder: Path, lines: list) -> Path:
    """Write cases as JSON lines to folder/cases.jsonl; return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cases.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return folder


def offline(home: Path) -> Settings:
    """Return settings that configure no model."""
    return Settings(home=home, llm_api_key="", llm_base_url="")


@pytest.fixture(scope="module")
def smoke(session_store, catalog, tmp_path_factory):
    """Run the smoke dataset once, offline, on the session store; return (results, out folder, progress lines)."""
    out, lines = tmp_path_factory.mktemp("smoke-run"), []
    with pytest.MonkeyPatch.context() as env:
        env.delenv("OPENAI_API_KEY", raising=False)
        results = run_eval(SMOKE, out, offline(tmp_path_factory.mktemp("eval-home")), store=session_store,
                           catalog=catalog, progress=lambda i, n, c: lines.append(progress_line(i, n, c)))
    return results, out, lines


def test_smoke_run_writes_results_json_with_the_reference_truth(smoke):
    results, out, lines = smoke
    saved = json.loads((out / "results.json").read_text())
    assert saved["aggregates"] == results["aggregates"] and saved["dataset"]["name"] == "smoke"
    assert saved["mode"] == "offline" and saved["version"]["netra"] and saved["started"] < saved["finished"]
    assert [line.split()[:2] for line in lines][0] == ["[1/5]", "mixed-optimize-cost"] and len(lines) == 5


def test_each_case_carries_the_references_expected_findings(smoke):
    planted = next(c for c in smoke[0]["cases"] if c["id"] == "unlogged-interactive-optimize")
    assert {(e["kind"], e["feature"]) for e in planted["truth"]["expected"]} == {
        ("batch_api", "nightly_export"), ("batch_api", "bulk_tagging")}


def test_smoke_run_writes_report_md(smoke):
    report = (smoke[1] / "report.md").read_text()
    assert report.startswith("# Netra evaluation: smoke")
    assert "| mixed-optimize-cost | mixed | optimize |" in report
    assert "| sparse-cache-optimize | planted:sparse_cache | optimize |" in report
    assert "## Goals" in report and "## Recommendations against the reference" in report and "## Failures" in report


def test_smoke_run_meets_the_reference(smoke):
    agg = smoke[0]["aggregates"]
    assert agg["crashed"] == 0 and agg["passed"] == agg["cases"] == 5, agg
    assert agg["finding_recall_micro"] == agg["finding_precision_micro"] == 1.0
    assert agg["savings_error_max"] <= 0.10 and agg["grounding_mean"] == 1.0
    assert agg["trajectory_strict_rate"] == agg["intent_accuracy"] == 1.0 and agg["tokens_total"] == 0


def test_consecutive_cases_on_the_same_workload_reuse_it(smoke):
    reused = {c["id"]: c["workload_reused"] for c in smoke[0]["cases"]}
    assert reused == {"mixed-optimize-cost": False, "mixed-question-latency": True, "retry-optimize-latency": False,
                      "sparse-cache-optimize": False, "unlogged-interactive-optimize": False}


BASE = {"id": "base", "scenario": "baseline", "seed": 7, "events": 2000, "question": "What did we spend last week?",
        "intent": "question"}
DIGEST = {"id": "digest", "seed": 5, "events": "planted:sparse_cache", "question": "Cut the cost of weekly_digest",
          "intent": "optimize", "scope": {"feature": "weekly_digest"}}
BROKEN_RUN = [{**DIGEST, "id": "broken", "expected": {"findings": ["prompt_cache@weekly_digest"]}},
              {**BASE, "id": "fine"}, {**BASE, "id": "wrong", "expected": {"tools": ["latency_analyzer"]}}]


def test_a_case_whose_workload_does_not_hold_its_statement_crashes_and_the_run_goes_on(store, catalog, tmp_path):
    results = run_eval(write_dataset(tmp_path / "ds", BROKEN_RUN), tmp_path / "out", offline(tmp_path), store=store,
                       catalog=catalog)
    broken, fine, wrong = results["cases"]
    assert broken["error"].startswith("CaseError: the workload does not hold what case broken states: not expected "
                                      "by the reference ['prompt_cache@weekly_digest']")
    assert fine["passed"] and not wrong["passed"] and results["aggregates"]["crashed"] == 1
    assert "- trajectory: tools expected but not run: latency_analyzer" in (tmp_path / "out" / "report.md").read_text()


def doctored(results: dict, case_id: str) -> dict:
    """Return a copy of `results` in which `case_id` fails and recall fell by 0.2."""
    copied = copy.deepcopy(results)
    next(c for c in copied["cases"] if c["id"] == case_id)["passed"] = False
    copied["aggregates"]["finding_recall_micro"] -= 0.2
    return copied


def test_comparing_a_run_with_itself_finds_no_regression(smoke):
    comparison = compare(smoke[0], smoke[0])
    assert comparison.regressions == [] and comparison.newly_failing == comparison.newly_passing == []
    assert all(delta in (0.0, None) for *_, delta in comparison.rows)


def test_compare_names_the_regressed_metric_and_case(smoke):
    comparison = compare(smoke[0], doctored(smoke[0], "mixed-optimize-cost"))
    text = "\n".join(comparison.regressions)
    assert "finding_recall_micro worsened by 0.200 (1.000 → 0.800; allowed 0.020)" in text
    assert "case mixed-optimize-cost passed in A and fails in B" in text
    assert comparison.newly_failing == ["mixed-optimize-cost"]
    assert compare(doctored(smoke[0], "mixed-optimize-cost"), smoke[0]).newly_passing == ["mixed-optimize-cost"]


def test_compare_thresholds_can_be_loosened(smoke):
    worse = copy.deepcopy(smoke[0])
    worse["aggregates"]["savings_error_median"] += 0.05
    assert compare(smoke[0], worse).regressions[0].startswith("savings_error_median worsened by 0.050")
    assert compare(smoke[0], worse, Thresholds(max_savings_error_rise=0.1)).regressions == []


def test_results_load_from_a_folder_or_file_and_bad_ones_are_user_errors(smoke, tmp_path):
    assert load_results(smoke[1]) == load_results(smoke[1] / "results.json")
    (tmp_path / "bad.json").write_text("{")
    (tmp_path / "other.json").write_text("[]")
    for path, message in [(tmp_path / "none", "no evaluation results"), (tmp_path / "bad.json", "not valid JSON"),
                          (tmp_path / "other.json", "not an evaluation results file")]:
        with pytest.raises(UserInputError, match=message):
            load_results(path)


def test_compare_command_returns_the_exit_code(smoke, tmp_path):
    (tmp_path / "results.json").write_text(json.dumps(doctored(smoke[0], "retry-optimize-latency")))
    printed = io.StringIO()
    console = Console(file=printed, width=200)
    assert compare_command(console, smoke[1], smoke[1] / "results.json") == 0 and "no regression" in printed.getvalue()
    assert compare_command(console, smoke[1], tmp_path, max_recall_drop=0.5) == 1
    assert "REGRESSION: case retry-optimize-latency passed in A and fails in B" in printed.getvalue()
    assert "finding_recall_micro worsened" not in printed.getvalue()  # loosened past the 0.2 drop


class Sabotage:
    """The graph's `ask`, whose final state overstates every recommended saving by 30% and adds a batch
    recommendation no evidence supports: a regression planted where the evaluation reads the run."""

    EXTRA = {"kind": "batch_api", "feature": "help_center", "model": "claude-sonnet-4-5", "params": {},
             "monthly_saving_usd": 9.0, "quality_risk": "low"}

    def __init__(self, real) -> None:
        self.real = real

    def __call__(self, deps, question: str, thread_id: str) -> dict:
        state = self.real(deps, question, thread_id)
        recs = [self.overstated(r) for r in state.get("recommendations") or []]
        return {**state, "recommendations": recs + [self.EXTRA]}

    @staticmethod
    def overstated(rec: dict) -> dict:
        simulated = rec.get("simulated") or {}
        saving = simulated.get("attributed_monthly_saving_usd", rec["monthly_saving_usd"])
        return {**rec, "simulated": {**simulated, "attributed_monthly_saving_usd": saving * 1.3}}


def planted_run(store, catalog, folder: Path, ask=None) -> dict:
    """Run the smoke set's planted cases, with `ask` in place of the graph's when given."""
    with pytest.MonkeyPatch.context() as env:
        env.setattr(runner, "ask", ask or runner.ask)
        return run_eval(SMOKE, folder / "out", offline(folder), store=store, catalog=catalog, case_ids=PLANTED_CASES)


def test_the_gate_catches_a_planted_regression(store, catalog, tmp_path):
    honest = planted_run(store, catalog, tmp_path / "honest")
    sabotaged = planted_run(store, catalog, tmp_path / "sabotaged", Sabotage(runner.ask))
    regressions = "\n".join(compare(honest, sabotaged).regressions)
    assert "finding_precision_micro worsened" in regressions and "savings_error_median worsened" in regressions
    assert "savings_error_max worsened" in regressions and "case sparse-cache-optimize passed in A" in regressions
    bad = next(c for c in sabotaged["cases"] if c["id"] == "sparse-cache-optimize")["truth"]["recommendations"][-1]
    assert (bad["kind"], bad["feature"], bad["supported"]) == ("batch_api", "help_center", False)


@pytest.fixture
def scripted_llm():
    """A scripted OpenAI-compatible server answering every request with plain text."""
    scripted = ScriptedLLM().script(*[Reply(content="Nothing to add.") for _ in range(40)])
    with serving(scripted.app):
        yield scripted
    BREAKERS.pop(scripted.base_url, None)


def test_model_mode_runs_the_configured_model_and_counts_its_tokens(store, catalog, tmp_path, scripted_llm):
    settings = Settings(home=tmp_path, llm_base_url=scripted_llm.base_url, llm_max_retries=0)
    dataset = write_dataset(tmp_path / "ds", [{**BASE, "id": "asked"}])
    results = run_eval(dataset, tmp_path / "out", settings, store=store, catalog=catalog)
    case_run = results["cases"][0]
    assert results["mode"] == case_run["mode"] == "model" and results["model"] == settings.llm_model
    assert case_run["error"] is None and scripted_llm.requests
    assert results["aggregates"]["tokens_total"] > 0 and case_run["evaluators"]["token_cost"]["details"]["models"]
