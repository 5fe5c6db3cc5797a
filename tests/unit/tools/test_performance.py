"""latency_bottleneck_identifier, function_performance_analyzer and performance_gains_simulator
on small planted datasets whose exact answers are computed by hand.

`quantileExact(level)` returns sorted[floor(level × n)] (the last element past the end).
"""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.performance import FUNCTION_FIGURES, GAINS_FIGURES
from netra.tools.throughput import BOTTLENECK_FIGURES, TTFT_NOTE
from tests.support.factories import at, load

ZERO = {"input_tokens": 1000, "cached_input_tokens": 0, "cache_write_tokens": 0, "output_tokens": 0,
        "reasoning_tokens": 0, "is_batch": 0, "status": "ok", "error_type": "", "prompt_hash": 0, "ttft_ms": 0}
GPT4O = {"input": 2.5e-6, "output": 1e-5}  # literal USD per token, as in the price catalog
MINI = {"input": 1.5e-7, "output": 6e-7}
_ids = iter(range(1_000_000))


def event(feature: str, model: str, seconds: float, latency: int, ttft: int = 0, out: int = 0,
          **extra: Any) -> dict[str, Any]:
    """One event `seconds` after T0 (1,000 input tokens unless `extra` says otherwise)."""
    return {**ZERO, "timestamp": at(seconds=seconds), "feature": feature, "model": model, "latency_ms": latency,
            "ttft_ms": ttft, "output_tokens": out, "request_id": f"r{next(_ids):06d}", **extra}


def figures(result) -> dict[str, float]:
    """Return a result's figure values."""
    return {k: f.value for k, f in result.figures.items()}


def approx(values: dict[str, Any]) -> dict[str, Any]:
    """Wrap the numbers of `values` for approximate comparison."""
    return {k: v if isinstance(v, str) else pytest.approx(v, abs=1e-6) for k, v in values.items()}


# ---------------------------------------------------------------- bottleneck and per-feature data

# chat (gpt-4o): 5 streamed (ttft, latency, output), request 2 failed, plus one unstreamed
CHAT = [event("chat", "gpt-4o", i, lat, ttft, out, status="error" if i == 2 else "ok")
        for i, (ttft, lat, out) in enumerate([(100, 1100, 100), (200, 1200, 100), (300, 2300, 200),
                                              (400, 3400, 300), (2000, 6000, 400)], start=1)] \
    + [event("chat", "gpt-4o", 9, 500, 0, 50)]
# search (gpt-4o-mini): 4 streamed, two timeouts; nightly: one unstreamed request
SEARCH = [event("search", "gpt-4o-mini", 20 + i, lat, ttft, out, status="timeout" if i < 2 else "ok")
          for i, (ttft, lat, out) in enumerate([(500, 600, 10), (800, 900, 10), (900, 1000, 20), (3000, 3200, 40)])]
NIGHTLY = [event("nightly", "gpt-4o-mini", 40, 700, 0, 10)]
PERF_EVENTS = CHAT + SEARCH + NIGHTLY

# chat: ttft [100..400, 2000] p50 300 p95 2000; generation [1000, 1000, 2000, 3000, 4000] p50 2000 p95 4000;
# latency p95 6000, its tail (the 6000 ms request) is 2000 TTFT + 4000 generation; 1,100 tokens / 11 s
CHAT_SEGMENTS = {"feature": "chat", "model": "gpt-4o", "streamed_requests": 5, "ttft_p50_ms": 300,
                 "ttft_p95_ms": 2000, "generation_p50_ms": 2000, "generation_p95_ms": 4000, "latency_p95_ms": 6000,
                 "p95_tail_ttft_share": 1 / 3, "dominant_segment": "generation", "generation_tokens_per_s": 100}
# search: ttft [500, 800, 900, 3000] p50 900 p95 3000; generation [100, 100, 100, 200]; 80 tokens / 0.5 s
SEARCH_SEGMENTS = {"feature": "search", "model": "gpt-4o-mini", "streamed_requests": 4, "ttft_p50_ms": 900,
                   "ttft_p95_ms": 3000, "generation_p50_ms": 100, "generation_p95_ms": 200, "latency_p95_ms": 3200,
                   "p95_tail_ttft_share": 3000 / 3200, "dominant_segment": "ttft", "generation_tokens_per_s": 160}
# TTFT 3000 + 5200 ms, generation 11000 + 500 ms; tails 2000 + 3000 of 6000 + 3200 ms
SEGMENT_FIGURES = {"requests": 11, "streamed_requests": 9, "ttft_share": 8200 / 19700,
                   "generation_share": 11500 / 19700, "p95_tail_ttft_share": 5000 / 9200, "ttft_dominated_pairs": 1,
                   "generation_dominated_pairs": 1, "generation_tokens_per_s": 1180 / 11.5}
NIGHTLY_SEGMENTS = {**dict.fromkeys(BOTTLENECK_FIGURES, 0), "requests": 1}

# chat latencies [500, 1100, 1200, 2300, 3400, 6000]: p50 2300, p95 6000; 7,150 tokens
CHAT_COST = 6000 * GPT4O["input"] + 1150 * GPT4O["output"]
SEARCH_COST = 4000 * MINI["input"] + 80 * MINI["output"]
NIGHTLY_COST = 1000 * MINI["input"] + 10 * MINI["output"]
FEATURE_ROWS = [
    {"feature": "chat", "calls": 6, "errors": 1, "error_rate": 1 / 6, "latency_p50_ms": 2300, "latency_p95_ms": 6000,
     "cost_usd": CHAT_COST, "cost_per_call_usd": CHAT_COST / 6, "tokens_per_call": 7150 / 6},
    {"feature": "search", "calls": 4, "errors": 2, "error_rate": 0.5, "latency_p50_ms": 1000, "latency_p95_ms": 3200,
     "cost_usd": SEARCH_COST, "cost_per_call_usd": SEARCH_COST / 4, "tokens_per_call": 1020},
    {"feature": "nightly", "calls": 1, "errors": 0, "error_rate": 0, "latency_p50_ms": 700, "latency_p95_ms": 700,
     "cost_usd": NIGHTLY_COST, "cost_per_call_usd": NIGHTLY_COST, "tokens_per_call": 1010},
]


@pytest.fixture
def perf(ctx):
    """The store holding PERF_EVENTS; returns a dispatcher over it."""
    load(ctx.store, ctx.catalog, PERF_EVENTS)
    return ToolDispatcher(ctx)


@pytest.mark.parametrize(("scope", "expected", "unstreamed"), [
    ({}, SEGMENT_FIGURES, 2), ({"feature": "nightly"}, NIGHTLY_SEGMENTS, 1)])
def test_bottleneck_figures_and_notes(perf, scope, expected, unstreamed):
    result = perf.run("latency_bottleneck_identifier", scope)
    assert figures(result) == approx(expected)
    assert result.notes == [TTFT_NOTE, f"{unstreamed} unstreamed requests (ttft_ms 0) cannot be split"]


def test_bottleneck_rows_per_feature_and_model(perf):
    rows = perf.run("latency_bottleneck_identifier").rows
    assert rows == [approx(CHAT_SEGMENTS), approx(SEARCH_SEGMENTS)]


def test_function_rows(perf):
    assert perf.run("function_performance_analyzer").rows == [approx(r) for r in FEATURE_ROWS]


@pytest.mark.parametrize(("name", "value", "label_part"), [
    ("features", 3, ""), ("calls", 11, ""), ("worst_error_rate", 0.5, ": search"), ("slowest_p95_ms", 6000, ": chat")])
def test_function_figures_name_the_feature(perf, name, value, label_part):
    figure = perf.run("function_performance_analyzer").figures[name]
    assert figure.value == value and figure.label.endswith(FUNCTION_FIGURES[name][1] + label_part)


# ---------------------------------------------------------------- gains simulator data


def chain(prompt: int, tries: list[tuple[float, int, str]]) -> list[dict[str, Any]]:
    """agent (gpt-4.1) attempts of one prompt: (seconds, latency, status); unstreamed."""
    return [event("agent", "gpt-4.1", s, lat, prompt_hash=prompt, status=st) for s, lat, st in tries]


SUMMARIZER = [event("summarizer", "gpt-4.1", i, lat, 100, out)
              for i, (lat, out) in enumerate([(1100, 100), (2100, 200), (4100, 400), (8100, 800)])]
# p1: two retried timeouts then success (11 s end to end); p2 clean; p3: a timeout, then 100 s later a new request
AGENT = (chain(1, [(0, 5000, "error"), (6, 5000, "error"), (12, 1000, "ok")]) + chain(2, [(0, 1000, "ok")])
         + chain(3, [(0, 5000, "error"), (100, 2000, "ok")]))
NIGHTLY_BATCH = [event("nightly", "gpt-4.1", 0, 3000), event("nightly", "gpt-4.1", 1, 4000)]
# the cached prefix covers 3000 of 4000 input tokens (twice) and all 2000 input tokens of the third
SUPPORT = [event("support", "claude-sonnet-4-5", i, lat, ttft, 100, input_tokens=tokens)
           for i, (ttft, lat, tokens) in enumerate([(1000, 3000, 4000), (2000, 2500, 4000), (500, 1500, 2000)])]
# classifier on gpt-4o: TTFT p50 600 ms, 300 tokens / 3000 ms; gpt-4o-mini (other): TTFT p50 300, 200 / 1000 ms
CLASSIFIER = [event("classifier", "gpt-4o", 0, 1600, 600, 100), event("classifier", "gpt-4o", 1, 2600, 600, 200)]
OTHER = [event("other", "gpt-4o-mini", 0, 600, 100, 100), event("other", "gpt-4o-mini", 1, 800, 300, 100)]
DRAFTS = [event("drafts", "gpt-4.1", 0, 4000, 1000, 300)]
GAIN_EVENTS = SUMMARIZER + AGENT + NIGHTLY_BATCH + SUPPORT + CLASSIFIER + OTHER + DRAFTS


def policy(kind: str, feature: str, model: str, **params: Any) -> dict[str, Any]:
    """A policy as the agent would pass it."""
    return {"policy_id": f"{kind}:{feature}:{model}", "kind": kind, "feature": feature, "model": model,
            "params": params}


def gains(requests: int, base: tuple[float, float], sim: tuple[float, float], offline: int = 0) -> dict[str, float]:
    """Expected gains: (p50, p95) baseline and simulated."""
    return {"requests": requests, "async_requests": offline, "baseline_p50_ms": base[0], "baseline_p95_ms": base[1],
            "simulated_p50_ms": sim[0], "simulated_p95_ms": sim[1], "p95_change_pct": 100 * (sim[1] - base[1]) / base[1]}


# feature -> (policy, expected gains of that feature)
CASES = {
    # cap 100: every generation becomes 1000 ms -> 1100 ms each
    "summarizer": (policy("cap_max_tokens", "summarizer", "gpt-4.1", cap=100), gains(4, (4100, 8100), (1100, 1100))),
    # end to end [11000, 1000, 5000, 2000] -> [1000, 1000, 5000, 2000]
    "agent": (policy("retry_budget", "agent", "gpt-4.1"), gains(4, (5000, 11000), (2000, 5000))),
    # both requests go async: no interactive latency left
    "nightly": (policy("batch_api", "nightly", "gpt-4.1"), gains(2, (4000, 4000), (0, 0), 2)),
    # TTFT x (1 - CACHE_TTFT_FACTOR 0.8 x 0.75) = x 0.4 and x (1 - 0.8) = x 0.2: [2400, 1300, 1100]
    "support": (policy("prompt_cache", "support", "claude-sonnet-4-5", prefix_tokens=3000),
                gains(3, (2500, 3000), (1300, 2400))),
    # observed: generation 2x faster, TTFT x 300/600: [800, 1300]
    "classifier": (policy("route_model", "classifier", "gpt-4o", target_model="gpt-4o-mini"),
                   gains(2, (2600, 2600), (1300, 1300))),
    # gpt-4.1-mini not observed: assumed sibling ratios, 3000 / 1.5 + 1000 x 0.8 = 2800
    "drafts": (policy("route_model", "drafts", "gpt-4.1", target_model="gpt-4.1-mini"),
               gains(1, (4000, 4000), (2800, 2800))),
}
ALL_POLICIES = [p for p, _ in CASES.values()]
# 16 requests: p50 sorted[8] = 3000, p95 sorted[15] = 11000; 14 interactive: p50 sorted[7] 1100, p95 sorted[13] 5000
POOLED = gains(16, (3000, 11000), (1100, 5000), 2)


@pytest.fixture
def sim(ctx):
    """The store holding GAIN_EVENTS; returns a function running the simulator."""
    load(ctx.store, ctx.catalog, GAIN_EVENTS)
    return lambda args: ToolDispatcher(ctx).run("performance_gains_simulator", args)


@pytest.mark.parametrize("feature", sorted(CASES))
def test_each_policy_alone(sim, feature):
    result = sim({"policies": [CASES[feature][0]]})
    assert result.rows == [approx({"feature": feature, **CASES[feature][1]})]


def test_all_policies_together(sim):
    result = sim({"policies": ALL_POLICIES})
    assert figures(result) == approx(POOLED)
    assert result.rows == [approx({"feature": f, **CASES[f][1]}) for f in sorted(CASES)]


@pytest.mark.parametrize(("policies", "notes"), [
    ([CASES["classifier"][0]], ["route_model:classifier:gpt-4o: observed speed and TTFT of gpt-4o-mini"]),
    ([CASES["drafts"][0]], ["route_model:drafts:gpt-4.1: gpt-4.1-mini not observed; assumed smaller_sibling ratios"]),
    ([policy("route_model", "drafts", "gpt-4.1", target_model="mystery")],
     ["route_model:drafts:gpt-4.1: mystery not observed; assumed other ratios"]),
    ([policy("cap_max_tokens", "summarizer", "gpt-4.1")], ["cap_max_tokens:summarizer:gpt-4.1: no cap parameter; no effect"]),
    ([CASES["agent"][0], policy("batch_api", "agent", "gpt-4o")],
     ["batch_api:agent:gpt-4o: no requests of agent/gpt-4o in scope; no effect"]),
])
def test_notes_say_how_each_policy_was_applied(sim, policies, notes):
    assert sim({"policies": policies}).notes == notes


def test_a_repeated_policy_applies_once(sim):
    twice = sim({"policies": [CASES["classifier"][0]] * 2})
    assert twice.rows == sim({"policies": [CASES["classifier"][0]]}).rows


# ---------------------------------------------------------------- empty scopes and bad arguments

EMPTY = [
    ("latency_bottleneck_identifier", {}, BOTTLENECK_FIGURES),
    ("function_performance_analyzer", {}, FUNCTION_FIGURES),
    ("performance_gains_simulator", {"policies": [CASES["agent"][0]]}, GAINS_FIGURES),
    ("performance_gains_simulator", {"policies": []}, GAINS_FIGURES),
]


@pytest.mark.parametrize(("tool", "args", "spec"), EMPTY)
def test_empty_scope_gives_zero_figures_and_a_note(ctx, tool, args, spec):
    result = ToolDispatcher(ctx).run(tool, args)
    assert figures(result) == dict.fromkeys(spec, 0.0)
    assert (result.rows, result.notes) == ([], [EMPTY_NOTE])


BAD = [
    ("latency_bottleneck_identifier", {"start": "soon"}, "start"),
    ("latency_bottleneck_identifier", {"group_by": "model"}, "group_by"),
    ("function_performance_analyzer", {"feature": ["a"]}, "feature"),
    ("performance_gains_simulator", {}, "policies"),
    ("performance_gains_simulator", {"policies": [{**CASES["agent"][0], "kind": "bogus"}]}, "policies.0.kind"),
]


@pytest.mark.parametrize(("tool", "args", "field"), BAD)
def test_bad_arguments_name_the_field(ctx, tool, args, field):
    with pytest.raises(ToolArgumentsError, match=field):
        ToolDispatcher(ctx).run(tool, args)


@pytest.mark.parametrize("tool", ["latency_bottleneck_identifier", "function_performance_analyzer"])
def test_values_are_bound_never_inlined(perf, tool):
    evidence = perf.run(tool, {"feature": "chat"}).evidence
    assert all(e.params["feature"] == "chat" and "'chat'" not in e.sql for e in evidence)
