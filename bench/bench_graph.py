"""Benchmark: analysis time of the full graph per million events, against one scan of the events.

Loads the `mixed` scenario (default 1M events) into a chDB store (a temporary one, or
`--store DIR`, reused when it already holds N events), then:

- when it loaded the events itself: times the FIRST exact-savings call after the bulk load
  (`prompt_cache_savings_calculator`: it replays cold, reading `kv_prefix_seen` unmerged);
- times the FLOOR: one scan, `GROUP BY feature, model` with counts, cost and token sums,
  latency quantiles and the prefix blocks (as bench_cache.py);
- answers the default question once to load what a process loads once (lazy imports, the
  replay's compiled code), printed as the first analysis in the process;
- answers the default question with each strategy (tool result cache off): a COLD run (the
  shared loads of `_cache_replay.memo` emptied first: what one analysis of new data pays in a
  running process) and the best of `--repeat` WARM runs (the data unchanged since the last analysis).

Prints seconds (and the process CPU seconds of a cold run: other load on the machine inflates
wall times), seconds per 1M events and each as a multiple of the floor, and the targets
(cold analysis <= 8 x floor per 1M events; <= 5 s at 10M; first call <= 3 s at 10M).

    python bench/bench_graph.py [--events N] [--repeat R] [--store DIR] [--strategies parallel,...]
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

from netra.config import Settings  # noqa: E402
from netra.graph.deps import Deps  # noqa: E402
from netra.graph.hooks import Hooks  # noqa: E402
from netra.graph.runner import ask  # noqa: E402
from netra.persistence.analytics import open_store  # noqa: E402
from netra.tools import ToolDispatcher  # noqa: E402
from netra.tools._cache_replay.memo import forget  # noqa: E402
from netra.tools.base import ToolContext  # noqa: E402
from netra.workloads.catalog import load_catalog  # noqa: E402
from netra.workloads.synthetic import generate_and_load  # noqa: E402

QUESTION = "How can we cut our LLM spend by 30% without hurting quality?"
STRATEGIES = ("sequential", "parallel", "conditional")
FLOOR_SQL = """SELECT feature, model, count() AS requests, sum(cost_usd) AS cost, sum(input_tokens) AS tokens,
       quantiles(0.5, 0.95, 0.99)(latency_ms) AS latency, sum(length(prefix_hashes)) AS blocks
FROM workload_events GROUP BY feature, model"""
PER_MILLION_TARGET, TEN_MILLION_TARGET, FIRST_CALL_TARGET = 8.0, 5.0, 3.0


def seconds(fn: Callable[[], Any]) -> float:
    """Return the wall seconds of one call of `fn`."""
    return timed(fn)[0]


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """Return the wall and the process CPU seconds (chDB's threads included) of one call of `fn`."""
    started, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - started, time.process_time() - cpu


def timed_run(deps: Deps, strategy: str, cold: bool) -> tuple[float, float]:
    """Answer the question once (after emptying the shared loads when `cold`); return wall and CPU seconds."""
    if cold:
        forget(deps.store)
    state: dict[str, Any] = {}
    took = timed(lambda: state.update(ask(deps, QUESTION, strategy=strategy)))
    assert state["report"]["markdown"], "the run produced no report"
    return took


def first_call(deps: Deps) -> float:
    """Return the seconds of the first exact-savings call after the bulk load."""
    ctx = ToolContext(deps.store, deps.catalog, workspace_id=deps.workspace_id)
    return seconds(lambda: ToolDispatcher(ctx).run("prompt_cache_savings_calculator", {}))


def prepare(folder: Path, events: int) -> tuple[Deps, float | None]:
    """Load the workload unless the store holds it; return deps (no tool cache) and the first call's seconds."""
    store, catalog = open_store(f"chdb://{folder / 'analytics'}"), load_catalog()
    deps = Deps(store=store, catalog=catalog, settings=Settings(home=folder), hooks=Hooks())
    if store.count() == events:
        return deps, None
    store.truncate()
    print(f"loaded {events:,} events in {seconds(lambda: generate_and_load(store, catalog, 'mixed', events, 7)):.1f} s")
    return deps, first_call(deps)


@dataclass(frozen=True)
class Report:
    """Prints the analysis times of one store as multiples of its floor."""

    deps: Deps
    events: int
    repeat: int
    floor: float  # seconds

    @property
    def millions(self) -> float:
        """Return the events in millions."""
        return self.events / 1e6

    def strategy(self, strategy: str) -> None:
        """Print one strategy's cold and best warm analysis, and whether the targets are met."""
        cold, cpu = timed_run(self.deps, strategy, cold=True)
        warm = min((timed_run(self.deps, strategy, cold=False)[0] for _ in range(self.repeat)), default=float("nan"))
        print(f"{strategy:12s} cold {cold:7.2f} s (CPU {cpu:.2f} s)  {cold / self.millions:7.2f} s per 1M  "
              f"{cold / self.floor:7.1f} x floor   warm {warm:7.2f} s  {warm / self.floor:7.1f} x floor")
        print(f"  {strategy}: {targets(cold / self.floor, cold if self.events >= 10**7 else None)}")


def targets(floors: float, ten_million: float | None) -> str:
    """Say whether a cold analysis meets the floor target (and, at 10M events, the 10M target).

    The floor is timed on the same events, so the ratio is per 1M events at any size.
    """
    met = "met" if floors <= PER_MILLION_TARGET else "NOT met"
    at_10m = "" if ten_million is None else (f"; 10M: {ten_million:.2f} s "
                                             f"({'met' if ten_million <= TEN_MILLION_TARGET else 'NOT met'})")
    return f"{floors:.1f} x floor (target <= {PER_MILLION_TARGET:g} x per 1M events): {met}{at_10m}"


def baseline(deps: Deps, events: int) -> float:
    """Print the floor and the first analysis of the process (what a process loads once); return the floor."""
    floor = min(seconds(lambda: deps.store.rows(FLOOR_SQL)) for _ in range(5))
    print(f"floor (one scan) {floor * 1000:,.0f} ms; {events / 1e6:g}M events")
    once, cpu = timed_run(deps, STRATEGIES[0], cold=True)
    print(f"first analysis in this process (lazy imports, compiled replay code loaded): {once:.2f} s (CPU {cpu:.2f} s)")
    return floor


def report(deps: Deps, args: argparse.Namespace, first: float | None) -> None:
    """Print the floor, each strategy cold and warm, and the first call after the load."""
    floor = baseline(deps, args.events)
    for strategy in args.strategies.split(","):
        Report(deps, args.events, args.repeat, floor).strategy(strategy)
    print("first call after the bulk load: " + (f"{first:.2f} s (target <= {FIRST_CALL_TARGET:g} s at 10M)"
                                                if first is not None else "not measured (the store was reused)"))


def _parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="warm runs per strategy (best shown; 0: none)")
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help="comma-separated strategies to run")
    parser.add_argument("--store", default="", help="keep the store in this folder and reuse it")
    return parser


def main() -> None:
    """Print the figures."""
    args = _parser().parse_args()
    with (nullcontext(args.store) if args.store else tempfile.TemporaryDirectory()) as folder:
        deps, first = prepare(Path(folder), args.events)
        report(deps, args, first)


if __name__ == "__main__":
    main()
