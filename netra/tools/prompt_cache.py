"""Prompt cache savings calculator: what provider prompt caching would save, per feature and model.

The scoped requests are replayed in `timestamp`, then `request_id` order through one prompt
cache per model (providers cache per model; features share it). A cache entry is a prefix
block, created by the request that stored it:

- a block of a request is **live** when its model's cache holds it and it was last used less
  than `ttl_s` seconds ago (each use refreshes it; `ttl_s` null: entries never expire);
- it is a **hit** when live and created strictly before the request (a tie misses, as in
  `kv_cache_finder`); the request's hit tokens are its *leading* hit blocks x block size;
- the hit **qualifies** only when its hit tokens reach the model's minimum cacheable prefix
  (`MIN_PREFIX_TOKENS`, or the catalog's `prompt_cache_min_tokens` where present); shorter
  shared prefixes are counted as `below_minimum_tokens` and save nothing;
- after the lookup, live blocks are refreshed; the others are stored anew (created now).

Per (feature, model), priced from the catalog (`cache_read` and `cache_write` fall back to the
input price, so a provider with no write premium charges none):

saving = uncached qualifying hit tokens x (input - cache-read price)
       - written tokens x (cache-write - input price)

where uncached qualifying hit tokens = sum over qualifying requests of max(hit - billed cached
reads, 0), and written tokens = the blocks of each cache entry that served a qualifying hit,
charged once per entry to the (feature, model) that stored it; a pair that already reads from
a cache has paid its writes and is charged none. A pair is flagged when its monthly saving is
at least `min_monthly_saving_usd`. Models not in the catalog, or whose catalog entry does not
support prompt caching, are skipped with a note.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from netra.errors import UnknownModelError
from netra.tools._sql import Queries, empty
from netra.tools.base import ToolContext, ToolResult
from netra.tools.cache_policy import Trace, leading, load_trace
from netra.tools.context_usage import catalog_field
from netra.tools.findings import Finding, findings_result
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, fig, monthly
from netra.workloads.catalog import PriceCatalog

TOOL = "prompt_cache_savings_calculator"
_LATENCY = "lower TTFT on cached prefixes"

# (fragments all found in the lower-cased catalog key, minimum cacheable prefix tokens): the
# first matching row wins. Anthropic: 1,024 (Sonnet, Opus), 2,048 (Haiku); DeepSeek caches in
# 64-token units; OpenAI, Azure OpenAI and the rest: 1,024.
MIN_PREFIX_TOKENS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("claude", "haiku"), 2048),
    (("claude",), 1024),
    (("deepseek",), 64),
    ((), 1024),
)

_SUMS = ("requests", "cost", "cached_tokens", "cacheable_requests", "cacheable_hit_tokens",
         "uncached_cacheable_tokens", "below_minimum_tokens", "written_tokens")
# (test on (pair sums, flagged), reason): the first row whose test passes gives the reason
_REASONS = (
    (lambda s, flagged: flagged, "{uncached} tokens of shared prefixes of at least {minimum} tokens were "
                                 "resent without a cache; caching saves ${month:.2f}/month"),
    (lambda s, flagged: s["cacheable_hit_tokens"] == 0 and s["below_minimum_tokens"] > 0,
     "shared prefixes are shorter than the {minimum}-token minimum"),
    (lambda s, flagged: s["cacheable_hit_tokens"] == 0, "no request repeats a cacheable prefix"),
    (lambda s, flagged: s["uncached_cacheable_tokens"] == 0, "cacheable prefixes are already read from the cache"),
    (lambda s, flagged: True, "caching would save ${month:.2f}/month, under the threshold"),
)
_FIGURES = {
    "cacheable_hit_tokens": ("tokens", "hit tokens of shared prefixes at or above the provider minimum"),
    "uncached_cacheable_tokens": ("tokens", "cacheable hit tokens not read from a cache"),
    "below_minimum_tokens": ("tokens", "hit tokens of shared prefixes below the provider minimum"),
    "written_tokens": ("tokens", "tokens written to the cache for the cacheable hits"),
    "window_saving_usd": ("USD", "window saving of the flagged pairs"),
    "monthly_saving_usd": ("USD/month", "monthly saving of the flagged pairs"),
}
_TOKEN_FIGURES = ("cacheable_hit_tokens", "uncached_cacheable_tokens", "below_minimum_tokens", "written_tokens")

Pair = tuple[str, str]


class PromptCacheArgs(Scope):
    """Scope plus the provider cache TTL and the flagging threshold."""

    ttl_s: int | None = Field(300, ge=1, description="cache TTL in seconds, refreshed on use; null: never expires")
    min_monthly_saving_usd: float = Field(1.0, ge=0, description="flag at or above this monthly saving")


@dataclass(frozen=True)
class Terms:
    """A model's caching terms: minimum cacheable prefix and USD per token read and written."""

    min_tokens: int
    read_gap: float  # input - cache-read price
    write_premium: float  # cache-write - input price


def min_prefix_tokens(catalog: PriceCatalog, model: str) -> int:
    """Return the model's minimum cacheable prefix: the catalog's, else `MIN_PREFIX_TOKENS`."""
    key = (catalog.resolve(model) or model).lower()
    table = next(n for parts, n in MIN_PREFIX_TOKENS if all(p in key for p in parts))
    return catalog_field(catalog, model, "prompt_cache_min_tokens") or table


def _skip_reason(catalog: PriceCatalog, model: str) -> str | None:
    """Return why `model` cannot be priced for caching, or None when it can."""
    try:
        supported = catalog.lookup(model).supports_prompt_caching
    except UnknownModelError:
        return "model not in the price catalog"
    return None if supported else "the catalog says the model offers no prompt caching"


def terms(catalog: PriceCatalog, model: str) -> Terms:
    """Return the caching terms of a priced model that supports prompt caching."""
    prices = catalog.unit_prices(model)
    return Terms(min_prefix_tokens(catalog, model), prices["input"] - prices["cache_read"],
                 prices["cache_write"] - prices["input"])


class Replay:
    """Replays the trace through per-model prompt caches and sums each (feature, model)."""

    def __init__(self, trace: Trace, minimums: dict[str, int], ttl_ms: float) -> None:
        self.trace, self.minimums, self.ttl_ms = trace, minimums, ttl_ms
        self.caches: dict[str, dict[int, list[int]]] = {}  # model -> block -> [created, last use, origin]
        self.sums: dict[Pair, dict[str, float]] = {}

    def run(self) -> dict[Pair, dict[str, float]]:
        """Serve every request in order; return the sums per (feature, model)."""
        for i, model in enumerate(self.trace.model):
            self._serve(i, self.caches.setdefault(model, {}))
        return self.sums

    def _live(self, entry: list[int] | None, now: int) -> bool:
        """Return whether a cache entry exists and was last used less than the TTL ago."""
        return entry is not None and now - entry[1] < self.ttl_ms

    def _serve(self, i: int, cache: dict[int, list[int]]) -> None:
        """Look request `i` up in its model's cache, count it, charge writes, store its blocks."""
        now, blocks = self.trace.ts[i], self.trace.blocks[i]
        hits = leading(blocks, lambda h: self._live(cache.get(h), now) and cache[h][0] < now)
        tokens, minimum = hits * self.trace.block_size[i], self.minimums.get(self.trace.model[i], 0)
        qualifies = 0 < minimum <= tokens
        self._count(i, tokens, qualifies)
        self._charge(cache, blocks[:hits] if qualifies else [])
        self._store(cache, blocks, now, i)

    def _pair(self, i: int) -> dict[str, float]:
        """Return the sums of request `i`'s (feature, model)."""
        return self.sums.setdefault((self.trace.feature[i], self.trace.model[i]), dict.fromkeys(_SUMS, 0))

    def _count(self, i: int, tokens: int, qualifies: bool) -> None:
        """Add request `i` (its hit tokens, whether they qualify) to its pair's sums."""
        cached, acc = self.trace.cached_tokens[i], self._pair(i)
        adds = {"requests": 1, "cost": self.trace.cost[i], "cached_tokens": cached,
                "cacheable_requests": int(qualifies), "cacheable_hit_tokens": tokens * qualifies,
                "uncached_cacheable_tokens": max(tokens - cached, 0) * qualifies,
                "below_minimum_tokens": tokens * (not qualifies)}
        for name, value in adds.items():
            acc[name] += value

    def _charge(self, cache: dict[int, list[int]], hit_blocks: list[int]) -> None:
        """Charge each hit entry's write to the pair that stored it, once per entry."""
        for entry in (cache[h] for h in hit_blocks if cache[h][2] >= 0):
            self._pair(entry[2])["written_tokens"] += self.trace.block_size[entry[2]]
            entry[2] = -1

    def _store(self, cache: dict[int, list[int]], blocks: list[int], now: int, i: int) -> None:
        """Refresh the live blocks of request `i`; store the others as created by it now."""
        for h in blocks:
            entry = cache.get(h)
            if self._live(entry, now):
                entry[1] = now
            else:
                cache[h] = [now, now, i]


@dataclass(frozen=True)
class _Run:
    """What judging a pair needs besides its sums."""

    args: PromptCacheArgs
    days: float
    terms: dict[str, Terms]


def _saving(sums: dict[str, float], t: Terms) -> float:
    """Return the window saving: cheaper reads minus the write premium (none if already caching)."""
    written = sums["written_tokens"] if sums["cached_tokens"] == 0 else 0
    return sums["uncached_cacheable_tokens"] * t.read_gap - written * t.write_premium


def _finding(run: _Run, pair: Pair, sums: dict[str, float]) -> Finding:
    """Price caching for one pair and decide whether to flag it."""
    t = run.terms[pair[1]]
    window = _saving(sums, t)
    month = monthly(window, run.days)
    flagged = month >= run.args.min_monthly_saving_usd and window > 0 and sums["uncached_cacheable_tokens"] > 0
    return Finding(kind="prompt_cache", feature=pair[0], model=pair[1], flagged=flagged,
                   reason=_reason(sums, t, month, flagged), window_saving_usd=window, monthly_saving_usd=month,
                   **_counts(run.args, sums, t))


def _reason(sums: dict[str, float], t: Terms, month: float, flagged: bool) -> str:
    """Say why the pair was or was not flagged (the first matching row of `_REASONS`)."""
    text = next(template for test, template in _REASONS if test(sums, flagged))
    return text.format(uncached=int(sums["uncached_cacheable_tokens"]), minimum=t.min_tokens, month=month)


def _counts(args: PromptCacheArgs, sums: dict[str, float], t: Terms) -> dict[str, Any]:
    """Return the Finding fields that come straight from the pair's sums."""
    return {"requests": int(sums["requests"]), "affected_requests": int(sums["cacheable_requests"]),
            "window_cost_usd": round(sums["cost"], 9), "latency_impact": _LATENCY,
            "confidence": round(min(1.0, sums["requests"] / 1000.0), 6),
            "params": {"min_cacheable_tokens": t.min_tokens, "ttl_s": args.ttl_s,
                       **{k: int(sums[k]) for k in _TOKEN_FIGURES}}}


def _terms_and_notes(catalog: PriceCatalog, trace: Trace) -> tuple[dict[str, Terms], list[str]]:
    """Return the terms of each cacheable model, and a note per model skipped."""
    reasons = {m: _skip_reason(catalog, m) for m in sorted(set(trace.model))}
    notes = [f"skipped {m}: {why}" for m, why in reasons.items() if why]
    return {m: terms(catalog, m) for m, why in reasons.items() if not why}, notes


def _figures(pairs: dict[Pair, dict[str, float]], findings: list[Finding]) -> dict[str, Any]:
    """Return token totals of the priced pairs and the flagged savings."""
    priced = [pairs[(f.feature, f.model)] for f in findings]
    flagged = [f for f in findings if f.flagged]
    values = {**{k: sum(s[k] for s in priced) for k in _TOKEN_FIGURES},
              "window_saving_usd": sum(f.window_saving_usd for f in flagged),
              "monthly_saving_usd": sum(f.monthly_saving_usd for f in flagged)}
    return {name: fig(values[name], *spec) for name, spec in _FIGURES.items()}


@apex_tool(TOOL, "Savings if provider prompt caching were used: per-model caches with the provider's "
                 "minimum cacheable prefix, TTL, cache-read price and write premium, per feature and model.",
           PromptCacheArgs, family="optimization")
def prompt_cache_savings_calculator(ctx: ToolContext, args: PromptCacheArgs) -> ToolResult:
    """Return one prompt-cache `Finding` per priced (feature, model), flagged or not."""
    queries = Queries(ctx.store)
    trace = load_trace(queries, args)
    if not trace.ts:
        return empty(TOOL, _FIGURES, queries)
    model_terms, notes = _terms_and_notes(ctx.catalog, trace)
    return _result(_Run(args, queries.span(args), model_terms), trace, queries, notes)


def _result(run: _Run, trace: Trace, queries: Queries, notes: list[str]) -> ToolResult:
    """Replay, price each pair whose model has terms, and assemble the result."""
    ttl_ms = math.inf if run.args.ttl_s is None else run.args.ttl_s * 1000
    pairs = Replay(trace, {m: t.min_tokens for m, t in run.terms.items()}, ttl_ms).run()
    findings = [_finding(run, pair, sums) for pair, sums in sorted(pairs.items()) if pair[1] in run.terms]
    return findings_result(TOOL, _figures(pairs, findings), findings, queries.evidence, notes)
