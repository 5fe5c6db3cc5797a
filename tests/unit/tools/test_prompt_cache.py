"""prompt_cache_savings_calculator on planted prefixes, with savings computed by hand."""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.prompt_cache import min_prefix_tokens
from tests.factories import at, load

TOOL = "prompt_cache_savings_calculator"
BLOCK = 256
# literal USD per token, as in the price catalog
SONNET = {"input": 3e-6, "cache_read": 3e-7, "cache_write": 3.75e-6}
GPT4O = {"input": 2.5e-6, "cache_read": 1.25e-6}  # no write price: writes cost the input price
MONTH_FACTOR = 30 * 24  # the events span under an hour, counted as one
P = [0xA0 + k for k in range(5)]  # support: 5 blocks, 1,280 tokens (Sonnet minimum 1,024)
H = [0xB0 + k for k in range(6)]  # chat on Haiku: 6 blocks, 1,536 tokens (Haiku minimum 2,048)
Q = [0xC0 + k for k in range(4)]  # ops on gpt-4o: 4 blocks, exactly the 1,024 minimum
C = [0xD0 + k for k in range(4)]  # code already caches these


def event(name: str, seconds: float, feature: str, model: str, hashes: list[int], cached: int = 0,
          written: int = 0) -> dict[str, Any]:
    """One request with its prefix blocks plus one unique block."""
    blocks = hashes + [0x10000 + int.from_bytes(name.encode(), "big")]
    return {"timestamp": at(seconds=seconds), "request_id": name, "feature": feature, "model": model,
            "prefix_hashes": blocks, "block_size": BLOCK, "input_tokens": BLOCK * len(blocks),
            "cached_input_tokens": cached, "cache_write_tokens": written, "output_tokens": 10}


SON, HAI = "claude-sonnet-4-5", "claude-haiku-4-5"
EVENTS = [
    # support: s2 and s3 hit the 1,280-token prefix; it expires before s4 (880 s > 300 s TTL), s5 hits again
    event("s1", 0, "support", SON, P), event("s2", 60, "support", SON, P), event("s3", 120, "support", SON, P),
    event("s4", 1000, "support", SON, P), event("s5", 1100, "support", SON, P),
    # chat: a shared prefix below Haiku's minimum
    event("c1", 0, "chat", HAI, H), event("c2", 30, "chat", HAI, H),
    # ops: exactly the minimum on gpt-4o; the same blocks on gpt-4o-mini live in another cache
    event("o1", 0, "ops", "gpt-4o", Q), event("o2", 10, "ops", "gpt-4o", Q),
    event("o3", 20, "ops", "gpt-4o-mini", Q),
    # code already writes and reads its prefix
    event("k1", 0, "code", SON, C, written=1024), event("k2", 30, "code", SON, C, cached=1024),
    # skipped models
    event("x1", 0, "misc", "mystery-llm", P), event("x2", 5, "misc", "ai21.j2-mid-v1", P),
]

SUPPORT = 3 * 1280 * (SONNET["input"] - SONNET["cache_read"]) - 2 * 1280 * (SONNET["cache_write"] - SONNET["input"])
SUPPORT_NO_TTL = 4 * 1280 * (SONNET["input"] - SONNET["cache_read"]) - 1280 * (SONNET["cache_write"] - SONNET["input"])
OPS = 1024 * (GPT4O["input"] - GPT4O["cache_read"])

# (feature, model) -> expected Finding fields with the default TTL of 300 s
EXPECTED = {
    ("support", SON): {"flagged": True, "requests": 5, "affected_requests": 3,
                       "window_saving_usd": pytest.approx(SUPPORT),
                       "monthly_saving_usd": pytest.approx(SUPPORT * MONTH_FACTOR),
                       "params": {"min_cacheable_tokens": 1024, "ttl_s": 300, "cacheable_hit_tokens": 3840,
                                  "uncached_cacheable_tokens": 3840, "below_minimum_tokens": 0,
                                  "written_tokens": 2560}},
    ("chat", HAI): {"flagged": False, "window_saving_usd": 0.0,
                    "reason": "shared prefixes are shorter than the 2048-token minimum",
                    "params": {"min_cacheable_tokens": 2048, "ttl_s": 300, "cacheable_hit_tokens": 0,
                               "uncached_cacheable_tokens": 0, "below_minimum_tokens": 1536, "written_tokens": 0}},
    ("ops", "gpt-4o"): {"flagged": False, "window_saving_usd": pytest.approx(OPS), "affected_requests": 1,
                        "reason": f"caching would save ${OPS * MONTH_FACTOR:.2f}/month, under the threshold"},
    ("ops", "gpt-4o-mini"): {"flagged": False, "reason": "no request repeats a cacheable prefix"},
    ("code", SON): {"flagged": False, "window_saving_usd": 0.0,
                    "reason": "cacheable prefixes are already read from the cache"},
}
NOTES = ["skipped ai21.j2-mid-v1: the catalog says the model offers no prompt caching",
         "skipped mystery-llm: model not in the price catalog"]
EXPECTED_FIGURES = {"cacheable_hit_tokens": 3840 + 1024 + 1024, "uncached_cacheable_tokens": 3840 + 1024,
                    "below_minimum_tokens": 1536, "written_tokens": 2560 + 1024 + 1024,
                    "window_saving_usd": SUPPORT, "monthly_saving_usd": SUPPORT * MONTH_FACTOR}


def run(ctx, catalog, args: dict[str, Any] | None = None):
    """Load the planted events and run the calculator."""
    load(ctx.store, catalog, EVENTS)
    return ToolDispatcher(ctx).run(TOOL, args or {})


def finding(result, feature: str, model: str) -> dict[str, Any]:
    """Return the Finding row of one (feature, model)."""
    return next(r for r in result.rows if (r["feature"], r["model"]) == (feature, model))


@pytest.mark.parametrize(("pair", "expected"), list(EXPECTED.items()))
def test_findings_per_pair(ctx, catalog, pair, expected):
    row = finding(run(ctx, catalog), *pair)
    assert {k: row[k] for k in expected} == expected


def test_support_reason_and_kind(ctx, catalog):
    row = finding(run(ctx, catalog), "support", SON)
    assert (row["kind"], row["reason"]) == ("prompt_cache", "3840 tokens of shared prefixes of at least 1024 tokens "
                                            f"were resent without a cache; caching saves ${SUPPORT * MONTH_FACTOR:.2f}/month")


@pytest.mark.parametrize(("name", "value"), sorted(EXPECTED_FIGURES.items()))
def test_figures(ctx, catalog, name, value):
    assert run(ctx, catalog).value(name) == pytest.approx(value, abs=1e-6)


def test_skipped_models_are_noted_not_priced(ctx, catalog):
    result = run(ctx, catalog)
    assert (result.notes, [r for r in result.rows if r["feature"] == "misc"]) == (NOTES, [])


@pytest.mark.parametrize(("args", "saving", "written"), [
    ({}, SUPPORT, 2560), ({"ttl_s": None}, SUPPORT_NO_TTL, 1280), ({"ttl_s": 1000}, SUPPORT_NO_TTL, 1280),
])
def test_ttl_expiry_rewrites_the_prefix(ctx, catalog, args, saving, written):
    row = finding(run(ctx, catalog, args), "support", SON)
    assert (row["window_saving_usd"], row["params"]["written_tokens"]) == (pytest.approx(saving), written)


@pytest.mark.parametrize(("threshold", "flagged"), [(0.0, ["ops", "support"]), (1.0, ["support"]), (100.0, [])])
def test_threshold_decides_flagging(ctx, catalog, threshold, flagged):
    rows = run(ctx, catalog, {"min_monthly_saving_usd": threshold}).rows
    assert sorted(r["feature"] for r in rows if r["flagged"]) == flagged


@pytest.mark.parametrize(("model", "tokens"), [
    ("claude-sonnet-4-5", 1024), ("claude-haiku-4-5", 2048), ("gpt-4o", 1024), ("deepseek-chat", 64),
    ("some-unknown-model", 1024),
])
def test_minimum_prefix_table(catalog, model, tokens):
    assert min_prefix_tokens(catalog, model) == tokens


@pytest.mark.parametrize(("scope", "pairs"), [
    ({"model": "gpt-4o"}, [("ops", "gpt-4o")]), ({"feature": "code"}, [("code", SON)]),
])
def test_scope_filters_are_bound_parameters(ctx, catalog, scope, pairs):
    result = run(ctx, catalog, scope)
    assert [(r["feature"], r["model"]) for r in result.rows] == pairs
    assert all(e.params == scope for e in result.evidence)
    assert not any(v in e.sql for e in result.evidence for v in scope.values())


def test_empty_scope_gives_zeros_and_a_note(ctx, catalog):
    result = run(ctx, catalog, {"feature": "nothing"})
    assert ({f.value for f in result.figures.values()}, result.rows, result.notes) == ({0.0}, [], [EMPTY_NOTE])


@pytest.mark.parametrize(("args", "field"), [
    ({"ttl_s": 0}, "ttl_s"), ({"min_monthly_saving_usd": -1}, "min_monthly_saving_usd"), ({"ttl": 5}, "ttl"),
])
def test_bad_arguments_name_the_field(ctx, args, field):
    with pytest.raises(ToolArgumentsError, match=field):
        ToolDispatcher(ctx).run(TOOL, args)
