"""What the reference supports, kind by kind, on small hand-made event sets."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from netra.evals.reference import PolicySpec, ReferenceCatalog, ScopeTruth, Window
from netra.workloads.catalog import PACKAGED_CATALOG

HOUR, DAY = 3_600_000, 86_400_000
PROMPT = list(range(1, 17))  # 16 blocks of 256: a 4,096-token shared prefix


@pytest.fixture(scope="module")
def reference(catalog) -> ReferenceCatalog:
    return ReferenceCatalog(json.loads(PACKAGED_CATALOG.read_text())["models"], catalog.resolve)


def event(i: int, ts: int, feature: str = "f", model: str = "gpt-4.1", **columns) -> dict:
    """Return a reference event of a user: 2,000 input and 200 output tokens unless given."""
    return {"request_id": f"r{i:05d}", "timestamp": ts, "feature": feature, "model": model, "user_id": "u1",
            "provider": "anthropic" if model.startswith("claude") else "openai", "input_tokens": 2000,
            "output_tokens": 200, "status": "ok", "finish_reason": "stop", **columns}


def cached(gap_ms: int, n: int = 40) -> list[dict]:
    """Return `n` claude-sonnet-4-5 requests `gap_ms` apart sharing a 4,096-token prefix."""
    return [event(i, i * gap_ms, model="claude-sonnet-4-5", input_tokens=4096 + 256, prefix_hashes=PROMPT + [1000 + i],
                  block_size=256) for i in range(n)]


def scored(n: int, model: str, score: float, start: int = 0) -> list[dict]:
    """Return `n` short gpt-4o family answers, every one scored `score`."""
    return [event(start + i, i * 60_000, model=model, input_tokens=400, output_tokens=20, quality_score=score)
            for i in range(n)]


@dataclass(frozen=True)
class Row:
    """A workload and a policy, and whether the reference supports the policy on it (and why)."""

    id: str
    events: list[dict]
    policy: PolicySpec
    supported: bool
    reason: str
    risk: str = "low"


ROUTE = PolicySpec.of("route_model", "f", "gpt-4o", target_model="gpt-4o-mini")
DAILY_JOB = [event(i, d * DAY + 2 * HOUR + i * 60_000, feature="job", user_id="") for d in range(3) for i in range(5)]
DAYTIME = [event(100 + d, d * DAY + 12 * HOUR, feature="chat") for d in range(3)]
ROWS = [
    Row("dense-cache", cached(60_000), PolicySpec.of("prompt_cache", "f", "claude-sonnet-4-5", ttl_option="5m"),
        True, "the replay saves"),
    Row("sparse-cache", cached(2 * HOUR), PolicySpec.of("prompt_cache", "f", "claude-sonnet-4-5", ttl_option="1h"),
        False, "caching costs more"),
    Row("unhashed", [event(i, i) for i in range(5)], PolicySpec.of("prompt_cache", "f", "gpt-4.1", ttl_option="5m"),
        False, "no prefix hashes are logged"),
    Row("route-kept", scored(30, "gpt-4o", 0.8) + scored(30, "gpt-4o-mini", 0.8, 100), ROUTE, True,
        "the team's scores drop 0.000"),
    Row("route-dropped", scored(30, "gpt-4o", 0.8) + scored(30, "gpt-4o-mini", 0.7, 100), ROUTE, False,
        "the team's scores drop 0.100"),
    Row("route-unmeasured-low", scored(30, "gpt-4o", 0.8), ROUTE, False, "this one says `low`"),
    Row("route-unmeasured-unknown", scored(30, "gpt-4o", 0.8), ROUTE, True, "not measured", "unknown"),
    Row("cap-hit", [event(i, i, max_tokens=1000, output_tokens=1000 if i % 5 == 0 else 100) for i in range(20)],
        PolicySpec.of("cap_max_tokens", "f", "gpt-4.1", cap=200), True, "4 outputs reached their max_tokens"),
    Row("cap-never-hit", [event(i, i, max_tokens=1000) for i in range(20)],
        PolicySpec.of("cap_max_tokens", "f", "gpt-4.1", cap=100), False, "no output reached its max_tokens"),
    Row("batch-absent", [event(i, i * 1000, user_id="", ttft_ms=0) for i in range(20)],
        PolicySpec.of("batch_api", "f", "gpt-4.1"), False, "nothing says these requests can wait"),
    Row("batch-declared", [event(i, i, attributes={"batch_eligible": "TRUE"}) for i in range(5)],
        PolicySpec.of("batch_api", "f", "gpt-4.1"), True, "evidence: declared"),
    Row("batch-slow", [event(i, i, ttft_ms=12_000) for i in range(5)], PolicySpec.of("batch_api", "f", "gpt-4.1"),
        True, "evidence: slow_first_token"),
    Row("batch-schedule", DAILY_JOB + DAYTIME, PolicySpec.of("batch_api", "job", "gpt-4.1"), True,
        "evidence: schedule"),
    Row("batch-one-day", DAILY_JOB[:5] + DAYTIME[:1], PolicySpec.of("batch_api", "job", "gpt-4.1"), False,
        "nothing says"),
    Row("retry-billed", [event(1, 0, status="error", prompt_hash=9, output_tokens=40), event(2, 1, prompt_hash=9)],
        PolicySpec.of("retry_budget", "f", "gpt-4.1", max_retries=0), True, "1 billed retried failures"),
    Row("retry-refused", [event(1, 0, status="error", prompt_hash=9, output_tokens=0), event(2, 1, prompt_hash=9)],
        PolicySpec.of("retry_budget", "f", "gpt-4.1", max_retries=0), False, "no retried failure was billed"),
    Row("retry-within-budget", [event(1, 0, status="error", prompt_hash=9, output_tokens=40),
                                event(2, 1, prompt_hash=9)],
        PolicySpec.of("retry_budget", "f", "gpt-4.1", max_retries=1), False, "the budget saves $0.00"),
    Row("out-of-scope", [event(1, 0)], PolicySpec.of("batch_api", "other", "gpt-4.1"), False,
        "no event of `other` on `gpt-4.1` is in the question's scope"),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_the_reference_supports_a_policy_only_with_its_evidence_and_a_saving(reference, row):
    verdict = ScopeTruth(row.events, Window(), reference).verdict(row.policy, row.risk)
    assert verdict.supported is row.supported and row.reason in verdict.reason, verdict.reason


def test_expected_opportunities_carry_the_references_own_parameters(reference):
    runaways = [event(500 + i, i, max_tokens=4000, output_tokens=4000, finish_reason="length") for i in range(5)]
    events = cached(60_000) + runaways + [event(600 + i, i, max_tokens=4000, output_tokens=300 + i) for i in range(50)]
    truth = ScopeTruth(events, Window(), reference)
    assert {o.policy.kind: dict(o.policy.params) for o in truth.expected()} == {
        "prompt_cache": {"ttl_option": "5m"}, "cap_max_tokens": {"cap": 349}}


def test_an_opportunity_below_the_proposers_minimum_is_supported_but_not_expected(reference):
    declared = [event(i, i * 5 * DAY, attributes={"interactive": "false"}) for i in range(3)]
    truth = ScopeTruth(declared, Window(), reference)
    batch = truth.opportunity("batch_api", "f", "gpt-4.1")
    assert batch.verdict.supported and 0 < batch.monthly_saving_usd < 1.0 and not batch.expected
