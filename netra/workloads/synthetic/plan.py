"""The whole workload as numpy columns, sorted by time: the plan every chunk is cut from.

The plan holds only numbers (a few dozen bytes per event); strings, ids and prefix
hashes are made per chunk by `table`, keyed by the global row number, so a chunked
load writes exactly the events a one-shot build makes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from netra.workloads.synthetic import specs
from netra.workloads.synthetic.rows import Columns, feature_rows
from netra.workloads.synthetic.specs import FEATURE_NAMES, FEATURES, scenario_shares

KEEP = ("ts", "feature", "user", "input_tokens", "cached_input_tokens", "cache_write_tokens",
        "output_tokens", "reasoning_tokens", "max_tokens", "finish", "status", "error", "latency_ms",
        "ttft_ms", "prompt_hash", "prompt", "session_key", "thread_key", "quality_score", "retried")
PREFIX_BLOCKS = np.array([s.prefix_tokens // specs.BLOCK_SIZE if s.prompts else 0
                          for s in FEATURES.values()], np.int64)


@dataclass
class Plan:
    """A workload's events as numpy columns sorted by `ts` (ms after the window start)."""

    scenario: str
    seed: int
    days: float
    columns: Columns

    @property
    def events(self) -> int:
        """Return how many events the plan holds."""
        return len(self.columns["ts"])


def feature_counts(scenario: str, events: int) -> dict[str, int]:
    """Split `events` over the scenario's features by share (largest remainder)."""
    shares = scenario_shares(scenario)
    raw = np.array(list(shares.values())) * events
    counts = np.floor(raw).astype(np.int64)
    leftover = np.argsort(-(raw - counts), kind="stable")[: events - int(counts.sum())]
    counts[leftover] += 1
    return dict(zip(shares, counts.tolist()))


def feature_rng(seed: int, feature: int) -> np.random.Generator:
    """Return the generator of one feature's rows, fixed by (seed, feature)."""
    entropy = np.random.SeedSequence([seed & ((1 << 64) - 1), feature])
    return np.random.Generator(np.random.PCG64(entropy))


def build_plan(scenario: str, events: int, seed: int, days: float) -> Plan:
    """Draw every feature's rows, merge them in time order and mark cache use."""
    parts = [_feature(name, n, seed, days) for name, n in feature_counts(scenario, events).items() if n]
    columns = _sorted({k: np.concatenate([p[k] for p in parts]) for k in KEEP})
    _mark_caches(columns)
    columns["shared_blocks"] = np.minimum(PREFIX_BLOCKS[columns["feature"]],
                                          columns["input_tokens"] // specs.BLOCK_SIZE)
    return Plan(scenario, seed, days, columns)


def _feature(name: str, n: int, seed: int, days: float) -> Columns:
    feature = FEATURE_NAMES.index(name)
    return feature_rows(feature, FEATURES[name], n, days, feature_rng(seed, feature))


def _sorted(columns: Columns) -> Columns:
    order = np.argsort(columns["ts"], kind="stable")
    return {k: v[order] for k, v in columns.items()}


def _mark_caches(columns: Columns) -> None:
    """Cached features: reads on every success after the prompt's first, a write on it."""
    for feature, spec in enumerate(FEATURES.values()):
        rows = np.flatnonzero((columns["feature"] == feature) & (columns["status"] == 0))
        if spec.cache and len(rows):
            columns["cached_input_tokens"][rows[1:]] = spec.prefix_tokens
            columns["cache_write_tokens"][rows[0]] = spec.prefix_tokens * (spec.cache == "write_read")
