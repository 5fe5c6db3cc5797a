"""The joint simulator on the real chDB store, every figure computed by hand from catalog prices.

Prices per 1M tokens (litellm 1.110.2, the packaged catalog): gpt-4o input 2.5, read 1.25, output
10 (batch 1.25 / 1.25 / 5); gpt-4o-mini 0.15 / 0.075 / 0.6 (batch 0.075 / 0.075 / 0.3); gpt-4.1
input 2, output 8; claude-sonnet-4-5 input 3, read 0.3, 5-minute write 3.75, 1-hour write 6,
output 15; claude-haiku-4-5 input 1, read 0.1, 5-minute write 1.25, 1-hour write 2, output 5.
Amounts below are in millionths of a dollar (µ$) unless they say USD.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from netra.tools._event_frame import Pricer, load_frame
from netra.tools._joint import JointResult, JointSimulator, Savings
from netra.tools._sql import Queries
from netra.tools.findings import Policy
from netra.tools.scope import Scope, in_workspace
from netra.workloads.pricing import PRICING_COLUMNS, price_events
from tests.support.factories import at, load

ZERO: dict[str, Any] = {"cached_input_tokens": 0, "cache_write_tokens": 0, "cache_write_1h_tokens": 0,
                        "reasoning_tokens": 0, "is_batch": 0, "status": "ok", "prompt_hash": 0, "max_tokens": 0,
                        "block_size": 256, "prefix_hashes": []}
U = 1e-6  # one µ$ in USD


def event(i: int, feature: str, model: str, tokens: tuple[int, int], **extra: Any) -> dict[str, Any]:
    """Event `i` (one a minute) with (input, output) tokens."""
    return {**ZERO, "timestamp": at(seconds=60 * i), "feature": feature, "model": model,
            "request_id": f"{feature}-{i}", "input_tokens": tokens[0], "output_tokens": tokens[1], **extra}


def policy(kind: str, feature: str, model: str, **params: Any) -> Policy:
    """A policy of `kind` on (feature, model)."""
    return Policy(policy_id=f"{kind}:{feature}:{model}", kind=kind, feature=feature, model=model, params=params)


def simulate(ctx, records: list[dict[str, Any]], policies: list[Policy]) -> JointResult:
    """Load `records` and simulate `policies` together."""
    load(ctx.store, ctx.catalog, records)
    with in_workspace(ctx.workspace_id):
        return JointSimulator(ctx, Scope(), policies, Queries(ctx.store)).run(policies)


def savings(result: JointResult) -> dict[str, float]:
    """Return each policy's attributed window saving in µ$, by kind."""
    return {o.policy.kind: round(o.saving / U, 6) for o in result.outcomes}


# ---------------------------------------------------------------- route + batch on one feature

# enrich: two gpt-4o events of 10,000 in / 1,000 out (35,000 µ$ each) and two Sonnet ones (45,000 µ$ each)
ENRICH = [event(i, "enrich", "gpt-4o", (10_000, 1_000)) for i in range(2)] + [
    event(i + 2, "enrich", "claude-sonnet-4-5", (10_000, 1_000)) for i in range(2)]


def test_route_and_batch_on_one_feature_are_sequential_not_compounded(ctx):
    # route: 2 x (35,000 - (10,000 x 0.15 + 1,000 x 0.6 = 2,100)) = 65,800; then batch on mini: 2 x 1,050 = 2,100.
    # Joint 67,900. Compounding the stated savings (65,800 and batch alone 35,000) against the feature's
    # 160,000 gave 160,000 x (1 - (1 - 65,800/160,000)(1 - 35,000/160,000)) = 86,406.
    result = simulate(ctx, ENRICH, [policy("batch_api", "enrich", "gpt-4o"),
                                    policy("route_model", "enrich", "gpt-4o", target_model="gpt-4o-mini")])
    assert savings(result) == {"route_model": 65_800, "batch_api": 2_100}
    assert result.saving == pytest.approx(67_900 * U, rel=1e-12)


def test_a_batch_beside_another_models_route_keeps_its_whole_saving(ctx):
    # batch on gpt-4o: 2 x 35,000 / 2 = 35,000 (alone and together); Sonnet -> Haiku: 2 x (45,000 - 15,000)
    records = [{**r, "feature": "support"} for r in ENRICH]
    together = simulate(ctx, records, [policy("batch_api", "support", "gpt-4o"), policy(
        "route_model", "support", "claude-sonnet-4-5", target_model="claude-haiku-4-5")])
    assert savings(together) == {"route_model": 60_000, "batch_api": 35_000}


# ---------------------------------------------------------------- every kind on one pair

HASHES = [0xA0 + k for k in range(5)]  # a 1,280-token prefix shared by the four attempts (OpenAI: >= 1,024)
AGENT = [event(0, "agent", "gpt-4o", (2000, 600), prompt_hash=1),
         event(1, "agent", "gpt-4o", (2000, 600), prompt_hash=2, status="error"),
         event(2, "agent", "gpt-4o", (2000, 600), prompt_hash=2, status="error"),
         event(3, "agent", "gpt-4o", (2000, 100), prompt_hash=2)]
AGENT = [{**e, "max_tokens": 1000, "prefix_hashes": HASHES} for e in AGENT]
FIVE = [policy("retry_budget", "agent", "gpt-4o", max_retries=1), policy("batch_api", "agent", "gpt-4o"),
        policy("cap_max_tokens", "agent", "gpt-4o", cap=300), policy("prompt_cache", "agent", "gpt-4o", ttl_option="5m"),
        policy("route_model", "agent", "gpt-4o", target_model="gpt-4o-mini")]
# baseline: 3 x (2,000 x 2.5 + 600 x 10) + (5,000 + 1,000) = 39,000
FIVE_STEPS = {
    "prompt_cache": 4_800,    # attempts 1-3 read 1,280 within 5 min: 3 x 1,280 x (2.5 - 1.25); the write is input
    "route_model": 32_148,    # 34,200 -> mini: 660 + 2 x (720 x 0.15 + 1,280 x 0.075 + 360) + 264 = 2,052
    "cap_max_tokens": 540,    # three outputs of 600 cut to 300: 3 x 300 x 0.6
    "batch_api": 612,         # 1,512 -> 240 + 240 + 240 + 180 = 900
    "retry_budget": 240,      # group 2 has two billed retried failures: the second (240 batched) is dropped
}


def test_every_kind_in_order_and_the_attributions_add_up_to_the_joint_saving(ctx):
    result = simulate(ctx, AGENT, FIVE)
    assert [o.policy.kind for o in result.outcomes] == list(FIVE_STEPS)
    assert savings(result) == FIVE_STEPS
    assert result.saving == sum(o.saving for o in result.outcomes) == pytest.approx(38_340 * U, rel=1e-12)


def test_the_final_cost_of_every_event_is_the_baseline_minus_the_attributions(ctx):
    load(ctx.store, ctx.catalog, AGENT)
    with in_workspace(ctx.workspace_id):
        sim = JointSimulator(ctx, Scope(), FIVE, Queries(ctx.store))
        run = sim.run(FIVE)
    assert sim.baseline.sum() - run.saving == pytest.approx((240 + 240 + 0 + 180) * U, rel=1e-12)


# ---------------------------------------------------------------- 1-hour writes, retries, cap

# Sonnet: 12,000 in (10,000 written with a 1-hour TTL), 500 out
DOCS = [event(i, "docs", "claude-sonnet-4-5", (12_000, 500), cache_write_tokens=10_000,
              cache_write_1h_tokens=10_000) for i in range(2)]


def test_one_hour_writes_are_repriced_at_the_targets_one_hour_rate(ctx):
    # Sonnet 2,000 x 3 + 10,000 x 6 + 500 x 15 = 73,500; Haiku 2,000 x 1 + 10,000 x 2 + 500 x 5 = 24,500.
    # At the 5-minute rates (3.75 and 1.25) the saving per event would be 51,000 - 17,000 = 34,000.
    result = simulate(ctx, DOCS, [policy("route_model", "docs", "claude-sonnet-4-5", target_model="claude-haiku-4-5")])
    assert savings(result) == {"route_model": 2 * 49_000}


# gpt-4.1 attempts of 1,000 in: refused (no output, not billed) or billed (50 out: 2,000 + 400 = 2,400 µ$)
STORM = [event(i, "tools", "gpt-4.1", (1000, out), prompt_hash=h, status=s) for i, (h, out, s) in enumerate([
    (7, 0, "error"), (7, 0, "error"), (7, 50, "error"), (7, 50, "error"), (7, 100, "ok"),  # 2 refused, 2 billed
    (8, 50, "error"), (8, 50, "error"),      # the last attempt of a group was not retried
    (0, 50, "error"), (0, 50, "error")])]    # no prompt hash: not attempts of one request


@pytest.mark.parametrize(("budget", "dropped"), [
    (0, 3 * 2400),   # both billed retried failures of group 7 and the first of group 8
    (1, 2400),       # the refused attempts do not use the budget: only group 7's second billed failure
    (2, 0),
])
def test_retry_budget_drops_only_billed_retried_failures_beyond_it(ctx, budget, dropped):
    result = simulate(ctx, STORM, [policy("retry_budget", "tools", "gpt-4.1", max_retries=budget)])
    assert savings(result) == {"retry_budget": dropped}


def test_cap_cuts_only_requests_that_set_max_tokens_visible_output_then_reasoning(ctx):
    # only the second: output 800 (700 reasoning) -> 300 (300 reasoning): 500 tokens x 10
    capped = [event(0, "sum", "gpt-4o", (0, 800)), event(1, "sum", "gpt-4o", (0, 800), max_tokens=1000,
                                                         reasoning_tokens=700),
              event(2, "sum", "gpt-4o", (0, 200), max_tokens=1000)]
    assert savings(simulate(ctx, capped, [policy("cap_max_tokens", "sum", "gpt-4o", cap=300)])) == {
        "cap_max_tokens": 5_000}


# ---------------------------------------------------------------- cache before route

# three Sonnet requests a minute apart, 5,000 in / 100 out, sharing a 4,096-token prefix (16 blocks):
# the first writes it, the next two read it. Baseline 3 x 16,500 = 49,500.
LONG = [{**event(i, "kb", "claude-sonnet-4-5", (5000, 100)), "prefix_hashes": [0xB0 + k for k in range(16)]}
        for i in range(3)]
CACHE_THEN_ROUTE = [
    # 5 min: writer 904 x 3 + 4,096 x 3.75 + 1,500 = 19,572, readers 2,712 + 4,096 x 0.3 + 1,500 = 5,440.8:
    # 30,453.6 (saves 19,046.4 at Sonnet's prices); on Haiku 904 + 5,120 + 500 + 2 x (904 + 409.6 + 500) = 10,151.2
    ("5m", {"prompt_cache": 19_046.4, "route_model": 20_302.4}),
    # 1 h: the writer pays 4,096 x 6 = 24,576 (28,788): 39,669.6; on Haiku 904 + 8,192 + 500 + 3,627.2 = 13,223.2
    ("1h", {"prompt_cache": 9_830.4, "route_model": 26_446.4}),
]


@pytest.mark.parametrize(("ttl", "expected"), CACHE_THEN_ROUTE)
@pytest.mark.parametrize("given", [1, -1])
def test_the_cache_is_replayed_before_the_route_whatever_the_order_given(ctx, ttl, expected, given):
    both = [policy("prompt_cache", "kb", "claude-sonnet-4-5", ttl_option=ttl),
            policy("route_model", "kb", "claude-sonnet-4-5", target_model="claude-haiku-4-5")]
    assert savings(simulate(ctx, LONG, both[::given])) == expected


def test_openai_cache_writes_cost_the_input_price(ctx):
    # three gpt-4o requests of 2,000 in / 100 out sharing 1,280 tokens: two read them, 1,280 x (2.5 - 1.25) each
    shared = [{**e, "prefix_hashes": HASHES} for e in (event(i, "faq", "gpt-4o", (2000, 100)) for i in range(3))]
    assert savings(simulate(ctx, shared, [policy("prompt_cache", "faq", "gpt-4o", ttl_option="1h")])) == {
        "prompt_cache": 3_200}


# ---------------------------------------------------------------- policies that cannot apply

NOT_APPLIED = [
    (policy("batch_api", "absent", "gpt-4o"), "no events of this (feature, model) in scope"),
    (policy("batch_api", "misc", "mystery-model"), "model not in the price catalog"),
    (policy("route_model", "enrich", "gpt-4o", target_model="nope-1"), "target model 'nope-1' is not in the price"),
    (policy("cap_max_tokens", "enrich", "gpt-4o"), "params.cap is missing"),
    (policy("retry_budget", "enrich", "gpt-4o", max_retries=-1), "params.max_retries is missing or not"),
    (policy("prompt_cache", "enrich", "gpt-4o", ttl_option="2h"), "params.ttl_option is '2h', not one of 5m, 1h"),
]


@pytest.mark.parametrize(("given", "words"), NOT_APPLIED, ids=[p.policy_id for p, _ in NOT_APPLIED])
def test_a_policy_that_cannot_apply_saves_nothing_and_says_why(ctx, given, words):
    result = simulate(ctx, ENRICH + [event(9, "misc", "mystery-model", (500, 10))], [given])
    (outcome,) = result.outcomes
    assert (outcome.applied, outcome.saving) == (False, 0.0) and words in outcome.skipped_because
    assert result.notes == [f"{given.policy_id}: not applied: {outcome.skipped_because}"]


def test_one_policy_per_kind_and_pair_applies(ctx):
    mini = policy("route_model", "enrich", "gpt-4o", target_model="gpt-4o-mini")
    nano = policy("route_model", "enrich", "gpt-4o", target_model="gpt-4.1-nano").model_copy(update={"policy_id": "n"})
    result = simulate(ctx, ENRICH, [mini, nano])
    assert [o.policy.policy_id for o in result.outcomes] == [mini.policy_id]
    assert result.notes == ["1 policies repeat a (kind, feature, model); ignored"]


def counted_runs(monkeypatch) -> list[list[Policy]]:
    """Record the policies of every `JointSimulator.run` call."""
    runs: list[list[Policy]] = []
    run = JointSimulator.run

    def counted(self, policies):
        runs.append(policies)
        return run(self, policies)
    monkeypatch.setattr(JointSimulator, "run", counted)
    return runs


ROUTE = policy("route_model", "enrich", "gpt-4o", target_model="gpt-4o-mini")
BATCH = policy("batch_api", "enrich", "claude-sonnet-4-5")


def enrich_simulator(ctx) -> JointSimulator:
    """The joint simulator of ROUTE and BATCH over `ENRICH`."""
    load(ctx.store, ctx.catalog, ENRICH)
    with in_workspace(ctx.workspace_id):
        return JointSimulator(ctx, Scope(), [ROUTE, BATCH], Queries(ctx.store))


def test_one_policy_is_simulated_once_alone_and_together_and_several_once_more(ctx, monkeypatch):
    sim = enrich_simulator(ctx)
    fresh = [savings(sim.run(given)) for given in ([ROUTE], [ROUTE, BATCH])]
    runs = counted_runs(monkeypatch)
    alone, both = Savings.of(sim, [ROUTE]), Savings.of(sim, [ROUTE, BATCH])
    assert runs == [[ROUTE], [ROUTE], [BATCH], [ROUTE, BATCH]] and alone.joint.outcomes == alone.alone
    assert [savings(alone.joint), savings(both.joint)] == fresh and fresh[0]["route_model"] > 0


# ---------------------------------------------------------------- loading and pricing


def test_the_events_are_read_with_bound_parameters_only(ctx):
    load(ctx.store, ctx.catalog, ENRICH)
    queries = Queries(ctx.store)
    with in_workspace(ctx.workspace_id):
        JointSimulator(ctx, Scope(feature="enrich"), [policy("batch_api", "enrich", "gpt-4o")], queries)
    frame = queries.evidence[-1]
    assert frame.params["pairs"] == [("enrich", "gpt-4o")] and frame.params["feature"] == "enrich"
    assert all("'enrich'" not in e.sql and "{workspace_id:String}" in e.sql for e in queries.evidence)


# one of each pricing case: long context (gemini-2.5-pro above 200k), batch, priority and flex tiers,
# 1-hour writes, a refused request, an unknown model
PRICED = [event(0, "p", "gemini-2.5-pro", (250_000, 900), cached_input_tokens=100_000),
          event(1, "p", "gemini-2.5-pro", (150_000, 900)), event(2, "p", "gpt-4o", (3000, 80), is_batch=1),
          event(3, "p", "gpt-4o", (3000, 80), service_tier="priority"),
          event(4, "p", "gpt-4o", (3000, 80), service_tier="flex"),
          event(5, "p", "claude-sonnet-4-5", (9000, 80), cache_write_tokens=6000, cache_write_1h_tokens=4000),
          event(6, "p", "claude-sonnet-4-5", (9000, 0), status="error"), event(7, "p", "mystery", (10, 10))]


def test_the_pricer_gives_exactly_what_price_events_gives(ctx):
    load(ctx.store, ctx.catalog, PRICED)
    with in_workspace(ctx.workspace_id):
        frame = load_frame(ctx.store, Scope(), [("p", m) for m in ("gemini-2.5-pro", "gpt-4o", "claude-sonnet-4-5",
                                                                  "mystery")], [])
    rows, events = np.arange(frame.n), frame.events
    logged = {k: events.labels[k].strings(rows) if k in events.labels else events.numbers[k] for k in PRICING_COLUMNS}
    assert np.array_equal(Pricer(ctx.catalog).cost(events, rows), price_events(ctx.catalog, logged).cost)
