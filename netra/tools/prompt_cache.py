"""Prompt cache savings calculator: what provider prompt caching would save, per feature, provider and model.

The scoped events are replayed exactly as docs/caching.md says (`_cache_replay`), once per TTL
option: one cache per (provider, model) as logged, c(r), the provider's minimum, hits within
the TTL from strictly earlier requests, a write on every miss. Each eligible event is then
priced twice by the one pricing function (`pricing.price_events`): with its logged token
classes and with the replay's reads and writes in their place. Per (feature, provider, model):

    saving of an option = sum over its events (cost as logged - cost under the option)

The options are no caching (saving 0) and each TTL option of the provider (Anthropic: 5 min,
1 h; OpenAI: its automatic retention, replayed as 5 min). The cheapest wins; its `ttl_s` and
`ttl_option` (the replay choice, '5m' or '1h') are in the finding's `params`, with the window
and monthly saving of every option (monthly = window x 30 / days the scope spans). A pair is
flagged when its best option saves at least `min_monthly_saving_usd` a month; a pair where
caching costs more is reported unflagged, saying by how much. Cache keys without a rule (no
row in `workloads.caching`, unknown model, no caching in the catalog) are not replayed: the
notes name them and they get no finding. Confidence is the house rule (`evidence.confidence`): the
stability of the best option's saving over the pair's UTC days with eligible requests, times an
evidence factor of 1 (every eligible request is re-priced from its own prefix hashes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from pydantic import Field

from netra.tools._cache_replay import PRICING_EXTRA, CacheReplay, ScopedEvents, scoped_events
from netra.tools._cache_replay.arrays import compact
from netra.tools._event_frame import MS_PER_DAY
from netra.tools._sql import Queries, empty
from netra.tools.base import ToolContext, ToolResult
from netra.tools.evidence import confidence
from netra.tools.findings import Finding, findings_result
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, fig, monthly
from netra.workloads.caching import CHOICES, CacheRules, Choice
from netra.workloads.catalog import TIERS, PriceCatalog
from netra.workloads.pricing import TOKEN_COLUMNS, price_classes, token_classes

TOOL = "prompt_cache_savings_calculator"
_LATENCY = "lower TTFT on cached prefixes"
OUTCOMES = "prompt_cache_outcomes"  # `Calculation.outcome` of every choice, kept with the scoped events

# every scoped request and its cost as logged, per pair (events without prefix hashes included)
PAIRS_SQL = """SELECT feature, provider, model, count() AS requests, sum(cost_usd) AS logged_cost
FROM workload_events {where}
GROUP BY feature, provider, model"""

# a prompt's long-context tier: the largest of `TIERS` it exceeds, 0 for none (`pricing.PRICE_KEY_SQL`)
_TIER_EDGES = np.array(TIERS, dtype=np.int64)
_TIER_VALUES = np.array((0, *TIERS), dtype=np.int64)
# the replay's per-event token counts summed per pair (`CacheReplay.<name>_tokens`)
_REPLAY_SUMS = ("read", "write", "cacheable")
EXACT = 1.0  # the evidence factor of an exact replay: every eligible request re-priced from its own hashes

_FIGURES = {
    "cacheable_tokens": ("tokens", "cacheable tokens (c(r) blocks, at most the input) of the replayed pairs' "
                                   "eligible requests"),
    "read_tokens": ("tokens", "tokens the flagged pairs would read from the cache (their chosen option)"),
    "write_tokens": ("tokens", "tokens the flagged pairs would write to the cache (their chosen option)"),
    "window_saving_usd": ("USD", "window saving of the flagged pairs"),
    "monthly_saving_usd": ("USD/month", "monthly saving of the flagged pairs"),
}


class PromptCacheArgs(Scope):
    """Scope plus the flagging threshold."""

    min_monthly_saving_usd: float = Field(1.0, ge=0, description="flag at or above this monthly saving")


@dataclass(frozen=True)
class Option:
    """One TTL option of one pair, replayed and priced."""

    name: str  # the provider's name of the option: '5m', '1h' or 'auto'
    choice: Choice  # the replay choice that gives it
    ttl_s: int
    window: float  # saving over the window, USD (negative: caching costs more)
    month: float
    read: int
    write: int

    def params(self) -> dict[str, Any]:
        """Return the option as an entry of the finding's `params.options`."""
        return {"ttl_s": self.ttl_s, "window_saving_usd": round(self.window, 9),
                "monthly_saving_usd": round(self.month, 9), "read_tokens": self.read, "write_tokens": self.write}


NO_CACHING = {"ttl_s": None, "window_saving_usd": 0.0, "monthly_saving_usd": 0.0, "read_tokens": 0, "write_tokens": 0}

ReasonTest = Callable[[Option, int, bool], bool]
# (test on (best option, eligible requests, flagged), reason): the first passing row gives the reason
_REASONS: tuple[tuple[ReasonTest, str], ...] = (
    (lambda best, eligible, flagged: flagged,
     "caching with the {option} option saves ${month:.2f}/month: {read} tokens read from the cache, {write} written"),
    (lambda best, eligible, flagged: eligible == 0,
     "no request shares a prefix of at least {minimum} tokens with another request"),
    (lambda best, eligible, flagged: best.window < 0,
     "caching would cost ${extra:.2f}/month more than as logged (cheapest option: {option})"),
    (lambda best, eligible, flagged: best.window == 0, "caching would not change the cost"),
    (lambda best, eligible, flagged: True,
     "caching with the {option} option would save ${month:.2f}/month, under the threshold"),
)


def replayed_columns(logged: dict[str, np.ndarray], replay: CacheReplay, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Return the token columns of `rows` (`logged`, already taken at them) with the replay's reads and writes.

    A write billed as input (OpenAI) stays in `input`; a 1-hour write is also a `cache_write_1h` token.
    """
    write = replay.write_tokens[rows]
    return {**logged, "cached_input_tokens": replay.read_tokens[rows],
            "cache_write_tokens": np.where(replay.writes_as("input", rows), 0, write),
            "cache_write_1h_tokens": np.where(replay.writes_as("cache_write_1h", rows), write, 0)}


class Pairs:
    """The (feature, provider, model) pairs of the scoped events with prefix hashes."""

    def __init__(self, events: ScopedEvents) -> None:
        feature, keys = events.labels["feature"], events.keys
        width = max(len(keys.names), 1)
        self.of_event, codes = compact(feature.codes * width + keys.of_event, len(feature.values) * width)
        self.key = codes % width
        self.names = [(str(feature.values[c // width]), *map(str, keys.names[c % width])) for c in codes]

    def total(self, values: np.ndarray, pair: np.ndarray) -> np.ndarray:
        """Sum `values` per pair, given the pair of each value."""
        return np.bincount(pair, weights=values, minlength=len(self.names))


def _key_parts(events: ScopedEvents, pairs: Pairs, rows: np.ndarray) -> tuple[tuple[np.ndarray, ...], tuple[int, ...]]:
    """Return the pricing key of the events at `rows` as integer parts and the range of each part.

    The parts: pair, batch (0 or 1), service tier code, long-context tier index, UTC day (from the first).
    """
    service, day = events.labels["service_tier"], events.columns["ts_ms"][rows] // MS_PER_DAY
    tier = np.searchsorted(_TIER_EDGES, events.columns["input_tokens"][rows].astype(np.int64), side="left")
    day = day - day.min(initial=0)
    batch = (events.columns["is_batch"][rows] > 0).astype(np.int64)
    parts = (pairs.of_event[rows], batch, service.codes[rows], tier, day)
    return parts, (len(pairs.names), 2, max(len(service.values), 1), len(_TIER_VALUES), int(day.max(initial=0)) + 1)


class PairPricer:
    """Prices the eligible events of every pair with the one pricing function, summed per pricing key and day.

    Within a pricing key (model, `is_batch`, `service_tier`, long-context tier; an eligible event
    is always billed) an event's cost is linear in its token classes, so `price_classes` over the
    key's summed classes is the sum of what `price_events` gives its events (as `_sql.GroupCosts`).
    """

    def __init__(self, catalog: PriceCatalog, events: ScopedEvents, pairs: Pairs, rows: np.ndarray) -> None:
        self.catalog, self.pairs = catalog, pairs
        parts, dims = _key_parts(events, pairs, rows)
        self.key, codes = compact(np.ravel_multi_index(parts, dims), int(np.prod(dims)))
        self.pair, batch, service, tier, self.day = np.unravel_index(codes, dims)
        models = np.array([name[2] for name in pairs.names], dtype=object)
        self.keys = {"model": models[self.pair], "is_batch": batch, "billed": np.ones(len(codes), bool),
                     "service_tier": events.labels["service_tier"].values[service], "context_tier": _TIER_VALUES[tier]}

    def cost(self, tokens: dict[str, np.ndarray]) -> np.ndarray:
        """Return each key's cost (USD) of the priced events, given their token columns."""
        classes = token_classes(tokens)
        sums = {name: np.bincount(self.key, weights=n, minlength=len(self.pair)) for name, n in classes.items()}
        return price_classes(self.catalog, self.keys, sums).cost

    @property
    def days(self) -> int:
        """Return how many UTC days the priced events span (from the first)."""
        return int(self.day.max(initial=0)) + 1

    def by_day(self, values: np.ndarray) -> np.ndarray:
        """Sum per-key `values` per pair and day: one row per pair, one column per day."""
        pairs, days = len(self.pairs.names), self.days
        return np.bincount(self.pair * days + self.day, weights=values, minlength=pairs * days).reshape(pairs, days)


class Calculation:
    """One run of the calculator: the scoped events, their pairs and what each option saves."""

    def __init__(self, ctx: ToolContext, args: PromptCacheArgs, events: ScopedEvents, queries: Queries) -> None:
        self.ctx, self.args, self.events, self.pairs = ctx, args, events, Pairs(events)
        pairs = queries.rows(PAIRS_SQL, args, kind="prompt_cache_pairs")
        self.logged = {(r["feature"], r["provider"], r["model"]): r for r in pairs}
        self.days = queries.span(args)
        self.outcomes = events.kept(OUTCOMES, lambda: {c: self.outcome(events.replay(c)) for c in CHOICES})

    def outcome(self, replay: CacheReplay) -> dict[str, np.ndarray]:
        """Return, per pair, the window saving (and per day: `daily`, with the days it has eligible requests:
        `active`), reads, writes, eligible requests and cacheable tokens of a replay."""
        rows = np.flatnonzero(replay.eligible)
        pricer, pair = PairPricer(self.ctx.catalog, self.events, self.pairs, rows), self.pairs.of_event[rows]
        logged = {name: self.events.columns[name][rows] for name in TOKEN_COLUMNS}
        sums = {name: self.pairs.total(getattr(replay, f"{name}_tokens")[rows], pair) for name in _REPLAY_SUMS}
        daily = pricer.by_day(pricer.cost(logged) - pricer.cost(replayed_columns(logged, replay, rows)))
        return {"window": daily.sum(axis=1), "daily": daily, "active": pricer.by_day(np.ones(len(pricer.pair))) > 0,
                "eligible": self.pairs.total(np.ones(len(rows)), pair), **sums}

    def rules(self, pair: int) -> CacheRules | None:
        """Return the caching rules of a pair's cache key (None: not replayed)."""
        return self.events.keys.lookups[self.pairs.key[pair]].rules

    def options(self, pair: int, rules: CacheRules) -> list[Option]:
        """Return the pair's TTL options, each from the first choice that gives it."""
        choices: dict[str, Choice] = {}
        for choice in CHOICES:
            choices.setdefault(rules.option(choice).name, choice)
        return [self.option(pair, rules, name, choice) for name, choice in choices.items()]

    def option(self, pair: int, rules: CacheRules, name: str, choice: Choice) -> Option:
        """Return one option of a pair from its replay's sums."""
        sums = {k: v[pair] for k, v in self.outcomes[choice].items()}
        return Option(name, choice, rules.option(choice).ttl_s, float(sums["window"]),
                      monthly(float(sums["window"]), self.days), int(sums["read"]), int(sums["write"]))

    def finding(self, pair: int) -> Finding:
        """Pick the pair's cheapest option and decide whether to flag it."""
        rules = self.rules(pair)
        options = self.options(pair, rules)
        best = max(options, key=lambda option: option.window)
        flagged = best.window > 0 and best.month >= self.args.min_monthly_saving_usd
        return Finding(kind="prompt_cache", feature=self.pairs.names[pair][0], model=self.pairs.names[pair][2],
                       flagged=flagged, **self.fields(pair, rules, best, flagged),
                       params=self.params(pair, rules, best, options))

    def fields(self, pair: int, rules: CacheRules, best: Option, flagged: bool) -> dict[str, Any]:
        """Return the finding's counts, logged cost, saving (0 when no caching wins), confidence and reason."""
        logged = self.logged.get(self.pairs.names[pair], {"requests": 0, "logged_cost": 0.0})
        eligible = int(self.outcomes[best.choice]["eligible"][pair])
        return {"requests": int(logged["requests"]), "affected_requests": eligible,
                "window_cost_usd": round(float(logged["logged_cost"]), 9), "latency_impact": _LATENCY,
                "window_saving_usd": max(best.window, 0.0), "monthly_saving_usd": max(best.month, 0.0),
                "confidence": self.confidence(pair, best), "quality_risk": "low",
                "reason": reason(best, eligible, flagged, rules.minimum_tokens)}

    def confidence(self, pair: int, best: Option) -> float:
        """Return the house confidence of the best option: its saving's stability over the pair's days with eligible
        requests (0 when it saves nothing), times the exact replay's evidence factor."""
        outcome = self.outcomes[best.choice]
        return confidence(outcome["daily"][pair][outcome["active"][pair]], EXACT) if best.window > 0 else 0.0

    def params(self, pair: int, rules: CacheRules, best: Option, options: list[Option]) -> dict[str, Any]:
        """Return the finding's params: the chosen option and every option's saving."""
        return {"provider": self.pairs.names[pair][1], "ttl_option": best.choice, "ttl_s": best.ttl_s,
                "retention": best.name, "min_cacheable_tokens": rules.minimum_tokens,
                "cacheable_tokens": int(self.outcomes[best.choice]["cacheable"][pair]),
                "read_tokens": best.read, "write_tokens": best.write,
                "options": {"none": NO_CACHING, **{option.name: option.params() for option in options}}}

    def findings(self) -> list[Finding]:
        """Return one finding per pair of a replayed cache key, sorted by (feature, provider, model)."""
        replayed = [pair for pair in range(len(self.pairs.names)) if self.rules(pair) is not None]
        return [self.finding(pair) for pair in sorted(replayed, key=lambda pair: self.pairs.names[pair])]


def reason(best: Option, eligible: int, flagged: bool, minimum: int) -> str:
    """Say why a pair was or was not flagged (the first matching row of `_REASONS`)."""
    text = next(template for test, template in _REASONS if test(best, eligible, flagged))
    return text.format(option=best.name, month=best.month, extra=-best.month, read=best.read,
                       write=best.write, minimum=minimum)


def _figures(findings: list[Finding]) -> dict[str, Any]:
    """Return the cacheable tokens of the replayed pairs and the flagged pairs' reads, writes and savings."""
    flagged = [f for f in findings if f.flagged]
    values = {"cacheable_tokens": sum(f.params["cacheable_tokens"] for f in findings),
              **{k: sum(f.params[k] for f in flagged) for k in ("read_tokens", "write_tokens")},
              **{k: sum(getattr(f, k) for f in flagged) for k in ("window_saving_usd", "monthly_saving_usd")}}
    return {name: fig(values[name], *spec) for name, spec in _FIGURES.items()}


@apex_tool(TOOL, "Savings if provider prompt caching were used: the exact replay of docs/caching.md per "
                 "(provider, model) cache, each TTL option priced, the cheapest recommended per feature and model.",
           PromptCacheArgs, family="optimization")
def prompt_cache_savings_calculator(ctx: ToolContext, args: PromptCacheArgs) -> ToolResult:
    """Return one prompt-cache `Finding` per (feature, model) of a replayed cache key, flagged or not."""
    queries = Queries(ctx.store)
    events = scoped_events(ctx, args, queries, PRICING_EXTRA)
    if not events.n:
        return empty(TOOL, _FIGURES, queries)
    findings = Calculation(ctx, args, events, queries).findings()
    return findings_result(TOOL, _figures(findings), findings, queries.evidence, events.notes())
