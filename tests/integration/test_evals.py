"""Offline evaluations: dataset validation, each evaluator, the runner on the smoke set, compare."""

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
from netra.evals import EVALUATORS, CaseError, DatasetError, Thresholds, compare, load_dataset, load_results, run_eval
from netra.evals.dataset import FIXES, parse_case
from netra.evals.runner import progress_line
from netra.evals.usage import usage_summary
from netra.graph.state import AGENTS
from netra.llm.breaker import BREAKERS
from netra.workloads.synthetic import SCENARIOS
from tests.llm_server import Reply, ScriptedLLM
from tests.servers import serving

ROOT = Path(__file__).resolve().parents[2]
SMOKE, CORE = ROOT / "evals" / "datasets" / "smoke", ROOT / "evals" / "datasets" / "core"
KINDS = list(FIXES)
GOOD = {"id": "c1", "scenario": "mixed", "seed": 7, "events": 1000, "question": "How can we cut cost?",
        "intent": "optimize"}
FEATURES = {"premium_on_simple": "ticket_classifier", "uncached_prefix": "support_bot",
            "oversized_max_tokens": "summarizer", "retry_storm": "agent_tools",
            "batchable_offline": "nightly_enrichment"}
MANIFEST = {"inefficiencies": [{"kind": k, "feature": f, "monthly_saving_usd": 100.0} for k, f in FEATURES.items()]}


def write_dataset(folder: Path, lines: list) -> Path:
    """Write cases (dicts as JSON, strings as written) to folder/cases.jsonl; return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    (folder / "cases.jsonl").write_text(text + "\n")
    return folder


def case(**expected):
    """Return the GOOD case with `expected` as its expectations."""
    return parse_case(json.dumps({**GOOD, "expected": expected}), "test")


def rec(kind: str, saving: float = 100.0, feature: str | None = None) -> dict:
    """Return the recommendation that fixes manifest `kind` (on its planted feature unless given)."""
    return {"kind": FIXES[kind], "feature": feature or FEATURES[kind], "monthly_saving_usd": saving}


ALL = [rec(k) for k in KINDS]


@pytest.mark.parametrize(("lines", "message"), [
    ([GOOD, "{not json"], "cases.jsonl:2: not valid JSON"),
    ([{**GOOD, "scenario": "nope"}], "cases.jsonl:1: invalid case: scenario: Input should be 'baseline'"),
    ([{k: v for k, v in GOOD.items() if k != "question"}], "cases.jsonl:1: invalid case: question: Field required"),
    ([{**GOOD, "events": "many"}], "events: Input should be a valid integer"),
    ([{**GOOD, "expected": {"findings": ["slow_disk"]}}], "expected.findings.0: Input should be"),
    ([{**GOOD, "expected": {"tools": ["no_such_tool"]}}], "unknown tools ['no_such_tool']"),
    ([{**GOOD, "expected": {"findings": ["retry_storm"], "absent": ["retry_storm"]}}], "both expected and absent"),
    ([{**GOOD, "surprise": 1}], "surprise: Extra inputs are not permitted"),
    ([GOOD, "", GOOD], "cases.jsonl:3: duplicate case id 'c1' (first on line 1)"),
    ([], "the dataset has no cases"),
], ids=["json", "scenario", "missing", "type", "kind", "tool", "both", "extra", "duplicate", "empty"])
def test_malformed_dataset_names_file_and_line(tmp_path, lines, message):
    with pytest.raises(DatasetError) as caught:
        load_dataset(write_dataset(tmp_path / "ds", lines))
    assert message in str(caught.value)


def test_missing_dataset_and_unknown_case_are_user_errors(tmp_path):
    with pytest.raises(UserInputError, match="no dataset at"):
        load_dataset(tmp_path / "nowhere")
    with pytest.raises(UserInputError, match="no case with id ghost"):
        load_dataset(write_dataset(tmp_path / "ds", [GOOD]), ["ghost"])
    assert [c.id for c in load_dataset(SMOKE, ["baseline-optimize-cost"])] == ["baseline-optimize-cost"]


def test_core_dataset_covers_every_scenario_intent_and_goal():
    cases = load_dataset(CORE)
    assert len(cases) >= 20 and {c.scenario for c in cases} == set(SCENARIOS)
    wanted = {(i, g) for i in ("optimize", "question") for g in ("cost", "latency", "both")}
    assert {(c.intent, c.goal) for c in cases} >= wanted


def test_smoke_dataset_is_small():
    cases = load_dataset(SMOKE)
    assert 3 <= len(cases) <= 4 and all(c.events <= 20_000 for c in cases)


@pytest.mark.parametrize(("name", "expected", "recs", "score", "passed", "says"), [
    ("finding_recall", {"findings": KINDS}, ALL, 1.0, True, ""),
    ("finding_recall", {"findings": KINDS}, ALL[:-1], 0.8, False, "missed `batchable_offline` on `nightly_enrichment`"),
    ("finding_recall", {}, [], 1.0, True, ""),
    ("finding_precision", {"findings": KINDS}, ALL, 1.0, True, ""),
    ("finding_precision", {"findings": KINDS}, ALL + [rec("retry_storm", feature="chat_assistant")], 5 / 6, False,
     "`chat_assistant` is healthy"),
    ("finding_precision", {"findings": KINDS[:1], "absent": KINDS[1:]}, ALL[:2], 0.5, False,
     "`uncached_prefix` is listed as absent"),
    ("finding_precision", {"findings": KINDS[:1]}, ALL[:2], 0.5, False, "which the case does not expect"),
    ("finding_precision", {}, [], 1.0, True, ""),
    ("savings_error", {"findings": KINDS}, ALL, 0.0, True, ""),
    ("savings_error", {"findings": KINDS[:3]}, [rec(KINDS[0]), rec(KINDS[1], 104.0), rec(KINDS[2], 120.0)], 0.04,
     False, "estimated $120.00/month vs manifest $100.00: off by 20.0% (tolerance 10%)"),
    ("savings_error", {"findings": KINDS[:1], "savings_tolerance": 0.25}, [rec(KINDS[0], 120.0)], 0.2, True, ""),
    ("savings_error", {"findings": KINDS, "savings_from_manifest": False}, [rec(KINDS[0], 500.0)], None, True, ""),
], ids=["recall-all", "recall-one-missed", "recall-none-expected", "precision-all", "precision-healthy",
        "precision-absent", "precision-unexpected", "precision-none", "savings-exact", "savings-one-off",
        "savings-tolerance", "savings-unchecked"])
def test_finding_and_savings_evaluators(name, expected, recs, score, passed, says):
    out = EVALUATORS[name](case(**expected), {"recommendations": recs}, MANIFEST, {})
    assert out["passed"] is passed and out["score"] == pytest.approx(score)
    assert says in " ".join(out["details"]["failures"]) and bool(out["details"]["failures"]) is not passed


OPT_AGENTS = list(AGENTS)
RAN = {"agent_status": {a: "done" for a in AGENTS},
       "tool_calls": [{"tool": "cost_analyzer"}, {"tool": "policy_proposer"}]}
REPORT = {"markdown": "Spend $1,234.00 over 14.0 days in 500 requests", "grounded": True, "ungrounded": []}


@pytest.mark.parametrize(("name", "expected", "state", "info", "score", "passed", "says"), [
    ("grounding", {}, {"report": REPORT}, {}, 1.0, True, ""),
    ("grounding", {}, {"report": {**REPORT, "grounded": False, "ungrounded": ["ungrounded: 500"]}}, {}, 2 / 3,
     False, "1 number(s) in the report trace to no tool figure: 500"),
    ("grounding", {}, {}, {}, 1.0, False, "the run produced no report"),
    ("trajectory", {"agents": OPT_AGENTS, "tools": ["cost_analyzer", "policy_proposer"]}, RAN, {}, 1.0, True, ""),
    ("trajectory", {"agents": ["triage", "data"], "tools": ["cost_analyzer"]}, RAN, {}, 0.5, True, ""),
    ("trajectory", {"agents": OPT_AGENTS, "tools": ["latency_analyzer"]}, RAN, {}, 0.0, False,
     "tools expected but not run: latency_analyzer"),
    ("trajectory", {"agents": OPT_AGENTS}, {"agent_status": {"triage": "done", "reporting": "skipped"}}, {}, 0.0,
     False, "agents expected but not run: actions_to_meet_goals, data, optimizations_core, reporting"),
    ("intent", {}, {"request": {"intent": "optimize", "goal": "latency"}}, {}, 1.0, True, ""),
    ("intent", {}, {"request": {"intent": "question"}}, {}, 0.0, False, "triage read intent `question`, expected"),
    ("run_errors", {}, {"errors": [{"agent": "data", "type": "ServiceError", "message": "down"}]}, {}, 1.0, False,
     "agent `data` failed: ServiceError: down"),
    ("run_errors", {}, {"errors": []}, {}, 0.0, True, ""),
    ("latency", {"max_seconds": 2.0}, {}, {"seconds": 3.5}, 3.5, False, "the run took 3.5 s, over the 2 s budget"),
    ("latency", {}, {}, {"seconds": 3.5}, 3.5, True, ""),
    ("token_cost", {}, {}, {"mode": "model", "usage": {"total_tokens": 1500}}, 1500.0, True, ""),
], ids=["grounded", "one-ungrounded", "no-report", "strict", "subset", "tool-missing", "agents-missing",
        "intent-ok", "intent-wrong", "errors", "no-errors", "over-budget", "no-budget", "tokens"])
def test_run_evaluators(name, expected, state, info, score, passed, says):
    out = EVALUATORS[name](case(**expected), state, MANIFEST, info)
    assert out["passed"] is passed and out["score"] == pytest.approx(score)
    assert says in " ".join(out["details"]["failures"])


def test_intent_checks_the_goal_when_the_case_names_one():
    named = parse_case(json.dumps({**GOOD, "goal": "both"}), "test")
    out = EVALUATORS["intent"](named, {"request": {"intent": "optimize", "goal": "cost"}}, MANIFEST, {})
    assert not out["passed"] and out["details"]["failures"] == ["triage read goal `cost`, expected `both`"]


def test_expecting_a_kind_the_manifest_does_not_plant_is_a_case_error():
    with pytest.raises(CaseError, match=r"expected findings \['retry_storm'\] are not planted in mixed"):
        EVALUATORS["finding_recall"](case(findings=["retry_storm"]), {}, {"inefficiencies": []}, {})


def test_token_usage_is_summed_and_priced_from_the_catalog(catalog):
    used = {"gpt-4o-mini-2024-07-18": {"input_tokens": 1000, "output_tokens": 100, "total_tokens": 1100}}
    prices = catalog.unit_prices("gpt-4o-mini")
    summary = usage_summary(used, catalog)
    assert summary["total_tokens"] == 1100
    assert summary["cost_usd"] == pytest.approx(1000 * prices["input"] + 100 * prices["output"])
    assert usage_summary({"no-such-model": {"input_tokens": 5}}, catalog)["cost_usd"] is None
    assert usage_summary({}, catalog)["cost_usd"] == usage_summary({}, catalog)["total_tokens"] == 0  # offline


@pytest.fixture(scope="module")
def smoke(session_store, catalog, tmp_path_factory):
    """Run the smoke dataset once, offline, on the session store; return (results, out folder, progress lines)."""
    out, lines = tmp_path_factory.mktemp("smoke-run"), []
    with pytest.MonkeyPatch.context() as env:
        env.delenv("OPENAI_API_KEY", raising=False)
        settings = Settings(home=tmp_path_factory.mktemp("eval-home"), llm_api_key="", llm_base_url="")
        results = run_eval(SMOKE, out, settings, store=session_store, catalog=catalog,
                           progress=lambda i, n, c: lines.append(progress_line(i, n, c)))
    return results, out, lines


def test_smoke_run_writes_results_json(smoke):
    results, out, lines = smoke
    saved = json.loads((out / "results.json").read_text())
    assert saved["aggregates"] == results["aggregates"] and saved["dataset"]["name"] == "smoke"
    assert saved["mode"] == "offline" and saved["version"]["netra"] and saved["started"] < saved["finished"]
    assert [line.split()[:3] for line in lines][0] == ["[1/4]", "mixed-optimize-cost", "✓"] and len(lines) == 4


def test_smoke_run_writes_report_md(smoke):
    report = (smoke[1] / "report.md").read_text()
    assert report.startswith("# Netra evaluation: smoke")
    assert "| mixed-optimize-cost | mixed | optimize | pass |" in report
    assert "## Aggregates" in report and "None: every check of every case passed." in report


def test_smoke_run_recovers_every_planted_finding(smoke):
    agg = smoke[0]["aggregates"]
    assert agg["passed"] == agg["cases"] == 4 and agg["crashed"] == 0
    assert agg["finding_recall_micro"] == agg["finding_recall_macro"] == agg["finding_precision_micro"] == 1.0
    assert agg["savings_error_median"] <= 0.10 and agg["grounding_mean"] == 1.0
    assert agg["trajectory_strict_rate"] == agg["intent_accuracy"] == 1.0 and agg["tokens_total"] == 0


def test_consecutive_cases_on_the_same_workload_reuse_it(smoke):
    reused = {c["id"]: c["workload_reused"] for c in smoke[0]["cases"]}
    assert reused == {"mixed-optimize-cost": False, "mixed-question-latency": True, "baseline-optimize-cost": False,
                      "retry-optimize-latency": False}


BASE = {**GOOD, "scenario": "baseline", "events": 2000, "question": "What did we spend last week?",
        "intent": "question"}
BROKEN_RUN = [{**BASE, "id": "broken", "expected": {"findings": ["retry_storm"]}}, {**BASE, "id": "fine"},
              {**BASE, "id": "wrong", "expected": {"tools": ["latency_analyzer"]}}]


def test_a_crashing_case_is_recorded_and_the_run_goes_on(store, catalog, tmp_path):
    dataset, out = write_dataset(tmp_path / "ds", BROKEN_RUN), tmp_path / "out"
    results = run_eval(dataset, out, Settings(home=tmp_path), store=store, catalog=catalog)
    broken, fine, wrong = results["cases"]
    assert broken["error"].startswith("CaseError: expected findings ['retry_storm'] are not planted in baseline")
    assert fine["passed"] and not wrong["passed"] and results["aggregates"]["crashed"] == 1
    report = (out / "report.md").read_text()
    assert "- crashed: CaseError" in report and "- trajectory: tools expected but not run: latency_analyzer" in report


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
    (tmp_path / "results.json").write_text(json.dumps(doctored(smoke[0], "baseline-optimize-cost")))
    printed = io.StringIO()
    console = Console(file=printed, width=200)
    assert compare_command(console, smoke[1], smoke[1] / "results.json") == 0 and "no regression" in printed.getvalue()
    assert compare_command(console, smoke[1], tmp_path, max_recall_drop=0.5) == 1
    assert "REGRESSION: case baseline-optimize-cost passed in A and fails in B" in printed.getvalue()
    assert "finding_recall_micro worsened" not in printed.getvalue()  # loosened past the 0.2 drop


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
