"""What the store's memo keeps (`_cache_replay.memo`): a count per kind and a byte budget, the oldest dropped first."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from netra.tools import ToolDispatcher
from netra.tools._cache_replay import memo
from netra.tools._cache_replay.memo import KEPT, KEPT_OF, Kept, Loaded, memo_of
from tests.support.factories import load


def keep(ctx, kind: str, names: list[str], sized: bool = False) -> list[str]:
    """Load each name into the memo of `kind` (`int(name)` bytes when `sized`); return what it keeps, oldest first."""
    kept = memo_of(ctx.store, kind)
    kept.clear()
    for name in names:
        kept.get(Loaded("load", {"name": name}), lambda: np.zeros(int(name), np.uint8) if sized else name)
    return [entry.loaded.params["name"] for entry in kept.entries.values()]


def test_the_joint_pairs_keep_more_loads_than_the_other_kinds(ctx):
    names = [f"n{i}" for i in range(40)]
    assert keep(ctx, "attempts", names) == names[-KEPT:]
    assert keep(ctx, "joint_pairs", names) == names[-KEPT_OF["joint_pairs"]:]
    assert KEPT_OF["joint_pairs"] >= 16   # an analysis's pairs, its candidates' and combined sets


def test_values_that_tell_their_size_are_kept_within_the_budget(ctx, monkeypatch):
    monkeypatch.setattr(memo, "BUDGET", 3_000)
    assert keep(ctx, "joint_pairs", ["1000", "2000", "1500"], sized=True) == ["1500"]
    assert keep(ctx, "joint_pairs", ["500", "1000", "1500"], sized=True) == ["500", "1000", "1500"]
    assert keep(ctx, "joint_pairs", ["100", "5000"], sized=True) == ["5000"]   # the newest stays, whatever its size
    assert memo_of(ctx.store, "joint_pairs").nbytes == 5000


def test_a_kept_load_that_is_used_again_is_the_last_dropped(ctx):
    kept = memo_of(ctx.store, "replay")
    kept.clear()
    first = kept.get(Loaded("load", {"name": "a"}), lambda: "a")
    kept.get(Loaded("load", {"name": "b"}), lambda: "b")
    assert kept.get(Loaded("load", {"name": "a"}), lambda: pytest.fail("loaded again")) is first
    kept.get(Loaded("load", {"name": "c"}), lambda: "c")
    assert [e.value for e in kept.entries.values()] == ["a", "c"]


class OneLoad:
    """Builds one value from a memo's kept loads, loading it (and counting the loads) unless it is kept."""

    def __init__(self) -> None:
        self.loads = 0

    def load(self) -> str:
        """Count a load and give the value."""
        self.loads += 1
        return "value"

    def build(self, kept: Kept[str]) -> str:
        """Return the value, loaded unless kept."""
        return kept.get(Loaded("load", {}), self.load)


def in_threads(target, count: int) -> None:
    """Run `target` in `count` threads at once; wait for them all."""
    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_concurrent_composers_wait_for_one_load(ctx):
    kept, builder = memo_of(ctx.store, "joint_pairs"), OneLoad()
    kept.clear()
    in_threads(lambda: kept.compose(builder.build), 4)
    assert builder.loads == 1 and [e.value for e in kept.entries.values()] == ["value"]


def version_reads(ctx, monkeypatch) -> list[str]:
    """Record each reading of the store's data version."""
    reads: list[str] = []
    scalar = type(ctx.store).scalar

    def counted(self, sql, params=None):
        reads.extend([sql] if sql == memo.VERSION_SQL else [])
        return scalar(self, sql, params)
    monkeypatch.setattr(type(ctx.store), "scalar", counted)
    return reads


def test_a_pinned_block_reads_the_data_version_once(ctx, monkeypatch):
    reads, kept = version_reads(ctx, monkeypatch), memo_of(ctx.store, "pinned_test")
    with memo.pinned():
        with memo.pinned():   # a nested tool call keeps the enclosing block's version
            versions = [kept.version() for _ in range(3)]
        versions.append(kept.version())
    outside = [kept.version() for _ in range(2)]   # outside any block, every lookup reads it
    assert (len(reads), len(set(versions)), set(outside)) == (3, 1, set(versions))


def test_a_tool_call_reads_the_data_version_once(ctx, catalog, monkeypatch):
    load(ctx.store, catalog, [{"feature": "chat", "model": "gpt-4o", "input_tokens": 100, "output_tokens": 10}])
    reads = version_reads(ctx, monkeypatch)
    ToolDispatcher(ctx).run("cost_analyzer", {})
    assert len(reads) == 1   # its kept totals, span and rows share it
