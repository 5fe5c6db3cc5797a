"""Benchmark `cache_policy_optimizer` (unbounded, LRU and TTL replays) against one scan of the events.

Loads the `mixed` scenario (default 1M events) into a chDB store in this process (or reuses
`--store DIR` when it already holds N events), then times, best of `--repeat`:

- the FLOOR: one scan, `GROUP BY feature, model` with counts, cost and token sums, latency
  quantiles and the prefix blocks (what any per-event tool pays at least);
- the tool COLD, through the dispatcher with no result cache and its per-store memo emptied
  first: its query, the replay order, the segments of re-used blocks, the LRU ranks (one
  compiled pass) and every capacity's and TTL's curve;
- the tool WARM: the same call again at the same data version (the memo's version check and
  the curves);
- the plain-Python reference replays (`tests/support/lru_reference.py`) of the same requests,
  once, and whether every figure and row of the tool equals the reference's.

The JIT of the compiled pass is timed apart, before anything else: its first call in a
process compiles it, or loads the machine code `cache=True` kept from an earlier run.

Prints wall and CPU milliseconds (CPU: this process, chDB's threads included; steadier on a
shared machine), each as a ratio to the floor's. Never asserts timings.

    python bench/bench_lru.py [--events N] [--repeat R] [--store DIR] [--skip-reference] [--merge-prefixes]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_cache import FLOOR_SQL, Timing, load, timed  # noqa: E402
from netra.persistence.analytics import AnalyticsStore  # noqa: E402
from netra.tenancy import LOCAL_WORKSPACE  # noqa: E402
from netra.tools import ToolDispatcher  # noqa: E402
from netra.tools._cache_replay.memo import forget  # noqa: E402
from netra.tools._cache_replay.ranks import later_weights  # noqa: E402
from netra.tools._sql import PREFIX_PARTS_SQL, Queries  # noqa: E402
from netra.tools.base import ToolContext, ToolResult  # noqa: E402
from netra.tools.cache_policy import TOOL, load_trace, result  # noqa: E402
from netra.tools.scope import Scope, in_workspace  # noqa: E402
from netra.workloads.catalog import load_catalog  # noqa: E402
from tests.support.lru_reference import reference_curves  # noqa: E402

TARGET = 5.0  # the tool cold, as a multiple of the floor
ARGS = {"capacities": [1, 100, 1_000, 10_000, 100_000, 1_000_000], "ttls_s": [60, 300, 3600]}
MERGE_SQL = "OPTIMIZE TABLE kv_prefix_seen FINAL"


def jit() -> Timing:
    """Time the compiled pass's first call on a tiny input: its compile, or its load from the cache."""
    one = np.zeros(1, np.int64)
    return timed(lambda: later_weights(one, one, one, 1), 1)


def tool(ctx: ToolContext, cold: bool) -> ToolResult:
    """Run the tool through a dispatcher without result cache; empty the store's memos first when `cold`."""
    if cold:
        forget(ctx.store)
    return ToolDispatcher(ctx).run(TOOL, ARGS)


def measure(ctx: ToolContext, repeat: int) -> list[tuple[str, Timing]]:
    """Time the floor, the tool cold and the tool warm."""
    tool(ctx, cold=True)  # warm-up: the catalog rows, the numba machine code, chDB's caches
    return [("floor (one scan)", timed(lambda: ctx.store.rows(FLOOR_SQL), repeat)),
            ("cache_policy_optimizer, cold", timed(lambda: tool(ctx, cold=True), repeat)),
            ("cache_policy_optimizer, warm (memo)", timed(lambda: tool(ctx, cold=False), repeat))]


def reference(ctx: ToolContext, engine: ToolResult) -> tuple[Timing, str]:
    """Replay the requests with the Python reference; return its timing and whether the tool agrees."""
    with in_workspace(ctx.workspace_id):
        trace = load_trace(Queries(ctx.store), Scope())
    took = timed(lambda: reference_curves(trace, ARGS["capacities"], ARGS["ttls_s"]), 1)
    expected = result(took.result, Queries(ctx.store))
    same = (expected.rows, expected.figures, expected.notes) == (engine.rows, engine.figures, engine.notes)
    return took, (f"reference vs tool: {len(expected.rows)} rows, {len(expected.figures)} figures, notes: "
                  f"{'identical' if same else 'DIFFERENT'}")


def table(rows: list[tuple[str, Timing]]) -> None:
    """Print each timing (wall and CPU, ms) and its ratio to the floor's."""
    floor = rows[0][1]
    print(f"{'':38s} {'wall ms':>9s} {'x floor':>8s} {'CPU ms':>9s} {'x floor':>8s}")
    for name, t in rows:
        print(f"{name:38s} {t.wall:>9,.0f} {t.wall / floor.wall:>8.1f} {t.cpu:>9,.0f} {t.cpu / floor.cpu:>8.1f}")


def verdict(floor: Timing, cold: Timing) -> str:
    """Say whether the cold tool meets the target, in wall and in CPU time."""
    ratios = (cold.wall / floor.wall, cold.cpu / floor.cpu)
    met = "met" if max(ratios) <= TARGET else "NOT met"
    return f"target: tool cold <= {TARGET:.0f} x floor: {met} (wall {ratios[0]:.1f} x, CPU {ratios[1]:.1f} x)"


def curve(answer: ToolResult) -> str:
    """Describe the tool's answer: its queries (2: the runs were read again), figures, each row's hit blocks."""
    figures = ", ".join(f"{k} {f.value:,.4g}" for k, f in answer.figures.items())
    rows = ", ".join(f"{r['table']} {r.get('capacity_blocks', r.get('ttl_s', ''))}: {r['hit_blocks']:,}"
                     for r in answer.rows)
    return f"events queries: {len(answer.evidence)}\n{figures}\n{rows}"


def header(ctx: ToolContext) -> None:
    """Print the JIT time of the compiled pass and the state of `kv_prefix_seen` (merged or not)."""
    compiled = jit()
    how = "loaded from its cache" if later_weights.stats.cache_hits else "compiled"
    state = ctx.store.rows(PREFIX_PARTS_SQL)[0]
    print(f"JIT of the compiled pass: {compiled.wall:,.0f} ms ({how})")
    print(f"kv_prefix_seen: {state['parts']} parts, {state['total']:,} rows, largest part {state['largest']:,}")


def run(ctx: ToolContext, repeat: int, skip_reference: bool) -> None:
    """Print the timings, the verdict, the answer and its agreement with the reference."""
    rows = measure(ctx, repeat)
    check = None if skip_reference else reference(ctx, rows[1][1].result)
    table(rows + ([("reference replays (Python)", check[0])] if check else []))
    print(verdict(rows[0][1], rows[1][1]), curve(rows[1][1].result), sep="\n")
    print(check[1] if check else "reference skipped")


OPTIONS = (
    ("--events", {"type": int, "default": 1_000_000, "help": "mixed events to generate"}),
    ("--seed", {"type": int, "default": 7, "help": "random seed"}),
    ("--repeat", {"type": int, "default": 5, "help": "timed runs of the floor and the tool (best shown)"}),
    ("--store", {"default": "", "help": "keep the store in this folder and reuse it"}),
    ("--skip-reference", {"action": "store_true", "help": "do not run the Python reference replays"}),
    ("--merge-prefixes", {"action": "store_true",
                          "help": "merge kv_prefix_seen's parts first, as a running server's background merges do"}),
)


def _parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag, options in OPTIONS:
        parser.add_argument(flag, **options)
    return parser


def context(store: AnalyticsStore, merge_prefixes: bool) -> ToolContext:
    """Return the benchmark's tool context; merge `kv_prefix_seen` first when asked; print the header."""
    if merge_prefixes:
        store.client.command(MERGE_SQL)
    ctx = ToolContext(store=store, catalog=load_catalog(), workspace_id=LOCAL_WORKSPACE)
    header(ctx)
    return ctx


def main(argv: list[str] | None = None) -> int:
    """Load the workload (or reuse `--store`), then run the benchmark."""
    args = _parser().parse_args(argv)
    with (nullcontext(args.store) if args.store else tempfile.TemporaryDirectory()) as path:
        store = load(Path(path), args.events, args.seed)
        run(context(store, args.merge_prefixes), args.repeat, args.skip_reference)
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
