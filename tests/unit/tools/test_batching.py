"""batch_opportunity_finder: flagged only on evidence that callers can wait, savings computed by hand.

The planted workload spans days 0-2 from T0; every request has 1000 input and 100 output tokens.
The Azure LLM inference traces (58 minutes, no latency, no sessions, no TTFT, no user ids) must
get no batch recommendation, only findings that say what to log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from netra.tools import ToolDispatcher
from netra.workloads.importers import ImportOptions, ingest_file
from tests.support.factories import at, load

# USD per token saved by the Batch API (standard - batch, as in the price catalog), 1000 input + 100 output
PER_REQUEST = {"gpt-4.1": 1000 * (2e-6 - 1e-6) + 100 * (8e-6 - 4e-6),      # 0.0014
               "gpt-4o": 1000 * (2.5e-6 - 1.25e-6) + 100 * (1e-5 - 5e-6)}  # 0.00175
SPAN_DAYS = (48 + 21 - 1.25) / 24  # from day 0 01:15 (chat) to day 2 21:00 (partly)
MONTH = 30 / SPAN_DAYS
ZERO = {"input_tokens": 1000, "output_tokens": 100, "cached_input_tokens": 0, "cache_write_tokens": 0,
        "reasoning_tokens": 0, "is_batch": 0, "ttft_ms": 0, "session_id": "", "thread_id": "", "user_id": ""}
NO = {"interactive": "false"}


def event(feature: str, model: str, day: int, hour: float, **columns: Any) -> dict[str, Any]:
    """One request at `hour` of `day`."""
    return {**ZERO, "timestamp": at(days=day, hours=hour), "feature": feature, "model": model,
            "request_id": f"{feature}-{day}-{hour}", **columns}


def every_day(feature: str, model: str, hours: tuple[float, ...], **columns: Any) -> list[dict[str, Any]]:
    """The same requests on days 0, 1 and 2."""
    return [event(feature, model, day, hour, **columns) for day in range(3) for hour in hours]


EVENTS = (
    every_day("declared", "gpt-4.1", (12, 13, 14), user_id="u1", attributes=NO)      # declared: 9 requests
    + every_day("nightly", "gpt-4o", (1.5, 2.5))                                      # cron, no user: 6
    + every_day("chat", "gpt-4.1", (1.25, 15, 16), user_id="u2", ttft_ms=300, session_id="s")  # interactive: 9
    + [event("already", "gpt-4.1", 0, h, user_id="u3", is_batch=int(h < 21)) for h in (18, 19, 20, 21)]
    + [event("slow", "gpt-4.1", 1, h, user_id="u4", ttft_ms=12_000 if h < 21 else 5_000) for h in (18, 19, 20, 21)]
    + [event("partly", "gpt-4.1", 2, h, user_id="u5", attributes=NO if h < 20 else {}) for h in (18, 19, 20, 21)]
    + [event("deepseek", "deepseek-chat", 0, h, user_id="u6", attributes=NO) for h in (22, 23, 23.5)]
)
# the rest of the workload on the nightly days: 33 requests, 3 of them (chat at 01:15) inside its hours 01-02
NIGHTLY_FACTOR = 30 / 33

# feature -> (flagged, moved requests, window saving, confidence, evidence)
EXPECTED = {
    "declared": (True, 9, 9 * PER_REQUEST["gpt-4.1"], 1.0, ["declared"]),
    "nightly": (True, 6, 6 * PER_REQUEST["gpt-4o"], NIGHTLY_FACTOR, ["schedule"]),
    "already": (True, 1, PER_REQUEST["gpt-4.1"], 0.75, ["already_batched"]),
    "slow": (True, 4, 4 * PER_REQUEST["gpt-4.1"], 0.75, ["slow_first_token"]),
    "chat": (False, 0, 0.0, 0.0, []),
    "partly": (False, 0, 0.0, 0.0, []),
    "deepseek": (False, 0, 0.0, 0.0, ["declared"]),
}
REASONS = {
    "declared": "9 of 9 unbatched requests declare interactive=false or batch_eligible=true; "
                "the Batch API saves $0.13/month",
    "nightly": "runs on a schedule: 3 UTC days at hours 01, 02 UTC, no user ids; 91% of the rest of the workload's "
               "requests on those days fall outside those hours; the Batch API saves $0.11/month",
    "already": "75% of its requests are sent with is_batch=1; the Batch API saves $0.01/month",
    "slow": "75% of its logged first-token waits exceed 10 s; the Batch API saves $0.06/month",
    "deepseek": "deepseek-chat has no cheaper batch prices",
}
NOT_SHOWN = {
    "chat": ["no request declares interactive=false or batch_eligible=true", "0% of its logged first-token waits",
             "9 of its requests carry a user_id", "To decide, log: attributes.interactive=false"],
    "partly": ["2 of 4 unbatched requests declare interactive=false or batch_eligible=true (all needed",
               "4 of its requests carry a user_id"],
}


@pytest.fixture
def result(ctx, catalog):
    """The finder's result over the planted events."""
    load(ctx.store, catalog, EVENTS)
    return ToolDispatcher(ctx).run("batch_opportunity_finder", {})


def row_of(result, feature: str) -> dict[str, Any]:
    return next(r for r in result.rows if r["feature"] == feature)


@pytest.mark.parametrize(("feature", "expected"), sorted(EXPECTED.items()))
def test_flagged_only_on_evidence_with_the_hand_computed_saving(result, feature, expected):
    flagged, moved, window, trust, evidence = expected
    row = row_of(result, feature)
    assert (row["flagged"], row["affected_requests"], row["params"]["evidence"]) == (flagged, moved, evidence)
    assert (row["window_saving_usd"], row["monthly_saving_usd"]) == pytest.approx((window, window * MONTH))
    assert (row["confidence"], row["quality_risk"]) == (pytest.approx(trust, abs=1e-6), "low")


@pytest.mark.parametrize(("feature", "reason"), sorted(REASONS.items()))
def test_reasons_name_the_evidence(result, feature, reason):
    assert row_of(result, feature)["reason"] == reason


@pytest.mark.parametrize(("feature", "parts"), sorted(NOT_SHOWN.items()))
def test_without_evidence_the_finding_says_what_was_seen_and_what_is_at_stake(result, feature, parts):
    row = row_of(result, feature)
    assert row["reason"].startswith(f"a finding, not a recommendation: nothing shows that callers of {feature}")
    assert all(part in row["reason"] for part in parts), row["reason"]
    stake = {"chat": 9, "partly": 4}[feature] * PER_REQUEST["gpt-4.1"]
    assert (row["params"]["if_batchable_window_saving_usd"], row["params"]["if_batchable_monthly_saving_usd"]) == (
        pytest.approx(stake, abs=1e-9), pytest.approx(stake * MONTH, abs=1e-6))


def test_figures_count_only_the_evidenced_pairs(result):
    saving = (9 + 1 + 4) * PER_REQUEST["gpt-4.1"] + 6 * PER_REQUEST["gpt-4o"]
    assert {k: f.value for k, f in result.figures.items()} == {
        "monthly_saving_usd": pytest.approx(saving * MONTH, abs=1e-6), "batchable_requests": 20,
        "flagged_pairs": 4, "pairs_without_evidence": 2}
    assert result.notes == ["no evidence that callers can wait for a batch on chat/gpt-4.1, partly/gpt-4.1; "
                            "to decide, log: attributes.interactive=false (or batch_eligible=true) on the requests "
                            "nobody waits for; ttft_ms of streamed requests"]


# a nightly job is only a schedule with its own rule: (events, why it is not)
NOT_A_SCHEDULE = {
    "user ids": (every_day("nightly", "gpt-4o", (1.5,), user_id="u9") + every_day("chat", "gpt-4o", (12,), user_id="u"),
                 "3 of its requests carry a user_id"),
    "one day": ([event("nightly", "gpt-4o", 0, 1.5), event("chat", "gpt-4o", 0, 12, user_id="u")],
                "it is seen on 1 UTC day(s)"),
    "hour once": (every_day("nightly", "gpt-4o", (1.5,)) + [event("nightly", "gpt-4o", 0, 5.5)]
                  + every_day("chat", "gpt-4o", (12,), user_id="u"), "some of its hours (01, 05 UTC)"),
    "every hour": (every_day("nightly", "gpt-4o", (1.5, 12.5)) + every_day("chat", "gpt-4o", (12,), user_id="u"),
                   "it fires in every hour in which the rest of the workload does"),
    "no user ids logged": (every_day("nightly", "gpt-4o", (1.5,)) + every_day("chat", "gpt-4o", (12,)),
                           "no request in the window logs a user_id"),
}


@pytest.mark.parametrize("case", sorted(NOT_A_SCHEDULE))
def test_a_recurring_window_is_evidence_only_by_the_whole_rule(ctx, catalog, case):
    planted, why = NOT_A_SCHEDULE[case]
    load(ctx.store, catalog, planted)
    row = row_of(ToolDispatcher(ctx).run("batch_opportunity_finder", {}), "nightly")
    assert not row["flagged"] and why in row["reason"], row["reason"]


@pytest.mark.parametrize(("scope", "features"), [
    ({"feature": "nightly"}, ["nightly"]),
    ({"model": "gpt-4o"}, ["nightly"]),
])
def test_a_scope_keeps_the_features_evidence_and_binds_its_values(ctx, catalog, scope, features):
    load(ctx.store, catalog, EVENTS)
    result = ToolDispatcher(ctx).run("batch_opportunity_finder", scope)
    assert [(r["feature"], r["flagged"]) for r in result.rows] == [(f, True) for f in features]
    assert not any(str(v) in e.sql for e in result.evidence for v in scope.values())
    assert all(e.params[k] == v for e in result.evidence for k, v in scope.items() if f"{{{k}:" in e.sql)


# ---------------------------------------------------------------- the Azure LLM inference traces

DATA = Path("/work/shared/data")
TRACES = {"conv": DATA / "AzureLLMInferenceTrace_conv.csv", "code": DATA / "AzureLLMInferenceTrace_code.csv"}


def azure_stake(feature: str) -> float:
    """What gpt-4o's Batch API would save a month on a trace, from the CSV itself, over both traces' span
    (58.5 minutes, so the tools' minimum span of one hour)."""
    rows = np.genfromtxt(TRACES[feature], delimiter=",", skip_header=1, usecols=(1, 2))
    stamps = np.concatenate([np.genfromtxt(path, delimiter=",", skip_header=1, usecols=0, dtype="datetime64[ms]")
                             for path in TRACES.values()])
    window = rows[:, 0].sum() * (2.5e-6 - 1.25e-6) + rows[:, 1].sum() * (1e-5 - 5e-6)
    return window * 30 / max((stamps.max() - stamps.min()).astype(float) / 86_400_000, 1 / 24)


@pytest.fixture
def azure(ctx, catalog) -> ToolDispatcher:
    """The store holding both Azure traces as gpt-4o traffic, features `conv` and `code`."""
    for feature, path in TRACES.items():
        ingest_file(ctx.store, catalog, path, "azure", ImportOptions(model="gpt-4o", feature=feature))
    return ToolDispatcher(ctx)


AZURE_SAYS = ["no request logs a ttft_ms (0 is missing data, not evidence)",
              "no request in the window logs a user_id, so a job cannot be told from users",
              "To decide, log: attributes.interactive=false (or batch_eligible=true) on the requests nobody waits for; "
              "ttft_ms of streamed requests; user_id on user-facing requests, and two or more days of traffic"]


@pytest.mark.skipif(not DATA.exists(), reason="the shared Azure traces are not here")
def test_the_azure_traces_get_no_batch_recommendation(azure):
    result = azure.run("batch_opportunity_finder", {})
    assert [(r["feature"], r["flagged"], r["monthly_saving_usd"]) for r in result.rows] == [
        ("code", False, 0.0), ("conv", False, 0.0)]
    assert azure.run("policy_proposer", {"kinds": ["batch_api"]}).rows == []


@pytest.mark.skipif(not DATA.exists(), reason="the shared Azure traces are not here")
@pytest.mark.parametrize("feature", sorted(TRACES))
def test_an_azure_batch_finding_says_what_to_log_and_what_is_at_stake(azure, feature):
    row = row_of(azure.run("batch_opportunity_finder", {}), feature)
    assert row["params"]["absent"] == ["declared", "slow_first_token", "schedule"]
    assert all(part in row["reason"] for part in AZURE_SAYS), row["reason"]
    assert row["params"]["if_batchable_monthly_saving_usd"] == pytest.approx(azure_stake(feature), rel=1e-6)
