"""A run's recommendations judged against the reference: true and false positives, misses, savings errors."""

from __future__ import annotations

import json

import pytest

from netra.evals.aggregate import aggregates
from netra.evals.dataset import parse_case
from netra.evals.evaluators import EVALUATORS
from netra.evals.reference import ReferenceCatalog, ScopeTruth, Window
from netra.evals.truth import QUESTION, CaseError, Recommendation, check_case, judge_case
from netra.workloads.catalog import PACKAGED_CATALOG

DAY = 86_400_000


@pytest.fixture(scope="module")
def truth(catalog) -> ScopeTruth:
    """Ten days of a declared batch feature (gpt-4.1) and an undeclared one, 40 requests a day each."""
    reference = ReferenceCatalog(json.loads(PACKAGED_CATALOG.read_text())["models"], catalog.resolve)
    events = [{"request_id": f"{feature}-{i}", "timestamp": i * DAY // 40, "feature": feature, "model": "gpt-4.1",
               "user_id": "u1", "input_tokens": 3000, "output_tokens": 300, "status": "ok",
               "attributes": {"batch_eligible": "true"} if feature == "bulk" else {}}
              for feature in ("bulk", "chat") for i in range(400)]
    return ScopeTruth(events, Window(), reference)


def rec(feature: str, saving: float, kind: str = "batch_api", **extra) -> dict:
    """Return a state recommendation whose joint (attributed) saving is `saving`."""
    return {"kind": kind, "feature": feature, "model": "gpt-4.1", "monthly_saving_usd": 999.0, "params": {},
            "simulated": {"attributed_monthly_saving_usd": saving}, **extra}


def case(intent: str = "optimize", **expected):
    return parse_case(json.dumps({"id": "c", "scenario": "mixed", "events": 100, "question": "Cut cost",
                                  "intent": intent, "expected": expected}), "test")


def test_a_recommendation_is_read_with_its_joint_saving_and_policy_parameters():
    read = Recommendation.of({**rec("bulk", 12.5), "params": {"max_retries": 1, "retry_rate": 0.3},
                              "quality_risk": "unknown"})
    assert (read.stated_monthly_usd, dict(read.policy.params), read.quality_risk) == (12.5, {"max_retries": 1},
                                                                                      "unknown")
    assert Recommendation.of({"kind": "batch_api", "monthly_saving_usd": 3.0}).stated_monthly_usd == 3.0


def test_supported_recommendations_carry_a_savings_error_and_the_rest_are_false_positives(truth):
    saving = truth.opportunity("batch_api", "bulk", "gpt-4.1").monthly_saving_usd
    judged = judge_case(truth, [rec("bulk", saving * 1.05), rec("chat", 40.0)])
    bulk, chat = judged.judged
    assert bulk.verdict.supported and bulk.error == pytest.approx(0.05) and not judged.missed()
    assert not chat.verdict.supported and chat.error is None and judged.false_positives() == [chat]


def test_an_expected_opportunity_not_recommended_is_missed(truth):
    assert [o.policy.key for o in judge_case(truth, []).missed()] == [("batch_api", "bulk", "gpt-4.1")]


def test_a_plain_question_supports_no_recommendation():
    judged = judge_case(None, [rec("bulk", 10.0)])
    assert judged.expected == () and judged.false_positives()[0].verdict.reason == QUESTION


@pytest.mark.parametrize(("expected", "message"), [
    ({"findings": ["batch_api@chat"]}, "not expected by the reference ['batch_api@chat']"),
    ({"absent": ["batch_api@bulk"]}, "supported although ruled out ['batch_api@bulk']"),
], ids=["finding-not-there", "absent-but-supported"])
def test_a_case_whose_workload_does_not_hold_its_statement_crashes(truth, expected, message):
    with pytest.raises(CaseError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_case(case(**expected), truth)
    check_case(case(findings=["batch_api@bulk"], absent=["batch_api@chat"]), truth)


@pytest.mark.parametrize(("name", "score", "says"), [
    ("finding_precision", 0.5, "recommended `batch_api` on `chat` (gpt-4.1) ($40.00/month), which the reference "
                               "does not support: nothing says these requests can wait"),
    ("savings_error", 0.5, "`batch_api` on `bulk` estimated $"),
    ("savings_error", 0.5, "off by 50.0% (tolerance 10%)"),
], ids=["false-positive", "savings-off", "savings-tolerance"])
def test_evaluators_explain_each_failure_in_words(truth, name, score, says):
    saving = truth.opportunity("batch_api", "bulk", "gpt-4.1").monthly_saving_usd
    out = EVALUATORS[name](case(), {}, judge_case(truth, [rec("bulk", saving * 1.5), rec("chat", 40.0)]), {})
    assert out["score"] == pytest.approx(score) and not out["passed"] and says in out["details"]["failures"][0]


def test_recall_names_what_the_run_missed(truth):
    out = EVALUATORS["finding_recall"](case(), {}, judge_case(truth, []), {})
    assert out["score"] == 0.0 and out["details"]["failures"][0].startswith(
        "missed `batch_api` on `bulk` (gpt-4.1): the reference expects it")


def test_savings_errors_aggregate_over_every_supported_recommendation_and_goals_are_judged():
    def run(errors: list[float]) -> dict:
        details = {"errors": [{"error": e} for e in errors]}
        return {"passed": True, "evaluators": {"savings_error": {"score": None, "passed": True, "details": details}}}
    agg = aggregates([run([0.0, 0.01]), run([0.2])] + [run([]) for _ in range(40)])
    assert (agg["savings_error_median"], agg["savings_error_max"], agg["savings_checked"]) == (0.01, 0.2, 3)
    assert agg["goals"] == {"cases": True, "finding_precision_micro": None, "finding_recall_micro": None,
                            "savings_error_median": True, "savings_error_max": False}
