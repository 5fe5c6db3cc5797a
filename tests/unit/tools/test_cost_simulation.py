"""cost_impact_simulator and cost_reduction_quality_preservation on planted data, hand-computed."""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.cost_simulation import KEEP_FIGURES, SIM_FIGURES, expected_drop
from netra.tools.findings import Policy
from tests.support.factories import at, load

# literal USD per token, as in the price catalog
GPT4O = {"input": 2.5e-6, "cache_read": 1.25e-6, "output": 1e-5}
MINI = {"input": 1.5e-7, "cache_read": 7.5e-8, "output": 6e-7}
MINI_BATCH = {"input": 7.5e-8, "output": 3e-7}
SONNET = {"input": 3e-6, "output": 1.5e-5}
HAIKU = {"input": 1e-6, "output": 5e-6}

ZERO = {"input_tokens": 0, "cached_input_tokens": 0, "cache_write_tokens": 0, "output_tokens": 0,
        "reasoning_tokens": 0, "is_batch": 0, "status": "ok", "prompt_hash": 0, "max_tokens": 1000}


def event(when, feature: str, model: str, tokens: tuple[int, ...], **extra: Any) -> dict[str, Any]:
    """One event; `tokens` is (input, output[, cached, reasoning])."""
    names = ("input_tokens", "output_tokens", "cached_input_tokens", "reasoning_tokens")
    return {**ZERO, "timestamp": when, "feature": feature, "model": model, "request_id": f"{feature}-{when}",
            **dict(zip(names, tokens)), **extra}


EVENTS = [
    event(at(0), "chat", "gpt-4o", (1000, 200)),
    event(at(0, hours=1), "chat", "gpt-4o", (2000, 500, 1000, 100)),   # cap 300 cuts 200 visible output
    event(at(0, hours=2), "chat", "gpt-4o", (500, 400, 0, 350)),       # cap 300 cuts 50 visible + 50 reasoning
    event(at(1), "chat", "gpt-4o", (1000, 10), status="error", prompt_hash=7),  # billed retried failure
    event(at(1, seconds=5), "chat", "gpt-4o", (1000, 100), prompt_hash=7),
    event(at(1, hours=2), "search", "claude-sonnet-4-5", (4000, 100)),
    event(at(2), "search", "claude-sonnet-4-5", (4000, 100)),
    event(at(2, hours=3), "report", "gpt-4o-mini", (10000, 1000)),
    event(at(3), "report", "gpt-4o-mini", (10000, 1000), is_batch=1),
    event(at(4), "misc", "mystery-model", (500, 0)),
]
SPAN_DAYS = 4.0

# chat: input 1000 + 1000 + 500 + 1000 + 1000, 1000 cached, output 200 + 400 + 50 + 10 + 100 (+ 450 reasoning)
CHAT = 4500 * GPT4O["input"] + 1000 * GPT4O["cache_read"] + 1210 * GPT4O["output"]
SEARCH = 8000 * SONNET["input"] + 200 * SONNET["output"]
REPORT = 10000 * MINI["input"] + 1000 * MINI["output"] + 10000 * MINI_BATCH["input"] + 1000 * MINI_BATCH["output"]
BASELINE = CHAT + SEARCH + REPORT

# the fixed order: cache, route, cap, batch, retries -- so the cap and the retry budget act on mini
ROUTE = CHAT - (4500 * MINI["input"] + 1000 * MINI["cache_read"] + 1210 * MINI["output"])
SEARCH_ROUTE = SEARCH - (8000 * HAIKU["input"] + 200 * HAIKU["output"])
CAP = (200 + 50 + 50) * MINI["output"]               # output above 300 tokens, on mini
BATCH = 10000 * (MINI["input"] - MINI_BATCH["input"]) + 1000 * (MINI["output"] - MINI_BATCH["output"])
RETRY = 1000 * MINI["input"] + 10 * MINI["output"]   # the billed retried failure, on mini
SAVED = ROUTE + SEARCH_ROUTE + CAP + BATCH + RETRY


def policy(kind: str, feature: str, model: str, **fields: Any) -> dict[str, Any]:
    """A policy as the dispatcher receives it."""
    return {"policy_id": f"{kind}:{feature}:{model}", "kind": kind, "feature": feature, "model": model, **fields}


POLICIES = [
    policy("route_model", "chat", "gpt-4o", params={"target_model": "gpt-4o-mini"}),
    policy("cap_max_tokens", "chat", "gpt-4o", params={"cap": 300}),
    policy("retry_budget", "chat", "gpt-4o", params={"max_retries": 0}),
    policy("route_model", "search", "claude-sonnet-4-5", params={"target_model": "claude-haiku-4-5"}),
    policy("batch_api", "report", "gpt-4o-mini"),
]
# policy_id -> window saving, in the order applied (kind order, then feature)
EXPECTED_ROWS = [("route_model:chat:gpt-4o", ROUTE), ("route_model:search:claude-sonnet-4-5", SEARCH_ROUTE),
                 ("cap_max_tokens:chat:gpt-4o", CAP), ("batch_api:report:gpt-4o-mini", BATCH),
                 ("retry_budget:chat:gpt-4o", RETRY)]

SIM_EXPECTED = {
    "baseline_window_cost_usd": BASELINE, "repriced_window_cost_usd": BASELINE - SAVED,
    "baseline_monthly_cost_usd": BASELINE * 30 / SPAN_DAYS, "repriced_monthly_cost_usd": (BASELINE - SAVED) * 7.5,
    "window_saving_usd": SAVED, "monthly_saving_usd": SAVED * 7.5, "saving_pct": 100 * SAVED / BASELINE,
    "policies_applied": 5,
}

# policies that cannot apply -> the words their note carries
SKIPPED = [
    (policy("batch_api", "absent", "gpt-4o"), "no events of this (feature, model) in scope"),
    (policy("batch_api", "misc", "mystery-model"), "not in the price catalog"),
    (policy("route_model", "report", "gpt-4o-mini", params={"target_model": "nope-1"}), "'nope-1'"),
    (policy("cap_max_tokens", "chat", "gpt-4o"), "params.cap"),
    (policy("retry_budget", "chat", "gpt-4o"), "params.max_retries"),
    (policy("prompt_cache", "search", "claude-sonnet-4-5"), "params.ttl_option"),
]

INVALID = [
    ("cost_impact_simulator", {}, "policies"),
    ("cost_impact_simulator", {"policies": [policy("teleport", "chat", "gpt-4o")]}, "policies.0.kind"),
    ("cost_impact_simulator", {"policies": [], "budget": 1}, "budget"),
    ("cost_reduction_quality_preservation", {"policies": [], "quality_budget": 1.5}, "quality_budget"),
    ("cost_reduction_quality_preservation", {"policies": [], "quality_budget": -0.1}, "quality_budget"),
]


def close(value: float) -> Any:
    """Match a figure value (figures are rounded to 6 decimals)."""
    return pytest.approx(value, rel=1e-9, abs=5e-7)


def exact(value: float) -> Any:
    """Match a row value (rows are rounded to 8 decimals)."""
    return pytest.approx(value, rel=1e-9, abs=5e-9)


@pytest.fixture
def planted(ctx):
    """The store holding EVENTS; returns a dispatcher over it."""
    load(ctx.store, ctx.catalog, EVENTS)
    return ToolDispatcher(ctx)


def simulate(dispatcher, policies: list[dict[str, Any]], **scope: Any):
    """Run the simulator on `policies`."""
    return dispatcher.run("cost_impact_simulator", {"policies": policies, **scope})


@pytest.mark.parametrize("name,expected", sorted(SIM_EXPECTED.items()))
def test_simulator_figures(planted, name, expected):
    assert simulate(planted, POLICIES).value(name) == close(expected)


@pytest.mark.parametrize("order", [1, -1])
def test_policy_rows_follow_the_fixed_order_whatever_the_input_order(planted, order):
    rows = [r for r in simulate(planted, POLICIES[::order]).rows if r["table"] == "policy"]
    assert [(r["policy_id"], r["window_saving_usd"]) for r in rows] == [(p, exact(s)) for p, s in EXPECTED_ROWS]


def test_feature_rows_reprice_each_feature(planted):
    rows = {r["feature"]: r for r in simulate(planted, POLICIES).rows if r["table"] == "feature"}
    got = {f: (r["baseline_window_cost_usd"], r["repriced_window_cost_usd"]) for f, r in rows.items()}
    assert got == {"chat": (exact(CHAT), exact(CHAT - ROUTE - CAP - RETRY)),
                   "search": (exact(SEARCH), exact(SEARCH - SEARCH_ROUTE)),
                   "report": (exact(REPORT), exact(REPORT - BATCH)), "misc": (0.0, 0.0)}


def test_repeated_policy_counts_once(planted):
    result = simulate(planted, [POLICIES[4], {**POLICIES[4], "policy_id": "again"}])
    assert result.value("window_saving_usd") == close(BATCH)
    assert result.notes == ["1 policies repeat a (kind, feature, model); ignored"]


@pytest.mark.parametrize("bad,words", SKIPPED)
def test_policy_that_cannot_apply_is_skipped_with_a_note(planted, bad, words):
    result = simulate(planted, [bad])
    row = result.rows[0]
    assert (row["applied"], row["window_saving_usd"], result.value("window_saving_usd")) == (False, 0.0, 0.0)
    assert len(result.notes) == 1 and words in result.notes[0]


def test_scope_filters_the_baseline(planted):
    result = simulate(planted, POLICIES, feature="report")
    figures = (result.value("baseline_window_cost_usd"), result.value("window_saving_usd"))
    assert figures == (close(REPORT), close(BATCH))


# ---------------------------------------------------------------- quality preservation

FAQ = [event(at(0, hours=h), "faq", model, (100, 10), quality_score=score)
       for h, (model, score) in enumerate([("gpt-4o", 0.75), ("gpt-4o", 0.75), ("gpt-4o-mini", 0.75),
                                           ("gpt-4o-mini", 0.6875)])]
SUMMARIZE = [event(at(1), "summarize", "gpt-4o", (1000, 600))]   # sets max_tokens 1000
FAQ_ROUTE_SAVING = 2 * (100 * (GPT4O["input"] - MINI["input"]) + 10 * (GPT4O["output"] - MINI["output"]))
CAP_SAVING = 400 * GPT4O["output"]
BATCH_SAVING = 1000 * GPT4O["input"] / 2 + 200 * GPT4O["output"] / 2   # after the cap (batch comes later)

QUALITY_POLICIES = [
    policy("route_model", "faq", "gpt-4o", params={"target_model": "gpt-4o-mini"}),            # measured 0.03125
    policy("route_model", "summarize", "gpt-4o", params={"target_model": "gpt-4o-mini"}, quality_risk="medium"),
    policy("batch_api", "summarize", "gpt-4o"),                                                 # fixed 0
    policy("cap_max_tokens", "summarize", "gpt-4o", params={"cap": 200}),     # cuts 1 of 1 answers: 1.0
]
# budget -> (decisions in policy order, kept window saving)
UNCAPPED_BATCH = 1000 * GPT4O["input"] / 2 + 600 * GPT4O["output"] / 2
BUDGETS = [
    (0.0, ["rejected", "rejected", "kept", "rejected"], UNCAPPED_BATCH),
    (0.04, ["kept", "rejected", "kept", "rejected"], FAQ_ROUTE_SAVING + UNCAPPED_BATCH),
    (1.0, ["kept", "rejected", "kept", "kept"], FAQ_ROUTE_SAVING + CAP_SAVING + BATCH_SAVING),
]
# policy kind -> expected drop with no evidence (quality_risk is no evidence): fixed, else unknown
WITHOUT_EVIDENCE = [("route_model", None), ("cap_max_tokens", None), ("retry_budget", 0.0), ("prompt_cache", 0.0),
                    ("batch_api", 0.0)]


@pytest.fixture
def quality(ctx):
    """The store holding the quality dataset; returns a dispatcher over it."""
    load(ctx.store, ctx.catalog, FAQ + SUMMARIZE)
    return ToolDispatcher(ctx)


@pytest.mark.parametrize("budget,decisions,saving", BUDGETS)
def test_quality_budget_keeps_policies_within_it(quality, budget, decisions, saving):
    args = {"policies": QUALITY_POLICIES, "quality_budget": budget}
    result = quality.run("cost_reduction_quality_preservation", args)
    assert [r["decision"] for r in result.rows if r["table"] == "decision"] == decisions
    assert result.value("kept_window_saving_usd") == close(saving)
    assert (result.value("kept_policies"), result.value("rejected_policies")) == (decisions.count("kept"),
                                                                                  decisions.count("rejected"))


def test_route_drop_is_measured_from_quality_scores(quality):
    result = quality.run("cost_reduction_quality_preservation", {"policies": QUALITY_POLICIES[:1]})
    row = result.rows[0]
    assert (row["expected_quality_drop"], row["decision"]) == (exact(0.03125), "rejected")
    assert "measured" in row["reason"] and "budget 0.0200" in row["reason"]


@pytest.mark.parametrize("kind,drop", WITHOUT_EVIDENCE)
def test_drop_without_evidence_is_fixed_or_unknown(kind, drop):
    assert expected_drop(Policy(**policy(kind, "f", "m", quality_risk="low")), {})[0] == drop


# summarize's one answer is 600 output tokens (its finish not logged: counted as cut); a runaway ended at its limit
@pytest.mark.parametrize("cap,extra,drop,decision", [
    (200, [], 1.0, "rejected"), (600, [], 0.0, "kept"),
    (200, [event(at(2), "summarize", "gpt-4o", (1000, 1000), finish_reason="length")], 0.5, "rejected"),
])
def test_a_caps_drop_is_the_share_of_answers_it_cuts(ctx, cap, extra, drop, decision):
    load(ctx.store, ctx.catalog, SUMMARIZE + extra)
    cut = policy("cap_max_tokens", "summarize", "gpt-4o", params={"cap": cap})
    row = ToolDispatcher(ctx).run("cost_reduction_quality_preservation", {"policies": [cut]}).rows[0]
    assert (row["expected_quality_drop"], row["decision"]) == (drop, decision)
    assert "measured: the cap of" in row["reason"]


# ---------------------------------------------------------------- arguments and empty scope


@pytest.mark.parametrize("tool,args,field", INVALID)
def test_bad_arguments_name_the_field(ctx, tool, args, field):
    with pytest.raises(ToolArgumentsError, match=field):
        ToolDispatcher(ctx).run(tool, args)


@pytest.mark.parametrize("tool,spec", [("cost_impact_simulator", SIM_FIGURES),
                                       ("cost_reduction_quality_preservation", KEEP_FIGURES)])
def test_empty_scope_gives_zero_figures_and_a_note(planted, tool, spec):
    result = planted.run(tool, {"policies": POLICIES, "feature": "nothing-here"})
    assert {k: f.value for k, f in result.figures.items()} == dict.fromkeys(spec, 0.0)
    assert (result.rows, result.notes) == ([], [EMPTY_NOTE])
