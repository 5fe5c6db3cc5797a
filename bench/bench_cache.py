"""Benchmark the exact prompt-cache replay against one scan of the events and the old Python replay.

Loads the `mixed` scenario (default 1M events) into a chDB store in this process (or reuses
`--store DIR` when it already holds N events), then times, best of `--repeat`:

- the FLOOR: one scan, `GROUP BY feature, model` with counts, cost and token sums, latency
  quantiles and the prefix blocks (what any per-event tool pays at least);
- the engine, `_cache_replay.replay_scope`, under '5m' and under '1h' (its queries, the
  replay order and the numpy pass: everything a caller gets back);
- the OLD replay `prompt_cache_savings_calculator` ran before the engine (its trace query and
  its per-block Python loop, copied below as `OldReplay`), once: it takes tens of seconds.

Prints wall and CPU milliseconds (CPU: this process, chDB's threads included; steadier on a
shared machine) and each as a ratio to the floor's. Never asserts timings.

    python bench/bench_cache.py [--events N] [--repeat R] [--store DIR] [--skip-old]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from netra.persistence.analytics import AnalyticsStore, open_store  # noqa: E402
from netra.tenancy import LOCAL_WORKSPACE  # noqa: E402
from netra.tools._cache_replay import replay_scope  # noqa: E402
from netra.tools.cache_policy import _TRACE_COLUMNS, TRACE_SQL, Trace  # noqa: E402
from netra.tools.base import ToolContext  # noqa: E402
from netra.tools.scope import Scope  # noqa: E402
from netra.workloads.catalog import PriceCatalog, load_catalog  # noqa: E402
from netra.workloads.synthetic import generate_and_load  # noqa: E402

FLOOR_SQL = """SELECT feature, model, count() AS requests, sum(cost_usd) AS cost, sum(input_tokens) AS tokens,
       quantiles(0.5, 0.95, 0.99)(latency_ms) AS latency, sum(length(prefix_hashes)) AS blocks
FROM workload_events GROUP BY feature, model"""

# ---- the old replay (prompt_cache.Replay before the engine), kept as the baseline ----

# the old replay read the trace `cache_policy_optimizer` still reads (`cache_policy.Trace`)
# the old minimum cacheable prefix table: (fragments of the catalog key, tokens), first match wins
OLD_MIN_PREFIX = ((("claude", "haiku"), 2048), (("claude",), 1024), (("deepseek",), 64), ((), 1024))
_OLD_SUMS = ("requests", "cost", "cached_tokens", "cacheable_requests", "cacheable_hit_tokens",
             "uncached_cacheable_tokens", "below_minimum_tokens", "written_tokens")


def old_trace(store: AnalyticsStore) -> Trace:
    """Pull the events as the old calculator did (`cache_policy`'s trace query, then Python lists)."""
    sql = TRACE_SQL.replace("{where}", "WHERE workspace_id = {workspace_id:String}")
    table = store.arrow(sql, {"workspace_id": LOCAL_WORKSPACE})
    return Trace(**{name: table.column(alias).to_pylist() for name, alias in _TRACE_COLUMNS.items()})


def old_minimum(catalog: PriceCatalog, model: str) -> int:
    """Return the old minimum cacheable prefix of a model."""
    key = (catalog.resolve(model) or model).lower()
    return next(n for parts, n in OLD_MIN_PREFIX if all(p in key for p in parts))


def leading(blocks: list[int], present: Callable[[int], bool]) -> int:
    """Return how many leading blocks are `present` (counting stops at the first that is not)."""
    n = 0
    for h in blocks:
        if not present(h):
            return n
        n += 1
    return n


class OldReplay:
    """The old `prompt_cache.Replay`: per-model caches of blocks, one Python step per block."""

    def __init__(self, trace: Trace, minimums: dict[str, int], ttl_ms: float) -> None:
        self.trace, self.minimums, self.ttl_ms = trace, minimums, ttl_ms
        self.caches: dict[str, dict[int, list[int]]] = {}  # model -> block -> [created, last use, origin]
        self.sums: dict[tuple[str, str], dict[str, float]] = {}

    def run(self) -> dict[tuple[str, str], dict[str, float]]:
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
        return self.sums.setdefault((self.trace.feature[i], self.trace.model[i]), dict.fromkeys(_OLD_SUMS, 0))

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


def old_replay(ctx: ToolContext) -> dict[tuple[str, str], dict[str, float]]:
    """Run the old calculator's trace query and Python replay with its default 5-minute TTL."""
    trace = old_trace(ctx.store)
    minimums = {m: old_minimum(ctx.catalog, m) for m in set(trace.model)}
    return OldReplay(trace, minimums, 300_000).run()


# ---- timing ----

@dataclass(frozen=True)
class Timing:
    """The fastest wall and CPU time of some runs (CPU: this process, chDB's threads included), ms."""

    wall: float
    cpu: float
    result: Any


def timed(fn: Callable[[], Any], repeat: int) -> Timing:
    """Run `fn` `repeat` times; return the fastest wall and CPU times and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(max(repeat, 1)):
        start, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append((time.perf_counter() - start) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return Timing(min(walls), min(cpus), result)


def load(folder: Path, events: int, seed: int) -> AnalyticsStore:
    """Open the store in `folder`; load `events` mixed events unless it already holds them."""
    store = open_store(f"chdb://{folder / 'analytics'}")
    if store.count() != events:
        store.truncate()
        took = timed(lambda: generate_and_load(store, load_catalog(), "mixed", events, seed, 14.0), 1)
        print(f"loaded {events:,} mixed events in {took.wall / 1000:.1f} s")
    return store


def engine(ctx: ToolContext, choice: str) -> Callable[[], Any]:
    """Return a call of the engine's replay of the whole store under `choice`."""
    return lambda: replay_scope(ctx, Scope(), choice)


def summary(name: str, replay: Any) -> str:
    """Describe an engine replay in one line: events, eligible, read and written tokens."""
    return (f"{name}: {len(replay.request_id):,} events, {int(replay.eligible.sum()):,} eligible, "
            f"{int(replay.read_tokens.sum()):,} read, {int(replay.write_tokens.sum()):,} written")


def measure(ctx: ToolContext, repeat: int, skip_old: bool) -> list[tuple[str, Timing]]:
    """Time the floor, the engine under both choices and (unless skipped) the old replay."""
    engine(ctx, "5m")()  # warm-up: compacts `kv_prefix_seen` once, loads the catalog rows
    rows = [("floor (one scan)", timed(lambda: ctx.store.rows(FLOOR_SQL), repeat)),
            ("engine 5m", timed(engine(ctx, "5m"), repeat)), ("engine 1h", timed(engine(ctx, "1h"), repeat))]
    return rows + ([] if skip_old else [("old Python replay (5 min)", timed(lambda: old_replay(ctx), 1))])


def run(ctx: ToolContext, repeat: int, skip_old: bool) -> None:
    """Print each timing (wall and CPU, ms) and its ratio to the floor's, then what the engine replayed."""
    rows = measure(ctx, repeat, skip_old)
    floor = rows[0][1]
    print(f"{'':28s} {'wall ms':>10s} {'x floor':>8s} {'CPU ms':>10s} {'x floor':>8s}")
    for name, t in rows:
        print(f"{name:28s} {t.wall:>10,.0f} {t.wall / floor.wall:>8.1f} {t.cpu:>10,.0f} {t.cpu / floor.cpu:>8.1f}")
    print(summary("engine 5m", rows[1][1].result), summary("engine 1h", rows[2][1].result), sep="\n")


def _parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="mixed events to generate")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of the floor and the engine (best shown)")
    parser.add_argument("--store", default="", help="keep the store in this folder and reuse it")
    parser.add_argument("--skip-old", action="store_true", help="do not run the old Python replay")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Load the workload (or reuse `--store`), then run the benchmark."""
    args = _parser().parse_args(argv)
    with (nullcontext(args.store) if args.store else tempfile.TemporaryDirectory()) as path:
        store = load(Path(path), args.events, args.seed)
        run(ToolContext(store=store, catalog=load_catalog(), workspace_id=LOCAL_WORKSPACE), args.repeat, args.skip_old)
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
