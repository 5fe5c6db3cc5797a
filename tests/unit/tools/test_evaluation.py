"""evaluation_criteria_definer on the rollout workload: criteria with hand-computed targets."""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.evaluation import FIGURES
from tests.support.factories import load
from tests.unit.tools.test_rollout import EVENTS, SPAN_DAYS, policy

GPT4O = {"input": 2.5e-6, "output": 1e-5}
MINI = {"input": 1.5e-7, "output": 6e-7}
MONTH = 30 / SPAN_DAYS

CHAT = 20 * 1000 * GPT4O["input"] + 3000 * GPT4O["output"]          # 15 outputs of 100 and 5 of 300
REPORT = 2 * (10000 * MINI["input"] + 1000 * MINI["output"])
# the joint order is route then cap (docs/tools.md): the route moves all 3000 output tokens,
# 20000·(2.5e-6 − 1.5e-7) + 3000·(1e-5 − 6e-7) = 0.047 + 0.0282 = $0.0752
ROUTE = 20000 * (GPT4O["input"] - MINI["input"]) + 3000 * (GPT4O["output"] - MINI["output"])
# then the 5 outputs of 300 (each set max_tokens 1000) are cut to 200, at the target's price: 5·100·6e-7 = $0.0003
CAP = 5 * 100 * MINI["output"]
BATCH = REPORT / 2
CHAT_AFTER, REPORT_AFTER = CHAT - CAP - ROUTE, REPORT - BATCH

POLICIES = [policy("route_model", target_model="gpt-4o-mini"), policy("cap_max_tokens", cap=200),
            policy("batch_api", "report", "gpt-4o-mini")]
# policy_id -> [(criterion, baseline, target, comparison)] with the default tolerances
CRITERIA = {
    "route_model:chat:gpt-4o": [
        ("feature_monthly_cost_usd", CHAT * MONTH, CHAT_AFTER * MONTH, "<="),
        ("policy_monthly_saving_usd", 0.0, ROUTE * MONTH, ">="), ("quality_score", 0.5, 0.48, ">="),
        ("error_rate", 0.1, 0.11, "<="), ("p95_latency_ms", 2000.0, 2200.0, "<=")],
    "cap_max_tokens:chat:gpt-4o": [
        ("feature_monthly_cost_usd", CHAT * MONTH, CHAT_AFTER * MONTH, "<="),
        ("policy_monthly_saving_usd", 0.0, CAP * MONTH, ">="), ("quality_score", 0.5, 0.48, ">="),
        ("error_rate", 0.1, 0.11, "<="), ("p95_latency_ms", 2000.0, 2200.0, "<=")],
    "batch_api:report:gpt-4o-mini": [
        ("feature_monthly_cost_usd", REPORT * MONTH, REPORT_AFTER * MONTH, "<="),
        ("policy_monthly_saving_usd", 0.0, BATCH * MONTH, ">="), ("quality_score", None, None, ">="),
        ("error_rate", 0.0, 0.01, "<="), ("batch_completion_hours", None, 24.0, "<=")],
}
BASE, AFTER = (CHAT + REPORT) * MONTH, (CHAT_AFTER + REPORT_AFTER) * MONTH
EXPECTED_FIGURES = {"policies": 3, "criteria": 15, "baseline_monthly_cost_usd": BASE,
                    "expected_monthly_cost_usd": AFTER, "expected_monthly_saving_usd": BASE - AFTER,
                    "expected_saving_pct": 100 * (BASE - AFTER) / BASE, "unmeasured_criteria": 1}
INVALID = [({"quality_budget": 2}, "quality_budget"), ({"policies": "route"}, "policies"),
           ({"error_rate_margin": -1}, "error_rate_margin"), ({"target": 1}, "target")]


def approx(value: float | None) -> Any:
    """Match a row value (None stays None)."""
    return value if value is None else pytest.approx(value, rel=1e-6, abs=1e-6)


@pytest.fixture
def planted(ctx) -> ToolDispatcher:
    """The store holding the rollout workload; returns a dispatcher over it."""
    load(ctx.store, ctx.catalog, EVENTS)
    return ToolDispatcher(ctx)


def define(dispatcher: ToolDispatcher, **args: Any):
    """Run the definer on POLICIES (unless `policies` is given)."""
    return dispatcher.run("evaluation_criteria_definer", {"policies": POLICIES, **args})


@pytest.mark.parametrize("policy_id,expected", sorted(CRITERIA.items()))
def test_criteria_targets_come_from_the_data_and_the_joint_repricing(planted, policy_id, expected):
    rows = [r for r in define(planted).rows if r["policy_id"] == policy_id]
    got = [(r["criterion"], r["baseline"], r["target"], r["comparison"]) for r in rows]
    assert got == [(c, approx(b), approx(t), op) for c, b, t, op in expected]


@pytest.mark.parametrize("name,value", sorted(EXPECTED_FIGURES.items()))
def test_figures(planted, name, value):
    assert define(planted).value(name) == pytest.approx(value, rel=1e-6, abs=1e-6)


def test_the_feature_saving_is_counted_once(planted):
    rows = [r for r in define(planted).rows if r["criterion"] == "policy_monthly_saving_usd"]
    assert sum(r["target"] for r in rows) == pytest.approx(define(planted).value("expected_monthly_saving_usd"))


@pytest.mark.parametrize("args,criterion,target", [({"latency_tolerance_pct": 25}, "p95_latency_ms", 2500.0),
                                                   ({"quality_budget": 0.2}, "quality_score", 0.3),
                                                   ({"error_rate_margin": 0.0}, "error_rate", 0.1)])
def test_tolerances_set_the_ceilings(planted, args, criterion, target):
    row = next(r for r in define(planted, **args).rows if r["criterion"] == criterion)
    assert row["target"] == pytest.approx(target)


def test_policies_outside_the_scope_are_noted(planted):
    result = define(planted, feature="chat")
    assert {r["policy_id"] for r in result.rows} == {"route_model:chat:gpt-4o", "cap_max_tokens:chat:gpt-4o"}
    assert "batch_api:report:gpt-4o-mini: no events of report/gpt-4o-mini in scope" in result.notes
    assert any(n.startswith("cost_impact_simulator: batch_api:report:gpt-4o-mini: not applied") for n in result.notes)


def test_without_policies_the_optimal_set_is_used(planted):
    result = planted.run("evaluation_criteria_definer", {})
    assert result.notes[0].startswith("no policies given: planning optimal_policy_proposer's chosen set")


@pytest.mark.parametrize("args,field", INVALID)
def test_bad_arguments_name_the_field(ctx, args, field):
    with pytest.raises(ToolArgumentsError, match=field):
        ToolDispatcher(ctx).run("evaluation_criteria_definer", args)


def test_empty_scope_gives_zero_figures_and_a_note(planted):
    result = define(planted, feature="nothing-here")
    assert {k: f.value for k, f in result.figures.items()} == dict.fromkeys(FIGURES, 0.0)
    assert (result.rows, result.notes) == ([], [EMPTY_NOTE])
