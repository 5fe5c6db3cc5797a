"""Benchmark synthetic generation: generate+load into a temporary chDB, then generate only.

Usage: python bench/bench_generate.py [--events N] [--scenario NAME] [--seed S]
Prints events per second; never asserts timings.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from netra.persistence.analytics import open_store  # noqa: E402
from netra.workloads.catalog import load_catalog  # noqa: E402
from netra.workloads.synthetic import generate, generate_and_load  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events to generate")
    parser.add_argument("--scenario", default="mixed", help="scenario name")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    return parser


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    """Run `fn` and return (seconds taken, its result)."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def bench_load(events: int, scenario: str, seed: int) -> None:
    """Generate and load into a temporary chDB store; print the rate and the row count."""
    with tempfile.TemporaryDirectory() as tmp:
        store, catalog = open_store(f"chdb://{tmp}/analytics"), load_catalog()
        seconds, manifest = timed(generate_and_load, store, catalog, scenario, events, seed)
        print(f"generate+load: {events:,} events in {seconds:.2f} s = {events / seconds:,.0f} events/s "
              f"(stored {store.count():,}, total ${manifest['total_cost_usd']:,.2f})")
        store.close()


def bench_generate(events: int, scenario: str, seed: int) -> None:
    """Generate one in-memory table; print the rate."""
    seconds, workload = timed(generate, scenario, events, seed)
    print(f"generate only: {events:,} events in {seconds:.2f} s = {events / seconds:,.0f} events/s "
          f"({workload.table.nbytes / 1e6:,.0f} MB Arrow)")


def main(argv: list[str] | None = None) -> int:
    """Run both benchmarks."""
    args = _parser().parse_args(argv)
    bench_load(args.events, args.scenario, args.seed)
    bench_generate(args.events, args.scenario, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
