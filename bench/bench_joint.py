"""Benchmark the joint simulator against the floor: one grouped scan of the same events.

Loads the `mixed` scenario (default 1M events over 14 days) into a chDB store in this process,
runs `policy_proposer` once for the policies, then times each measure COLD (the shared loads
of `_cache_replay.memo` forgotten first: a new analysis) and WARM (best of `--repeat`):

- the FLOOR: one scan with GROUP BY feature, model: count, sums of cost and tokens, latency
  quantiles and sum(length(prefix_hashes)) -- what any tool pays to read the events once;
- `policy_simulator` on the proposed policies (joint, each policy alone, latency deltas,
  bootstrap intervals), and with `bootstrap_samples` 0;
- `cost_impact_simulator` on them (the joint simulation alone);
- the engine's parts: loading the targeted events, one joint run, the cache replays.

The plain-Python reference (`netra/evals/reference/joint.py`) runs the same policies once on the
same events; the joint savings must agree to the cent. Prints milliseconds and the ratio to the
floor. Never asserts timings.

    python bench/bench_joint.py [--events N] [--repeat R] [--store DIR] [--skip-reference]

`--store DIR` keeps the store in DIR and reuses it when it already holds N events.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._replay_agreement import reference_joint  # noqa: E402
from netra.persistence.analytics import AnalyticsStore, open_store  # noqa: E402
from netra.tenancy import LOCAL_WORKSPACE  # noqa: E402
from netra.tools import ToolDispatcher  # noqa: E402
from netra.tools._cache_replay.memo import forget  # noqa: E402
from netra.tools._joint import JointSimulator  # noqa: E402
from netra.tools._sql import Queries  # noqa: E402
from netra.tools.base import ToolContext  # noqa: E402
from netra.tools.findings import Policy  # noqa: E402
from netra.tools.scope import Scope, in_workspace, where  # noqa: E402
from netra.workloads.catalog import load_catalog  # noqa: E402
from netra.workloads.synthetic import generate_and_load  # noqa: E402

FLOOR_SQL = """SELECT feature, model, count() AS requests, sum(cost_usd) AS cost,
       sum(input_tokens) AS input, sum(cached_input_tokens) AS cached, sum(cache_write_tokens) AS written,
       sum(output_tokens) AS output, sum(reasoning_tokens) AS reasoning,
       quantilesExact(0.5, 0.95, 0.99)(latency_ms) AS latency, sum(length(prefix_hashes)) AS blocks
FROM workload_events {where}
GROUP BY feature, model"""


ARGUMENTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("--events", {"type": int, "default": 1_000_000, "help": "events to generate"}),
    ("--seed", {"type": int, "default": 7, "help": "random seed"}),
    ("--days", {"type": float, "default": 14.0, "help": "days the events span"}),
    ("--repeat", {"type": int, "default": 3, "help": "timed runs per measure (best is shown)"}),
    ("--store", {"default": "", "help": "keep the store in this folder and reuse it"}),
    ("--skip-reference", {"action": "store_true", "help": "do not run the Python reference joint run"}),
)


def _parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag, options in ARGUMENTS:
        parser.add_argument(flag, **options)
    return parser


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Run `fn` `repeat` times; return (first ms, best ms, the last result)."""
    runs, result = [], None
    for _ in range(max(repeat, 1)):
        start = time.perf_counter()
        result = fn()
        runs.append(1000 * (time.perf_counter() - start))
    return runs[0], min(runs), result


def load(folder: Path, args: argparse.Namespace) -> AnalyticsStore:
    """Open the store in `folder`; load the mixed workload unless it already holds it."""
    store = open_store(f"chdb://{folder / 'analytics'}")
    if store.count() != args.events:
        store.truncate()
        first, _, _ = timed(lambda: generate_and_load(store, load_catalog(), "mixed", args.events, args.seed,
                                                      args.days), 1)
        print(f"loaded {args.events:,} events in {first / 1000:.1f} s")
    return store


def floor(store: AnalyticsStore) -> list[dict]:
    """Run the floor scan over the workspace's events."""
    with in_workspace(LOCAL_WORKSPACE):
        clause, params = where(Scope())
    return store.rows(FLOOR_SQL.replace("{where}", clause), params)


class Bench:
    """The store, a dispatcher without a result cache, the proposed policies and the floor's time."""

    def __init__(self, store: AnalyticsStore, repeat: int, reference: bool) -> None:
        self.ctx = ToolContext(store=store, catalog=load_catalog(), workspace_id=LOCAL_WORKSPACE)
        self.dispatcher, self.repeat = ToolDispatcher(self.ctx), repeat
        first, best, proposed = timed(lambda: self.dispatcher.run("policy_proposer", {}), 1)
        self.policies = [Policy.model_validate(r) for r in proposed.rows]
        print(f"policy_proposer: {len(self.policies)} policies in {first:,.0f} ms")
        self.floor, self.reference = 0.0, reference

    def measure_floor(self) -> None:
        """Time the floor scan; the other measures are shown as multiples of its best time."""
        first, self.floor, rows = timed(lambda: floor(self.ctx.store), self.repeat)
        print(f"{'FLOOR (one GROUP BY feature, model scan)':44s} first {first:>9,.0f} ms  best {self.floor:>9,.0f} ms"
              f"  ({len(rows)} groups)")

    def show(self, label: str, fn: Callable[[], Any]) -> Any:
        """Time `fn` cold (shared loads forgotten first) then warm; print both and their ratios to the floor."""
        forget(self.ctx.store)
        first, best, result = timed(fn, self.repeat)
        print(f"{label:44s} cold {first:>9,.0f} ms {first / self.floor:>6.1f} x  warm {best:>9,.0f} ms "
              f"{best / self.floor:>6.1f} x floor")
        return result

    def tool(self, name: str, **args: Any) -> Any:
        """Run tool `name` on the proposed policies."""
        return self.dispatcher.run(name, {"policies": [p.model_dump(mode="json") for p in self.policies], **args})

    def engine(self) -> JointSimulator:
        """Load the joint simulator over the proposed policies' events."""
        with in_workspace(LOCAL_WORKSPACE):
            return JointSimulator(self.ctx, Scope(), self.policies, Queries(self.ctx.store))


def run_engine(bench: Bench) -> None:
    """Print the floor and the joint engine's parts."""
    bench.measure_floor()
    sim = bench.show("engine: load scope cost and targeted events", bench.engine)
    print(f"  {sim.frame.n:,} targeted events of {len(sim.features)} features; window {sim.days:.2f} days")
    joint = bench.show("engine: one joint run (cold: cache replay)", lambda: _run(sim, bench.policies))
    print(f"  joint saving {joint.saving:,.2f} USD over the window; notes: {joint.notes}")
    if bench.reference:
        agreement(joint.saving, *reference_joint(bench.ctx, bench.policies))


def agreement(engine: float, reference: float, cpu_ms: float) -> None:
    """Print the reference's joint saving, its time, and whether the engine agrees to the cent."""
    verdict = "agree to the cent" if abs(engine - reference) <= 0.005 else "DISAGREE"
    print(f"  reference joint run (Python): {cpu_ms:,.0f} ms CPU; saving {reference:,.4f} vs engine "
          f"{engine:,.4f} USD: {verdict}")


def run_tools(bench: Bench) -> None:
    """Print the tools that use the joint engine."""
    bench.show("cost_impact_simulator", lambda: bench.tool("cost_impact_simulator"))
    bench.show("policy_simulator (bootstrap_samples 0)", lambda: bench.tool("policy_simulator", bootstrap_samples=0))
    result = bench.show("policy_simulator", lambda: bench.tool("policy_simulator"))
    print(f"  combined {result.value('combined_monthly_saving_usd'):,.2f} USD/month of "
          f"{result.value('baseline_monthly_cost_usd'):,.2f}")


def _run(sim: JointSimulator, policies: list[Policy]) -> Any:
    """Run the policies together on a loaded simulator."""
    with in_workspace(LOCAL_WORKSPACE):
        return sim.run(policies)


def main() -> None:
    """Load (or reuse) the store and print the timings."""
    args = _parser().parse_args()
    folder = Path(args.store) if args.store else Path(tempfile.mkdtemp(prefix="netra-bench-joint-"))
    store = load(folder, args)
    print(f"{store.count():,} events in {folder}")
    bench = Bench(store, args.repeat, not args.skip_reference)
    run_engine(bench)
    run_tools(bench)


if __name__ == "__main__":
    main()
