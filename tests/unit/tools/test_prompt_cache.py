"""prompt_cache_savings_calculator on planted prompts, every saving computed by hand.

Prices are the catalog's, in USD per token: claude-sonnet-4-5 input 3e-6, cache read 3e-7,
5-minute write 3.75e-6, 1-hour write 6e-6, output 1.5e-5; gpt-4o input 2.5e-6, cache read
1.25e-6 (no write price: a write costs input). Monthly = window x 30 / days, where a span
under an hour counts as one hour (x 720) and 4 hours is 1/6 day (x 180).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.evidence import confidence
from tests.support.factories import T0, bound_params, load

TOOL = "prompt_cache_savings_calculator"
P = [0xA1, 0xA2, 0xA3, 0xA4]  # a shared 4-block prompt
SON, GPT4O = "claude-sonnet-4-5", "gpt-4o"
PROVIDER = {SON: "anthropic", GPT4O: "openai", "gemini-2.5-pro": "gemini", "mystery-llm": ""}
WRITE_5M, WRITE_1H, READ = 3.75e-6 - 3e-6, 6e-6 - 3e-6, 3e-6 - 3e-7  # Sonnet: per token vs input
GPT4O_READ = 2.5e-6 - 1.25e-6


def request(n: int, seconds: float, model: str = SON, feature: str = "support", blocks: list[int] = P,
            bs: int = 512) -> dict[str, Any]:
    """Request `n` at T0 + `seconds`: `blocks`, then one block of its own; 10 output tokens."""
    hashes = blocks + [0x10000 + n]
    return {"timestamp": T0 + timedelta(seconds=seconds), "request_id": f"{feature}-{n}", "model": model,
            "provider": PROVIDER[model], "feature": feature, "prefix_hashes": hashes, "block_size": bs,
            "input_tokens": len(hashes) * bs, "output_tokens": 10}


# support on Sonnet every 10 minutes (4 requests, 2,048 shared tokens): every 5-minute entry
# has expired; a 1-hour entry is written once and read three times
TEN_MINUTES = [request(i, 600 * i) for i in range(4)]
H1 = 3 * 2048 * READ - 2048 * WRITE_1H  # 0.0165888 - 0.006144 = 0.0104448
M5 = -4 * 2048 * WRITE_5M  # four writes, no read: -0.006144
# every 2 hours (3 requests, span 4 h): every option writes 2,048 three times, nothing is read
TWO_HOURS = [request(i, 7200 * i) for i in range(3)]
SPARSE_5M, SPARSE_1H = -3 * 2048 * WRITE_5M, -3 * 2048 * WRITE_1H  # -0.004608, -0.018432
# 1,024 shared tokens (4 x 256) on Sonnet, a minute apart; 512 (2 x 256) on chat
MINIMUM = [request(0, 0, bs=256), request(1, 60, bs=256),
           request(2, 0, feature="chat", blocks=P[:2], bs=256), request(3, 60, feature="chat", blocks=P[:2], bs=256)]
AT_MINIMUM = 1024 * READ - 1024 * WRITE_5M  # 0.0027648 - 0.000768 = 0.0019968 (1 h: 0.0027648 - 0.003072 < 0)
# gpt-4o, 1,024 shared tokens a minute apart: the write costs input, the read saves 1,024 x 1.25e-6
OPENAI = [request(0, 0, GPT4O, bs=256), request(1, 60, GPT4O, bs=256)]
OPENAI_SAVING = 1024 * GPT4O_READ  # 0.00128

# (name, requests, args, (feature, model), expected finding fields)
CASES = [
    ("gaps_between_5_and_60_minutes_make_1h_win", TEN_MINUTES, {}, ("support", SON), {
        "flagged": True, "requests": 4, "affected_requests": 4, "confidence": 1.0,  # one day, saving > 0
        "window_cost_usd": pytest.approx(4 * (2560 * 3e-6 + 10 * 1.5e-5)),  # 4 x 0.00783 as logged
        "window_saving_usd": pytest.approx(H1), "monthly_saving_usd": pytest.approx(H1 * 720),  # 7.520256
        "reason": f"caching with the 1h option saves ${H1 * 720:.2f}/month: "
                  "6144 tokens read from the cache, 2048 written",
        "params": {"provider": "anthropic", "ttl_option": "1h", "ttl_s": 3600, "retention": "1h",
                   "min_cacheable_tokens": 1024, "cacheable_tokens": 4 * 2048, "read_tokens": 3 * 2048,
                   "write_tokens": 2048, "options": {
                       "none": {"ttl_s": None, "window_saving_usd": 0.0, "monthly_saving_usd": 0.0,
                                "read_tokens": 0, "write_tokens": 0},
                       "5m": {"ttl_s": 300, "window_saving_usd": pytest.approx(M5),
                              "monthly_saving_usd": pytest.approx(M5 * 720), "read_tokens": 0,
                              "write_tokens": 4 * 2048},
                       "1h": {"ttl_s": 3600, "window_saving_usd": pytest.approx(H1),
                              "monthly_saving_usd": pytest.approx(H1 * 720), "read_tokens": 3 * 2048,
                              "write_tokens": 2048}}}}),
    # every miss pays its write, read later or not: caching costs more, nothing is flagged
    ("sparse_traffic_costs_more", TWO_HOURS, {"min_monthly_saving_usd": 0}, ("support", SON), {
        "flagged": False, "window_saving_usd": 0.0, "monthly_saving_usd": 0.0, "affected_requests": 3,
        "reason": f"caching would cost ${-SPARSE_5M * 180:.2f}/month more than as logged (cheapest option: 5m)",
        "params": {"ttl_option": "5m", "ttl_s": 300, "read_tokens": 0, "write_tokens": 3 * 2048}}),
    ("a_1024_token_prefix_on_sonnet_qualifies", MINIMUM, {}, ("support", SON), {
        "flagged": True, "window_saving_usd": pytest.approx(AT_MINIMUM),
        "monthly_saving_usd": pytest.approx(AT_MINIMUM * 720),  # 1.437696
        "params": {"ttl_option": "5m", "ttl_s": 300, "read_tokens": 1024, "write_tokens": 1024}}),
    ("a_512_token_prefix_is_never_flagged", MINIMUM, {"min_monthly_saving_usd": 0}, ("chat", SON), {
        "flagged": False, "affected_requests": 0, "window_saving_usd": 0.0,
        "reason": "no request shares a prefix of at least 1024 tokens with another request"}),
    # the same prompt to gpt-4o and to Claude: separate caches, one request each: nothing shared
    ("no_reuse_across_models", [request(0, 0, GPT4O), request(1, 60, SON)], {"min_monthly_saving_usd": 0},
     ("support", GPT4O), {"flagged": False, "affected_requests": 0, "params": {"cacheable_tokens": 0}}),
    ("openai_writes_cost_input", OPENAI, {}, ("support", GPT4O), {
        "flagged": False, "window_saving_usd": pytest.approx(OPENAI_SAVING),
        "reason": f"caching with the auto option would save ${OPENAI_SAVING * 720:.2f}/month, under the threshold",
        "params": {"provider": "openai", "ttl_option": "5m", "ttl_s": 300, "retention": "auto",
                   "read_tokens": 1024, "write_tokens": 1024}}),
    # two hours apart both requests write, at the input price: caching changes nothing
    ("openai_sparse_traffic_costs_nothing_more", [request(0, 0, GPT4O), request(1, 7200, GPT4O)],
     {"min_monthly_saving_usd": 0}, ("support", GPT4O), {
         "flagged": False, "window_saving_usd": 0.0, "reason": "caching would not change the cost"}),
]


def run(ctx, catalog, requests: list[dict[str, Any]], args: dict[str, Any] | None = None):
    """Load the requests and run the calculator."""
    load(ctx.store, catalog, requests)
    return ToolDispatcher(ctx).run(TOOL, args or {})


def finding(result, feature: str, model: str) -> dict[str, Any]:
    """Return the finding row of one (feature, model)."""
    return next(r for r in result.rows if (r["feature"], r["model"]) == (feature, model))


def subset(row: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    """Return the fields of `row` named in `expected` (params: only the keys expected)."""
    picked = {k: row[k] for k in expected}
    if "params" in expected:
        picked["params"] = {k: row["params"][k] for k in expected["params"]}
    return picked


@pytest.mark.parametrize(("name", "requests", "args", "pair", "expected"), CASES, ids=[c[0] for c in CASES])
def test_findings_computed_by_hand(ctx, catalog, name, requests, args, pair, expected):
    row = finding(run(ctx, catalog, requests, args), *pair)
    assert (row["kind"], subset(row, expected)) == ("prompt_cache", expected)


def test_confidence_is_the_stability_of_the_best_options_daily_savings(ctx, catalog):
    # a second UTC day with one request: its 1-hour entry expired (84,600 s after the last use), it
    # writes 2,048 tokens; per day the 1-hour option saves H1, then -2,048 x WRITE_1H (net > 0)
    row = finding(run(ctx, catalog, TEN_MINUTES + [request(4, 86_400)]), "support", SON)
    daily = np.array([H1, -2048 * WRITE_1H])
    assert (row["params"]["ttl_option"], row["window_saving_usd"]) == ("1h", pytest.approx(daily.sum()))
    assert row["confidence"] == confidence(daily, 1.0) and 0.5 < row["confidence"] < 1


def test_an_option_that_saves_nothing_has_no_confidence(ctx, catalog):
    assert finding(run(ctx, catalog, TWO_HOURS), "support", SON)["confidence"] == 0.0


@pytest.mark.parametrize(("name", "value"), [
    ("cacheable_tokens", 4 * 2048), ("read_tokens", 3 * 2048), ("write_tokens", 2048),
    ("window_saving_usd", H1), ("monthly_saving_usd", H1 * 720),
])
def test_figures(ctx, catalog, name, value):
    assert run(ctx, catalog, TEN_MINUTES).value(name) == pytest.approx(value, abs=1e-6)


@pytest.mark.parametrize(("threshold", "flagged"), [(0.0, ["support/gpt-4o"]), (0.92, ["support/gpt-4o"]),
                                                    (0.93, [])])
def test_threshold_decides_flagging(ctx, catalog, threshold, flagged):
    rows = run(ctx, catalog, OPENAI, {"min_monthly_saving_usd": threshold}).rows  # monthly 0.9216
    assert [f"{r['feature']}/{r['model']}" for r in rows if r["flagged"]] == flagged


def test_keys_without_rules_are_noted_and_get_no_finding(ctx, catalog):
    requests = [request(0, 0, "gemini-2.5-pro"), request(1, 10, "gemini-2.5-pro"),
                request(2, 0, "mystery-llm"), request(3, 10, "mystery-llm")] + OPENAI
    result = run(ctx, catalog, requests)
    assert [r["model"] for r in result.rows] == [GPT4O]
    assert sorted(result.notes) == [
        "not replayed: gemini-2.5-pro (gemini): Google publishes no cache lifetime for implicit caching",
        "not replayed: mystery-llm (no provider logged): model not in the price catalog"]


def test_scope_filters_are_bound_parameters(ctx, catalog):
    result = run(ctx, catalog, MINIMUM, {"feature": "chat"})
    assert [(r["feature"], r["model"]) for r in result.rows] == [("chat", SON)]
    assert all(bound_params({"feature": "chat"}, e.sql).items() <= e.params.items() and "'chat'" not in e.sql
               for e in result.evidence)


def test_empty_scope_gives_zeros_and_a_note(ctx, catalog):
    result = run(ctx, catalog, TEN_MINUTES, {"feature": "nothing"})
    assert ({f.value for f in result.figures.values()}, result.rows, result.notes) == ({0.0}, [], [EMPTY_NOTE])


@pytest.mark.parametrize(("args", "field"), [
    ({"min_monthly_saving_usd": -1}, "min_monthly_saving_usd"), ({"ttl_s": 300}, "ttl_s"),
])
def test_bad_arguments_name_the_field(ctx, args, field):
    with pytest.raises(ToolArgumentsError, match=field):
        ToolDispatcher(ctx).run(TOOL, args)
