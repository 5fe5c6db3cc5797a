"""The prompt-cache replay engine (`_cache_replay`) on planted prompts, every figure by hand.

Each case loads a few requests into the real chDB store and checks every replayed request:
(eligible, cacheable tokens min(c(r) x bs, input), R(r), W(r), write class), per docs/caching.md. Prompts are chained
block hashes: a shared prompt P is the same hashes at the same depths, each request adds a
block of its own, so c(r) counts P's blocks (and any blocks two requests add alike).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
import pytest

from netra.tools._cache_replay import CacheReplay, replay_scope, scoped_events
from netra.tools._sql import Queries
from netra.tools.scope import Scope
from netra.workloads.caching import CHOICES, cache_rules, lookup
from tests.support.factories import T0, load

P = [0xA1, 0xA2, 0xA3, 0xA4]  # a shared 4-block prompt
SON, GPT4O, GPT41 = "claude-sonnet-4-5", "gpt-4o", "gpt-4.1"
PROVIDER = {SON: "anthropic", GPT4O: "openai", GPT41: "openai", "gemini-2.5-pro": "gemini", "mystery-llm": ""}
NO = (False, 0, 0, 0, "")  # not replayed


def request(rid: str, ms: int, model: str, blocks: list[int], bs: int = 512, **logged: Any) -> dict[str, Any]:
    """One request at T0 + `ms` milliseconds: `blocks`, then one block of its own."""
    hashes = blocks + [0x10000 + sum(map(ord, rid)) * 977 + len(rid)]
    return {"timestamp": T0 + timedelta(milliseconds=ms), "request_id": rid, "model": model,
            "provider": PROVIDER[model], "feature": "chat", "prefix_hashes": hashes, "block_size": bs,
            "input_tokens": len(hashes) * bs, "output_tokens": 10, **logged}


def whole(rid: str, ms: int, model: str, blocks: list[int], input_tokens: int, bs: int = 512) -> dict[str, Any]:
    """One request whose `blocks` are its whole prompt, the last one partial when `input_tokens` ends inside it."""
    return {**request(rid, ms, model, blocks, bs), "prefix_hashes": blocks, "input_tokens": input_tokens}


@dataclass(frozen=True)
class Case:
    """Requests, a TTL choice and each request's (eligible, c(r) x bs, R(r), W(r), write class)."""

    name: str
    requests: list[dict[str, Any]]
    choice: str
    expected: dict[str, tuple[bool, int, int, int, str]]
    notes: list[str] = field(default_factory=list)


CASES = [
    # 4 shared blocks x 512 = 2,048 tokens >= Sonnet 4.5's 1,024: a writes 2,048; b comes
    # exactly 300,000 ms later: the entry expired (300,000 is not < 300,000), b writes again
    Case("ttl_300000_misses", [request("a", 0, SON, P), request("b", 300_000, SON, P)], "5m",
         {"a": (True, 2048, 0, 2048, "cache_write"), "b": (True, 2048, 0, 2048, "cache_write")}),
    # 299,999 ms later: alive, b reads the 2,048 tokens and writes 2,048 - 2,048 = 0
    Case("ttl_299999_hits", [request("a", 0, SON, P), request("b", 299_999, SON, P)], "5m",
         {"a": (True, 2048, 0, 2048, "cache_write"), "b": (True, 2048, 2048, 0, "cache_write")}),
    # under 1 h, 300,000 ms is well within 3,600,000 ms: b reads; writes are 1-hour writes
    Case("ttl_1h_keeps_it", [request("a", 0, SON, P), request("b", 300_000, SON, P)], "1h",
         {"a": (True, 2048, 0, 2048, "cache_write_1h"), "b": (True, 2048, 2048, 0, "cache_write_1h")}),
    # a and b at the same millisecond never hit each other: both write 2,048; c reads 2,048
    Case("same_millisecond_misses", [request("b", 1000, SON, P), request("a", 1000, SON, P),
                                      request("c", 2000, SON, P)], "5m",
         {"a": (True, 2048, 0, 2048, "cache_write"), "b": (True, 2048, 0, 2048, "cache_write"),
          "c": (True, 2048, 2048, 0, "cache_write")}),
    # 2 shared blocks x 256 = 512 tokens < 1,024: not eligible (reads and writes nothing), c x bs = 512
    Case("below_the_minimum", [request("a", 0, SON, P[:2], bs=256), request("b", 1000, SON, P[:2], bs=256)], "5m",
         {"a": (False, 512, 0, 0, ""), "b": (False, 512, 0, 0, "")}),
    # 4 x 256 = 1,024 tokens = the minimum: a writes 1,024, b reads 1,024
    Case("at_the_minimum", [request("a", 0, SON, P, bs=256), request("b", 1000, SON, P, bs=256)], "5m",
         {"a": (True, 1024, 0, 1024, "cache_write"), "b": (True, 1024, 1024, 0, "cache_write")}),
    # the same prompt to gpt-4o and to Claude: one cache per (provider, model), each holds one request
    Case("no_reuse_across_models", [request("c", 0, SON, P), request("o", 1000, GPT4O, P)], "5m",
         {"c": (False, 0, 0, 0, ""), "o": (False, 0, 0, 0, "")}),
    # gpt-4.1, 2 blocks x 1,000 = 2,000 shared: b reads 2,000 - 2,000 % 128 = 1,920 (15 x 128),
    # writes 2,000 - 1,920 = 80, billed as input (no write premium); the same under '1h'
    Case("openai_128_token_steps", [request("a", 0, GPT41, P[:2], bs=1000), request("b", 10, GPT41, P[:2], bs=1000)],
         "1h", {"a": (True, 2000, 0, 2000, "input"), "b": (True, 2000, 1920, 80, "input")}),
    # f0 was refused (error, no output): not billed, it neither counts for c(r) nor touches the
    # cache; ok2 shares P + [9] with f0 only, so its c is P's 4 blocks (2,048) and it reads them
    Case("refused_requests_take_no_part", [request("ok1", 0, SON, P), request("f0", 1000, SON, P + [9], status="error",
                                                                               output_tokens=0),
                                           request("ok2", 2000, SON, P + [9])], "5m",
         {"ok1": (True, 2048, 0, 2048, "cache_write"), "f0": NO, "ok2": (True, 2048, 2048, 0, "cache_write")},
         ["1 refused requests (status not ok, no output) are not billed: not replayed"]),
    # a and b share P + [0xB1] (5 blocks, 2,560); c shares P only (4 blocks, 2,048) with both:
    # a writes 2,560; b reads the 5 blocks a wrote; c reads the 4 blocks a and b used
    Case("branching_prompts", [request("a", 0, SON, P + [0xB1, 0xB2]), request("b", 10_000, SON, P + [0xB1, 0xB3]),
                               request("c", 20_000, SON, P + [0xC1])], "5m",
         {"a": (True, 2560, 0, 2560, "cache_write"), "b": (True, 2560, 2560, 0, "cache_write"),
          "c": (True, 2048, 2048, 0, "cache_write")}),
    # a deep entry expires while a shallow one is refreshed: b (t = 200 s) reuses P from a and
    # refreshes it; c (t = 400 s) shares P + [0xB1] with a (used at 0 s: expired, 400 s >= 300 s)
    # but P is alive (used by b at 200 s): c reads 2,048 of its 2,560 and writes 512
    Case("partial_hit_after_expiry", [request("a", 0, SON, P + [0xB1]), request("b", 200_000, SON, P),
                                      request("c", 400_000, SON, P + [0xB1])], "5m",
         {"a": (True, 2560, 0, 2560, "cache_write"), "b": (True, 2048, 2048, 0, "cache_write"),
          "c": (True, 2560, 2048, 512, "cache_write")}),
    # the same 3-block prompt of 1,100 tokens (2 x 512 + 76: the last block is partial): its
    # blocks hold 1,100 tokens, not 3 x 512 = 1,536; a writes 1,100, b reads 1,100
    Case("a_partial_last_block", [whole("a", 0, SON, P[:3], 1100), whole("b", 1000, SON, P[:3], 1100)], "5m",
         {"a": (True, 1100, 0, 1100, "cache_write"), "b": (True, 1100, 1100, 0, "cache_write")}),
    # 1,000 tokens in 2 blocks (512 + 488) hold less than Sonnet 4.5's 1,024 (2 x 512 would reach it)
    Case("a_partial_block_below_the_minimum", [whole("a", 0, SON, P[:2], 1000), whole("b", 1000, SON, P[:2], 1000)],
         "5m", {"a": (False, 1000, 0, 0, ""), "b": (False, 1000, 0, 0, "")}),
    # gpt-4o, 1,500 tokens in 2 blocks of 1,000: b reads 1,500 - 1,500 % 128 = 1,408 and writes 92
    Case("a_partial_block_in_openai_steps", [whole("a", 0, GPT4O, P[:2], 1500, bs=1000),
                                             whole("b", 10, GPT4O, P[:2], 1500, bs=1000)], "5m",
         {"a": (True, 1500, 0, 1500, "input"), "b": (True, 1500, 1408, 92, "input")}),
    # no prompt shared at all: no candidate block, nothing cacheable
    Case("nothing_shared", [request("a", 0, SON, [1, 2, 3, 4]), request("b", 10, SON, [5, 6, 7, 8])], "5m",
         {"a": (False, 0, 0, 0, ""), "b": (False, 0, 0, 0, "")}),
    # keys without a rule are not replayed, and the notes say why
    Case("keys_without_rules", [request("g1", 0, "gemini-2.5-pro", P), request("g2", 10, "gemini-2.5-pro", P),
                                request("m1", 0, "mystery-llm", P), request("m2", 10, "mystery-llm", P)], "5m",
         {"g1": NO, "g2": NO, "m1": NO, "m2": NO},
         ["not replayed: gemini-2.5-pro (gemini): Google publishes no cache lifetime for implicit caching",
          "not replayed: mystery-llm (no provider logged): model not in the price catalog"]),
]


ANTHROPIC = {"5m": (300, "cache_write"), "1h": (3600, "cache_write_1h")}
OPENAI = {"5m": (300, "input"), "1h": (300, "input")}  # automatic 5 minutes whatever the choice
# (provider as logged, model) -> (minimum, read step, choice -> (ttl_s, write class)), or the reason for none
RULES = [
    ("anthropic", "claude-opus-4-5", (4096, 1, ANTHROPIC)), ("anthropic", "claude-haiku-4-5", (4096, 1, ANTHROPIC)),
    ("anthropic", "claude-sonnet-4-6", (2048, 1, ANTHROPIC)), ("anthropic", "claude-sonnet-4-5", (1024, 1, ANTHROPIC)),
    ("", "claude-sonnet-4-5", (1024, 1, ANTHROPIC)),  # no provider logged: the catalog's (anthropic)
    ("openai", "gpt-4o", (1024, 128, OPENAI)), ("azure", "azure/gpt-4o", (1024, 128, OPENAI)),
    ("gemini", "gemini-2.5-pro", "Google publishes no cache lifetime for implicit caching"),
    ("bedrock", "claude-sonnet-4-5", "no caching rule for claude-sonnet-4-5 served by bedrock"),
    ("", "ai21.j2-mid-v1", "the catalog says the model offers no prompt caching"),
    ("", "mystery-llm", "model not in the price catalog"),
]


@pytest.mark.parametrize(("provider", "model", "expected"), RULES)
def test_the_rules_table(catalog, provider, model, expected):
    found = lookup(catalog, provider, model)
    rules = found.rules and (found.rules.minimum_tokens, found.rules.read_step,
                             {c: (found.rules.option(c).ttl_s, found.rules.option(c).write_class) for c in CHOICES})
    assert ((rules or found.reason), cache_rules(catalog, provider, model)) == (expected, found.rules)


def decisions(replay: CacheReplay) -> dict[str, tuple[bool, int, int, int, str]]:
    """Return each request's (eligible, c(r) x bs, R(r), W(r), write class)."""
    columns = (replay.eligible, replay.cacheable_tokens, replay.read_tokens, replay.write_tokens, replay.write_class)
    rows = zip(replay.request_id, *columns)
    return {str(rid): (bool(e), int(c), int(r), int(w), str(k)) for rid, e, c, r, w, k in rows}


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_each_request_is_replayed_as_computed_by_hand(ctx, catalog, case):
    load(ctx.store, catalog, case.requests)
    replay = replay_scope(ctx, Scope(), case.choice)
    assert (decisions(replay), sorted(replay.notes)) == (case.expected, sorted(case.notes))


def test_entries_come_in_timestamp_then_request_id_order_with_their_labels(ctx, catalog):
    load(ctx.store, catalog, [request("z", 5, SON, P), request("b", 1, SON, P), request("a", 1, GPT4O, P)])
    replay = replay_scope(ctx, Scope(), "5m")
    labels = list(zip(replay.request_id, replay.feature, replay.provider, replay.model))
    assert labels == [("a", "chat", "openai", GPT4O), ("b", "chat", "anthropic", SON), ("z", "chat", "anthropic", SON)]


def test_arrays_have_the_documented_types(ctx, catalog):
    load(ctx.store, catalog, [request("a", 0, SON, P), request("b", 10, SON, P)])
    replay = replay_scope(ctx, Scope(), "5m")
    kinds = [replay.eligible.dtype, replay.cacheable_tokens.dtype, replay.read_tokens.dtype, replay.write_tokens.dtype]
    assert kinds == [np.dtype(bool)] + [np.dtype(np.int64)] * 3
    assert {type(v) for v in (*replay.request_id, *replay.model, *replay.write_class)} == {str}


def test_a_scope_filter_narrows_the_cache_and_stays_a_bound_parameter(ctx, catalog):
    load(ctx.store, catalog, [request("a", 0, SON, P), {**request("b", 10, SON, P), "feature": "other"}])
    queries = Queries(ctx.store)
    # only a is in scope: no other scoped request shares its prompt
    assert decisions(replay_scope(ctx, Scope(feature="chat"), "5m", queries)) == {"a": NO}
    assert all(e.params["feature"] == "chat" and "'chat'" not in e.sql for e in queries.evidence)


def test_an_empty_scope_gives_an_empty_replay(ctx, catalog):
    replay = replay_scope(ctx, Scope(feature="nothing"), "1h")
    assert (len(replay.request_id), replay.notes) == (0, [])


@pytest.mark.parametrize("columns", [("prefix_hashes",), ("cost_usd",)])
def test_only_pricing_columns_can_be_added(ctx, columns):
    with pytest.raises(ValueError, match=columns[0]):
        scoped_events(ctx, Scope(), columns=columns)
