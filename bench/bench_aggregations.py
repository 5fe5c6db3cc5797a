"""Benchmark the main aggregations against a same-run pandas/numpy baseline.

Loads the `mixed` scenario (default 10M events) into a temporary chDB store in this
process, then times `cost_analyzer`, `latency_analyzer` and `kv_cache_finder` through the
dispatcher (best of `--repeat`, first call shown too) and the same aggregation in
pandas/numpy over columns pulled once from the store (the pull is not timed). Prints
seconds, the ratio baseline / tool (> 1: ClickHouse is faster), whether both agree, and
the peak RSS of the process (chDB runs in it). Never asserts timings.

    python bench/bench_aggregations.py [--events N] [--repeat R] [--store DIR]

`--store DIR` keeps the store in DIR and reuses it when it already holds N events.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import tempfile
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from netra.persistence.analytics import AnalyticsStore, open_store  # noqa: E402
from netra.tools import ToolDispatcher  # noqa: E402
from netra.tools.base import ToolContext, ToolResult  # noqa: E402
from netra.workloads.catalog import load_catalog  # noqa: E402
from netra.workloads.synthetic import generate_and_load  # noqa: E402

# the columns the baselines read, pulled once in time order (ties by feature, model) so the
# numpy replay's stable sort meets each hash's first request first, as argMin does
PULL_SQL = """SELECT timestamp, feature, model, status, priced, cost_usd, logged_cost_usd, is_batch,
       latency_ms, ttft_ms, prefix_hashes, block_size, input_tokens, cached_input_tokens,
       cache_write_tokens, output_tokens, reasoning_tokens
FROM workload_events ORDER BY timestamp, feature, model"""

# rows, parts and bytes on disk of the tables this process's store holds
SIZES_SQL = """SELECT table AS name, sum(rows) AS rows, count() AS parts, sum(bytes_on_disk) AS bytes
FROM system.parts WHERE database = currentDatabase() AND active GROUP BY name ORDER BY name"""

TOKEN_COLUMNS = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens")
LATENCY_LEVELS = (0.5, 0.95, 0.99)
TTFT_LEVELS = (0.5, 0.95)
# (figure compared, relative tolerance) per tool: the baseline must agree with the tool
CHECKS = {
    "cost_analyzer": (("total_cost_usd", 1e-9), ("requests", 0), ("span_days", 1e-9)),
    "latency_analyzer": (("latency_p50_ms", 0), ("latency_p95_ms", 0), ("latency_p99_ms", 0),
                         ("ttft_p50_ms", 0), ("ttft_p95_ms", 0), ("error_rate", 1e-9)),
    "kv_cache_finder": (("hit_tokens", 0), ("uncached_hit_tokens", 0), ("block_hit_ratio", 1e-6),
                        ("token_hit_ratio", 1e-6)),
}


def _parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="events to generate")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per tool (best is shown)")
    parser.add_argument("--store", default="", help="keep the store in this folder and reuse it")
    return parser


def peak_rss_mb() -> float:
    """Return the peak resident set size of this process so far, in MB (Linux: KB units)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """Return the CPU seconds this process (chDB's threads included) has used so far."""
    return sum(resource.getrusage(resource.RUSAGE_SELF)[:2])


def timed(fn: Callable[[], Any]) -> tuple[float, Any, float]:
    """Run `fn` once; return (wall seconds, its result, CPU seconds)."""
    start, cpu = time.perf_counter(), cpu_seconds()
    result = fn()
    return time.perf_counter() - start, result, cpu_seconds() - cpu


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, tuple[float, Any, float]]:
    """Run `fn` `repeat` times; return (first wall seconds, the fastest run as `timed` gives it)."""
    runs = [timed(fn) for _ in range(max(repeat, 1))]
    return runs[0][0], min(runs, key=lambda run: run[0])


def load(folder: Path, events: int, seed: int) -> AnalyticsStore:
    """Open the store in `folder`; load `events` mixed events unless it already holds them."""
    store = open_store(f"chdb://{folder / 'analytics'}")
    if store.count() != events:
        store.truncate()
        seconds, _, cpu = timed(lambda: generate_and_load(store, load_catalog(), "mixed", events, seed))
        print(f"loaded {events:,} events in {seconds:.1f} s ({cpu:.1f} CPU s, peak RSS {peak_rss_mb():,.0f} MB)")
    print_sizes(store)
    return store


def print_sizes(store: AnalyticsStore) -> None:
    """Print the rows, parts and bytes on disk of each table (what the auxiliary tables cost)."""
    for row in store.rows(SIZES_SQL):
        print(f"  {row['name']:16s} {row['rows']:>12,} rows {row['parts']:>4} parts {row['bytes'] / 1e6:>9,.1f} MB")


@dataclass(frozen=True)
class Pulled:
    """The baseline columns: a frame (plus `ms`, int64 epoch milliseconds) and the flat hashes."""

    frame: pd.DataFrame
    flat: np.ndarray
    lengths: np.ndarray


def pull(store: AnalyticsStore) -> Pulled:
    """Pull the baseline columns once (not timed); hashes become one flat numpy array."""
    seconds, table, _ = timed(lambda: store.arrow(PULL_SQL))
    hashes = table.column("prefix_hashes").combine_chunks()
    frame = table.drop_columns(["prefix_hashes"]).to_pandas()
    frame["ms"] = pc.cast(table.column("timestamp"), pa.int64()).to_numpy()
    print(f"pulled {len(frame):,} rows for the baselines in {seconds:.1f} s (peak RSS {peak_rss_mb():,.0f} MB)")
    return Pulled(frame, hashes.flatten().to_numpy(zero_copy_only=False).astype(np.uint64),
                  np.diff(hashes.offsets.to_numpy()).astype(np.int64))



def cost_baseline(frame: pd.DataFrame) -> dict[str, float]:
    """Compute the cost figures, the logged-cost sums, the per-day table and the token classes."""
    cost, ms, logged = frame["cost_usd"], frame["ms"].to_numpy(), frame["logged_cost_usd"].notna()
    days = max(float(ms.max() - ms.min()) / 86_400_000.0, 1 / 24)
    daily = frame.groupby(ms // 86_400_000).agg(requests=("cost_usd", "size"), cost=("cost_usd", "sum"))
    errors, split = float(cost[frame["status"] != "ok"].sum()), token_classes(frame)
    return {"total_cost_usd": float(cost.sum()), "requests": len(frame), "span_days": days, "days": len(daily),
            "unpriced_requests": int((frame["priced"] == 0).sum()), "error_cost_usd": errors, "groups": len(split),
            "logged_usd": float(frame["logged_cost_usd"].sum()), "computed_of_logged": float(cost[logged].sum())}


def token_classes(frame: pd.DataFrame) -> pd.DataFrame:
    """Sum the disjoint billable token classes per (model, is_batch), as the cost split does."""
    tokens = {name: frame[name].astype(np.int64) for name in TOKEN_COLUMNS}
    classes = pd.DataFrame({
        "input": (tokens["input_tokens"] - tokens["cached_input_tokens"] - tokens["cache_write_tokens"]).clip(lower=0),
        "cache_read": tokens["cached_input_tokens"], "cache_write": tokens["cache_write_tokens"],
        "output": (tokens["output_tokens"] - tokens["reasoning_tokens"]).clip(lower=0),
        "reasoning": tokens["reasoning_tokens"], "model": frame["model"], "batch": frame["is_batch"]})
    return classes.groupby(["model", "batch"], observed=True).sum()


def exact_quantiles(values: np.ndarray, levels: tuple[float, ...]) -> list[float]:
    """Return ClickHouse `quantileExact` at each level: element floor(level * n) of the sorted values."""
    if not len(values):
        return [0.0] * len(levels)
    index = [min(int(level * len(values)), len(values) - 1) for level in levels]
    part = np.partition(values, index)
    return [float(part[i]) for i in index]


def latency_stats(frame: pd.DataFrame) -> dict[str, float]:
    """Return the latency figures of one group of requests."""
    ttft = frame["ttft_ms"].to_numpy()
    lat = exact_quantiles(frame["latency_ms"].to_numpy(), LATENCY_LEVELS)
    tt = exact_quantiles(ttft[ttft > 0], TTFT_LEVELS)
    names = ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "ttft_p50_ms", "ttft_p95_ms")
    return {**dict(zip(names, lat + tt)), "requests": len(frame),
            "error_rate": float((frame["status"] != "ok").mean()), "streamed_requests": int((ttft > 0).sum())}


def latency_baseline(frame: pd.DataFrame) -> dict[str, float]:
    """Compute the overall latency figures and one row per feature in numpy."""
    groups = {name: latency_stats(group) for name, group in frame.groupby("feature", observed=True)}
    return {**latency_stats(frame), "groups": len(groups)}


def first_seen(data: Pulled) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return, per block in hash order: its row, its hash and its hash's first-seen time (ms).

    Rows are in time order, so a stable sort by hash puts each hash's first request first.
    """
    order = np.argsort(data.flat, kind="stable")
    flat, rows = data.flat[order], np.repeat(np.arange(len(data.frame)), data.lengths)[order]
    starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
    return rows, flat, np.repeat(data.frame["ms"].to_numpy()[rows[starts]], np.diff(np.r_[starts, len(flat)]))


def replay(data: Pulled) -> tuple[pd.DataFrame, pd.Series]:
    """Return per-request hits and the written tokens per (feature, model)."""
    rows, flat, first_ms = first_seen(data)
    hit = first_ms < data.frame["ms"].to_numpy()[rows]
    requests = data.frame[["feature", "model", "block_size", "cached_input_tokens", "input_tokens"]].copy()
    requests["hits"] = np.bincount(rows[hit], minlength=len(data.frame))
    requests["blocks"] = data.lengths
    return requests, _written(data.frame, rows, flat, first_ms)


def _written(frame: pd.DataFrame, rows: np.ndarray, flat: np.ndarray, first_ms: np.ndarray) -> pd.Series:
    """Tokens of the repeated blocks first seen in each (feature, model) (first request wins)."""
    ms = frame["ms"].to_numpy()[rows]
    starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]])
    ends = np.r_[starts[1:], len(flat)] - 1
    origin = frame.iloc[rows[starts[ms[ends] > first_ms[starts]]]]
    return origin.groupby(["feature", "model"], observed=True)["block_size"].sum()


def kv_baseline(data: Pulled) -> dict[str, float]:
    """Replay in numpy, then total the hits and the ones not read from a cache."""
    requests, _ = replay(data)
    requests["hit_tokens"] = hit_tokens = requests["hits"] * requests["block_size"].astype(np.int64)
    requests["uncached"] = np.maximum(hit_tokens - requests["cached_input_tokens"].astype(np.int64), 0)
    return {"hit_tokens": float(hit_tokens.sum()), "uncached_hit_tokens": float(requests["uncached"].sum()),
            **_ratios(requests)}


def _ratios(requests: pd.DataFrame) -> dict[str, float]:
    """Return the overall block and token hit ratios."""
    return {"block_hit_ratio": requests["hits"].sum() / requests["blocks"].sum(),
            "token_hit_ratio": requests["hit_tokens"].sum() / requests["input_tokens"].sum()}


def agree(name: str, result: ToolResult, baseline: dict[str, float]) -> str:
    """Say whether the tool's figures equal the baseline's (within each check's tolerance)."""
    misses = [f"{fig}: tool {result.value(fig)} vs baseline {baseline[fig]}" for fig, rel in CHECKS[name]
              if not math.isclose(result.value(fig), baseline[fig], rel_tol=rel, abs_tol=1e-6)]
    return "agree" if not misses else "DISAGREE (" + "; ".join(misses) + ")"


def time_tools(store: AnalyticsStore, repeat: int) -> dict[str, tuple[float, tuple[float, Any, float]]]:
    """Time each tool through the dispatcher (before the baselines' data exists in memory)."""
    dispatcher = ToolDispatcher(ToolContext(store, load_catalog()))
    timings = {name: best_of(lambda name=name: dispatcher.run(name, {}), repeat) for name in CHECKS}
    print(f"peak RSS after the tools: {peak_rss_mb():,.0f} MB")
    return timings


def baselines(data: Pulled) -> dict[str, Callable[[], dict]]:
    """Return each tool's baseline as a function of the pulled columns."""
    return {"cost_analyzer": lambda: cost_baseline(data.frame),
            "latency_analyzer": lambda: latency_baseline(data.frame),
            "kv_cache_finder": lambda: kv_baseline(data)}


def report(name: str, timing: tuple[float, tuple[float, Any, float]], baseline: Callable[[], dict]) -> None:
    """Time one baseline; print the tool's and its seconds (wall, CPU), the ratio and agreement."""
    first, (best, result, cpu) = timing
    base_seconds, base, base_cpu = timed(baseline)
    print(f"{name:17s} tool {best:7.3f} s ({cpu:.2f} CPU s; first call {first:.3f} s)  "
          f"baseline {base_seconds:7.3f} s ({base_cpu:.2f} CPU s)  ratio {base_seconds / best:6.1f}x  "
          f"{agree(name, result, base)}")


def run(store: AnalyticsStore, repeat: int) -> None:
    """Time the tools, pull the baseline columns, then time each baseline and compare."""
    print(f"{store.count():,} events; {repeat} runs per tool, best shown; ratio = baseline / tool")
    timings = time_tools(store, repeat)
    data = pull(store)
    print(f"kv baseline: numpy replay of all {len(data.flat):,} blocks")
    for name, baseline in baselines(data).items():
        report(name, timings[name], baseline)
    print(f"peak RSS with the baselines: {peak_rss_mb():,.0f} MB")


def main(argv: list[str] | None = None) -> int:
    """Load the workload (or reuse `--store`), then run the benchmarks."""
    args = _parser().parse_args(argv)
    folder = nullcontext(args.store) if args.store else tempfile.TemporaryDirectory()
    with folder as path:
        store = load(Path(path), args.events, args.seed)
        run(store, args.repeat)
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
