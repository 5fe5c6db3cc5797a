"""Evaluation datasets (validation, what core and smoke cover) and the evaluators that need no reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netra.errors import UserInputError
from netra.evals import EVALUATORS, CaseTruth, DatasetError, load_dataset
from netra.evals.dataset import parse_case
from netra.evals.planted import PLANTED
from netra.evals.traces import TRACES
from netra.evals.usage import usage_summary
from netra.graph.state import AGENTS
from netra.workloads.synthetic import SCENARIOS

ROOT = Path(__file__).resolve().parents[2]
SMOKE, CORE = ROOT / "evals" / "datasets" / "smoke", ROOT / "evals" / "datasets" / "core"
GOOD = {"id": "c1", "scenario": "mixed", "seed": 7, "events": 1000, "question": "How can we cut cost?",
        "intent": "optimize"}
PLANTED_CASE = {"id": "p1", "seed": 5, "events": "planted:sparse_cache", "question": "Cut cost", "intent": "optimize"}
NO_TRUTH = CaseTruth((), ())


def write_dataset(folder: Path, lines: list) -> Path:
    """Write cases (dicts as JSON, strings as written) to folder/cases.jsonl; return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cases.jsonl").write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    return folder


def case(**expected):
    """Return the GOOD case with `expected` as its expectations."""
    return parse_case(json.dumps({**GOOD, "expected": expected}), "test")


@pytest.mark.parametrize(("lines", "message"), [
    ([GOOD, "{not json"], "cases.jsonl:2: not valid JSON"),
    ([{**GOOD, "scenario": "nope"}], "cases.jsonl:1: invalid case: scenario: Input should be 'baseline'"),
    ([{k: v for k, v in GOOD.items() if k != "question"}], "cases.jsonl:1: invalid case: question: Field required"),
    ([{**GOOD, "events": "many"}], "events 'many': a count with a scenario, or `planted:<name>` / `trace:<name>`"),
    ([{**GOOD, "scenario": None}], "a scenario and 1..5,000,000 events are needed"),
    ([{**PLANTED_CASE, "events": "planted:nope"}], "unknown planted workload 'nope'; known: ['below_minimum'"),
    ([{**PLANTED_CASE, "scenario": "mixed"}], "a count with a scenario, or `planted:<name>`"),
    ([{**GOOD, "expected": {"findings": ["slow_disk"]}}], "not `kind@feature` with a kind of"),
    ([{**GOOD, "expected": {"tools": ["no_such_tool"]}}], "unknown tools ['no_such_tool']"),
    ([{**GOOD, "expected": {"findings": ["batch_api@x"], "absent": ["batch_api@x"]}}], "both expected and absent"),
    ([{**GOOD, "scope": {"days": 0}}], "scope.days: Input should be greater than 0"),
    ([{**GOOD, "surprise": 1}], "surprise: Extra inputs are not permitted"),
    ([GOOD, "", GOOD], "cases.jsonl:3: duplicate case id 'c1' (first on line 1)"),
    ([], "the dataset has no cases"),
], ids=["json", "scenario", "missing", "events", "no-scenario", "planted-name", "planted-and-scenario", "pair",
        "tool", "both", "scope", "extra", "duplicate", "empty"])
def test_malformed_dataset_names_file_and_line(tmp_path, lines, message):
    with pytest.raises(DatasetError) as caught:
        load_dataset(write_dataset(tmp_path / "ds", lines))
    assert message in str(caught.value)


def test_missing_dataset_and_unknown_case_are_user_errors(tmp_path):
    with pytest.raises(UserInputError, match="no dataset at"):
        load_dataset(tmp_path / "nowhere")
    with pytest.raises(UserInputError, match="no case with id ghost"):
        load_dataset(write_dataset(tmp_path / "ds", [GOOD]), ["ghost"])
    planted = load_dataset(write_dataset(tmp_path / "p", [PLANTED_CASE]))
    assert [c.source for c in planted] == [("planted", "sparse_cache")]


def test_core_covers_every_scenario_planted_workload_trace_intent_and_goal():
    cases = load_dataset(CORE)
    sources = {c.source for c in cases}
    assert len(cases) >= 40 and {name for kind, name in sources if kind == "scenario"} == set(SCENARIOS)
    assert {n for k, n in sources if k == "planted"} == set(PLANTED)
    assert {n for k, n in sources if k == "trace"} == set(TRACES)
    wanted = {(i, g) for i in ("optimize", "question") for g in ("cost", "latency", "both")}
    assert {(c.intent, c.goal) for c in cases} >= wanted


def test_smoke_is_small_and_needs_no_shared_files():
    cases = load_dataset(SMOKE)
    assert 4 <= len(cases) <= 6 and all(c.source[0] != "trace" for c in cases)
    assert all(c.events <= 20_000 for c in cases if c.source[0] == "scenario")


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
    ("intent", {}, {"request": {"intent": "optimize", "filters": {"model": "gpt-4o"}}}, {}, 0.0, False,
     "triage read filters `{'model': 'gpt-4o'}`, expected `{}`"),
    ("run_errors", {}, {"errors": [{"agent": "data", "type": "ServiceError", "message": "down"}]}, {}, 1.0, False,
     "agent `data` failed: ServiceError: down"),
    ("run_errors", {}, {"errors": []}, {}, 0.0, True, ""),
    ("latency", {"max_seconds": 2.0}, {}, {"seconds": 3.5}, 3.5, False, "the run took 3.5 s, over the 2 s budget"),
    ("latency", {}, {}, {"seconds": 3.5}, 3.5, True, ""),
    ("token_cost", {}, {}, {"mode": "model", "usage": {"total_tokens": 1500}}, 1500.0, True, ""),
], ids=["grounded", "one-ungrounded", "no-report", "strict", "subset", "tool-missing", "agents-missing",
        "intent-ok", "intent-wrong", "filters-wrong", "errors", "no-errors", "over-budget", "no-budget", "tokens"])
def test_run_evaluators(name, expected, state, info, score, passed, says):
    out = EVALUATORS[name](case(**expected), state, NO_TRUTH, info)
    assert out["passed"] is passed and out["score"] == pytest.approx(score)
    assert says in " ".join(out["details"]["failures"])


def test_intent_checks_the_goal_when_the_case_names_one():
    named = parse_case(json.dumps({**GOOD, "goal": "both"}), "test")
    out = EVALUATORS["intent"](named, {"request": {"intent": "optimize", "goal": "cost"}}, NO_TRUTH, {})
    assert not out["passed"] and out["details"]["failures"] == ["triage read goal `cost`, expected `both`"]


def test_token_usage_is_summed_and_priced_from_the_catalog(catalog):
    used = {"gpt-4o-mini-2024-07-18": {"input_tokens": 1000, "output_tokens": 100, "total_tokens": 1100}}
    prices = catalog.unit_prices("gpt-4o-mini")
    summary = usage_summary(used, catalog)
    assert summary["total_tokens"] == 1100
    assert summary["cost_usd"] == pytest.approx(1000 * prices["input"] + 100 * prices["output"])
    assert usage_summary({"no-such-model": {"input_tokens": 5}}, catalog)["cost_usd"] is None
    assert usage_summary({}, catalog)["cost_usd"] == usage_summary({}, catalog)["total_tokens"] == 0  # offline
