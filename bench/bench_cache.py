"""Benchmark the exact prompt-cache replay against one scan of the events and the plain-Python reference.

Loads the `mixed` scenario (default 1M events) into a chDB store in this process (or reuses
`--store DIR` when it already holds N events), then times, best of `--repeat`:

- the FLOOR: one scan, `GROUP BY feature, model` with counts, cost and token sums, latency
  quantiles and the prefix blocks (what any per-event tool pays at least);
- the engine COLD (its per-store memo emptied first), `_cache_replay.replay_scope`, under '5m'
  and under '1h' (its queries, the replay order and the numpy pass: everything a caller gets
  back), and both choices from one load (what `prompt_cache_savings_calculator` does);
- the engine WARM: the same call again at the same data version (what every other tool of the
  analysis pays: the memo's version check);
- the plain-Python reference replay (`netra/evals/reference`) of the same events, once, and
  whether the two agree: every event's (eligible, c(r) x bs, R, W), and the window saving to
  the cent.

Prints wall and CPU milliseconds (CPU: this process, chDB's threads included; steadier on a
shared machine), each as a ratio to the floor's and to the reference's. Never asserts timings.

    python bench/bench_cache.py [--events N] [--repeat R] [--store DIR] [--skip-reference]
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

from bench._replay_agreement import ReferenceRun, engine_saving  # noqa: E402
from netra.persistence.analytics import AnalyticsStore, open_store  # noqa: E402
from netra.tenancy import LOCAL_WORKSPACE  # noqa: E402
from netra.tools._cache_replay import replay_scope, scoped_events  # noqa: E402
from netra.tools._cache_replay.memo import memo_of  # noqa: E402
from netra.tools.base import ToolContext  # noqa: E402
from netra.tools.scope import Scope  # noqa: E402
from netra.workloads.catalog import load_catalog  # noqa: E402
from netra.workloads.synthetic import generate_and_load  # noqa: E402

FLOOR_SQL = """SELECT feature, model, count() AS requests, sum(cost_usd) AS cost, sum(input_tokens) AS tokens,
       quantiles(0.5, 0.95, 0.99)(latency_ms) AS latency, sum(length(prefix_hashes)) AS blocks
FROM workload_events GROUP BY feature, model"""
TARGET = 3.0  # the engine's cold replay, as a multiple of the floor


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


def cold(ctx: ToolContext, *choices: str) -> Callable[[], Any]:
    """Return a call that empties the store's memo, loads the events once and replays each choice."""
    def run() -> Any:
        memo_of(ctx.store).clear()
        events = scoped_events(ctx, Scope())
        return [events.replay(choice) for choice in choices][0]
    return run


def summary(name: str, replay: Any) -> str:
    """Describe an engine replay in one line: events, eligible, read and written tokens."""
    return (f"{name}: {len(replay.eligible):,} events, {int(replay.eligible.sum()):,} eligible, "
            f"{int(replay.read_tokens.sum()):,} read, {int(replay.write_tokens.sum()):,} written")


def measure(ctx: ToolContext, repeat: int) -> list[tuple[str, Timing]]:
    """Time the floor, the engine cold under each choice and both, and warm."""
    cold(ctx, "5m")()  # warm-up: compacts `kv_prefix_seen` once, loads the catalog rows
    return [("floor (one scan)", timed(lambda: ctx.store.rows(FLOOR_SQL), repeat)),
            ("engine 5m, cold", timed(cold(ctx, "5m"), repeat)), ("engine 1h, cold", timed(cold(ctx, "1h"), repeat)),
            ("engine 5m + 1h, one load", timed(cold(ctx, "5m", "1h"), repeat)),
            ("engine 5m, warm (memo)", timed(lambda: replay_scope(ctx, Scope(), "5m"), repeat))]


def agreement(ctx: ToolContext, replay: Any) -> tuple[Timing, str]:
    """Run the reference under '5m'; return its timing and whether it agrees with the engine."""
    ref = ReferenceRun.of(ctx, "5m")
    differing, engine = ref.differing(replay), engine_saving(ctx, "5m")
    same = differing == 0 and abs(engine - ref.saving) <= 0.005
    return Timing(ref.wall, ref.cpu, None), (f"reference vs engine (5m): {differing} events differ; window saving "
                                             f"{ref.saving:,.4f} vs {engine:,.4f} USD: "
                                             f"{'agree to the cent' if same else 'DISAGREE'}")


def table(rows: list[tuple[str, Timing]], ref: Timing | None) -> None:
    """Print each timing (wall and CPU, ms) and its ratios to the floor's and to the reference's (CPU)."""
    floor = rows[0][1]
    print(f"{'':30s} {'wall ms':>9s} {'x floor':>8s} {'CPU ms':>9s} {'x floor':>8s} {'x ref':>7s}")
    for name, t in rows:
        vs_ref = f"{t.cpu / ref.cpu:>7.3f}" if ref else f"{'-':>7s}"
        print(f"{name:30s} {t.wall:>9,.0f} {t.wall / floor.wall:>8.1f} {t.cpu:>9,.0f} {t.cpu / floor.cpu:>8.1f}"
              f" {vs_ref}")


def verdict(floor: Timing, engine: Timing) -> str:
    """Say whether the cold replay meets the target, in wall and in CPU time."""
    ratios = (engine.wall / floor.wall, engine.cpu / floor.cpu)
    met = "met" if max(ratios) <= TARGET else "NOT met"
    return f"target: cold replay <= {TARGET:.0f} x floor: {met} (wall {ratios[0]:.1f} x, CPU {ratios[1]:.1f} x)"


def run(ctx: ToolContext, repeat: int, skip_reference: bool) -> None:
    """Print the timings, the target's verdict, what the engine replayed and its agreement with the reference."""
    rows = measure(ctx, repeat)
    check = None if skip_reference else agreement(ctx, rows[1][1].result)
    rows += [("reference replay 5m (Python)", check[0])] if check else []
    table(rows, check[0] if check else None)
    print(verdict(rows[0][1], rows[1][1]))
    print(summary("engine 5m", rows[1][1].result), summary("engine 1h", rows[2][1].result), sep="\n")
    print(check[1] if check else "reference skipped")


def _parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="mixed events to generate")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of the floor and the engine (best shown)")
    parser.add_argument("--store", default="", help="keep the store in this folder and reuse it")
    parser.add_argument("--skip-reference", action="store_true", help="do not run the Python reference replay")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Load the workload (or reuse `--store`), then run the benchmark."""
    args = _parser().parse_args(argv)
    with (nullcontext(args.store) if args.store else tempfile.TemporaryDirectory()) as path:
        store = load(Path(path), args.events, args.seed)
        ctx = ToolContext(store=store, catalog=load_catalog(), workspace_id=LOCAL_WORKSPACE)
        run(ctx, args.repeat, args.skip_reference)
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
