"""Benchmark: analysis time of the full graph per million events.

Loads the `mixed` scenario (default 1M events) into a temporary chDB store, then answers
the default question with each strategy (tool cache off), printing seconds, seconds per
million events, and each strategy's time as a ratio of the sequential baseline run in
this same process.

    python bench/bench_graph.py [--events N] [--repeat R]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from netra.config import Settings
from netra.graph.deps import Deps
from netra.graph.hooks import Hooks
from netra.graph.runner import ask
from netra.persistence.analytics import open_store
from netra.workloads.catalog import load_catalog
from netra.workloads.synthetic import generate_and_load

QUESTION = "How can we cut our LLM spend by 30% without hurting quality?"
STRATEGIES = ("sequential", "parallel", "conditional")


def timed_run(deps: Deps, strategy: str) -> float:
    """Answer the question once; return wall seconds."""
    started = time.perf_counter()
    state = ask(deps, QUESTION, strategy=strategy)
    assert state["report"]["markdown"], "the run produced no report"
    return time.perf_counter() - started


def best_of(deps: Deps, strategy: str, repeat: int) -> float:
    """Return the fastest of `repeat` runs."""
    return min(timed_run(deps, strategy) for _ in range(repeat))


def prepare(folder: Path, events: int) -> Deps:
    """Load the workload and return deps over it (no tool cache, silent hooks)."""
    store, catalog = open_store(f"chdb://{folder / 'analytics'}"), load_catalog()
    started = time.perf_counter()
    generate_and_load(store, catalog, "mixed", events, 7)
    print(f"loaded {events:,} events in {time.perf_counter() - started:.1f} s")
    return Deps(store=store, catalog=catalog, settings=Settings(home=folder), hooks=Hooks())


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        report(prepare(Path(folder), args.events), args.events, args.repeat)


def report(deps: Deps, events: int, repeat: int) -> None:
    """Time each strategy and print seconds, s per 1M events and the ratio to sequential."""
    times = {s: best_of(deps, s, repeat) for s in STRATEGIES}
    for strategy, seconds in times.items():
        print(f"{strategy:12s} {seconds:7.2f} s  {seconds / events * 1e6:7.2f} s per 1M events  "
              f"x{seconds / times['sequential']:.2f} of sequential")


if __name__ == "__main__":
    main()
