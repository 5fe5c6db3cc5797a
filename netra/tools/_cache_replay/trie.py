"""The cache keys of the replayed events and the trie of their shared runs (docs/caching.md).

`CacheKeys` numbers the (provider, model) pairs as logged and looks each one's rules up once
(`SharedKey`: one key for every event).
`RunsTrie` turns the events' shared runs into c(r) and, per run, its compressed nodes: the
depths where the set of events holding the prefix changes (a branch or a run's end). `Uses`
pairs each eligible event with those nodes and the time since each was last used, so a TTL
only has to be compared: h(r) under any TTL comes from one sort.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable

import numpy as np

from netra.tools._cache_replay.arrays import (Labels, Runs, compact, first_of_each, numbered, ragged, read_only,
                                             segment_max, segment_sums)
from netra.workloads.caching import CacheRules, Lookup, lookup
from netra.workloads.catalog import PriceCatalog


class CacheKeys:
    """The cache keys (provider, model as logged) of the events, and each key's rules."""

    def __init__(self, catalog: PriceCatalog, provider: Labels, model: Labels) -> None:
        width = len(model.values)
        self.of_event, codes = compact(provider.codes * width + model.codes, len(provider.values) * width)
        self.names = [(provider.values[c // width], model.values[c % width]) for c in codes]
        self.lookups: list[Lookup] = [lookup(catalog, str(p), str(m)) for p, m in self.names]
        self.replayed = np.array([k.rules is not None for k in self.lookups], bool)

    def number_in_key(self, hashes: np.ndarray, key: np.ndarray) -> np.ndarray:
        """Number equal (key, hash) pairs 0, 1, ... in order of first occurrence."""
        return numbered(numbered(hashes) * max(len(self.names), 1) + key)

    def per_key(self, value: Callable[[CacheRules], Any], default: Any, dtype: Any = np.int64) -> np.ndarray:
        """Return `value(rules)` of every key, `default` for keys without rules and, last, for no key."""
        per_key = [default if k.rules is None else value(k.rules) for k in self.lookups]
        return np.array(per_key + [default], dtype=dtype)

    def notes(self) -> list[str]:
        """Say which cache keys are not replayed, and why."""
        return [f"not replayed: {model} ({provider or 'no provider logged'}): {k.reason}"
                for (provider, model), k in zip(self.names, self.lookups) if k.rules is None]


class SharedKey:
    """One cache key for every event (`cache_policy_optimizer`: one cache shared by the whole scope).

    It stands for `CacheKeys` where `RunsTrie` only numbers hashes within a key.
    """

    def __init__(self, n: int) -> None:
        self.of_event = np.zeros(n, np.int64)

    def number_in_key(self, hashes: np.ndarray, key: np.ndarray) -> np.ndarray:
        """Number equal hashes 0, 1, ... in order of first occurrence (every event has the one key)."""
        return numbered(hashes)


@dataclass(frozen=True)
class Compressed:
    """The compressed nodes of every group's run, end to end in depth order."""

    node: np.ndarray
    depth: np.ndarray
    start: np.ndarray  # per group: where its nodes start
    count: np.ndarray  # per group: how many it has


class RunsTrie:
    """The trie of the replayed events' shared runs: c(r) and each run's compressed nodes.

    A *group* is the events of one cache key with the same run (same tip); an *entry* is one
    node of a group's run, in depth order; a node's `count` is the events whose run holds it.
    """

    def __init__(self, keys: CacheKeys | SharedKey, runs: Runs, members: np.ndarray) -> None:
        self.members, self.n = members, len(runs.length)
        self.group = keys.number_in_key(runs.tips(members), keys.of_event[members])
        first = members[first_of_each(self.group)]
        self.size, self.length = np.bincount(self.group, minlength=len(first)), runs.length[first]
        position, self.entry_group, self.entry_depth = ragged(runs.start[first], self.length)
        self.entry_node = keys.number_in_key(runs.hashes[position], keys.of_event[first][self.entry_group])

    @cached_property
    def entry_count(self) -> np.ndarray:
        """Return, per entry, how many replayed events' runs hold its node."""
        return np.bincount(self.entry_node, weights=self.size[self.entry_group])[self.entry_node]

    @cached_property
    def group_depth(self) -> np.ndarray:
        """Return c(r) of each group: how many nodes of its run two events hold (a leading run)."""
        return segment_sums((self.entry_count >= 2).astype(np.int64), self.length)

    @cached_property
    def depth(self) -> np.ndarray:
        """Return c(r) of every event (0 for events in no group)."""
        depth = np.zeros(self.n, np.int64)
        depth[self.members] = self.group_depth[self.group]
        return read_only(depth)

    @cached_property
    def event_group(self) -> np.ndarray:
        """Return the group of every event (-1 for events in none)."""
        group = np.full(self.n, -1, np.int64)
        group[self.members] = self.group
        return group

    @cached_property
    def compressed(self) -> np.ndarray:
        """Return which entries are compressed nodes: at most c deep, the last or a branch point."""
        count, cap = self.entry_count, self.group_depth[self.entry_group]
        branch = count != np.append(count[1:], 0)
        return (self.entry_depth <= cap) & ((self.entry_depth == cap) | branch)

    @cached_property
    def nodes(self) -> Compressed:
        """Return the compressed nodes of every group's run."""
        kept = self.compressed
        count = np.bincount(self.entry_group[kept], minlength=len(self.length))
        return Compressed(self.entry_node[kept], self.entry_depth[kept], np.cumsum(count) - count, count)

    def paths_of(self, events: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return, for member events in replay order, how many compressed nodes each one's path
        has, and the (position in `nodes`, owner among `events`) of every one of them."""
        group = self.event_group[events]
        count = self.nodes.count[group]
        position, owner, _ = ragged(self.nodes.start[group], count)
        return count, position, owner


def previous_use(node: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Return, for uses sorted by (node, time), the index of the node's last strictly earlier use, or -1.

    That is the use just before the run of uses of the same node at the same time.
    """
    index = np.arange(len(node))
    new_run = np.ones(len(node), bool)
    new_run[1:] = (node[1:] != node[:-1]) | (ts[1:] != ts[:-1])
    previous = np.maximum.accumulate(np.where(new_run, index, 0)) - 1
    return np.where((previous >= 0) & (node[np.maximum(previous, 0)] == node), previous, -1)


def since_previous_use(node: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Return, for uses of nodes in time order, the ms since the node's last strictly earlier use (-1: none).

    The stable sort by node keeps each node's uses in time order; node numbers in the smallest
    integer type let numpy sort them by radix.
    """
    sorter = np.argsort(node.astype(np.min_scalar_type(int(node.max(initial=0)))), kind="stable")
    node, ts = node[sorter], ts[sorter]
    previous = previous_use(node, ts)
    since = np.empty(len(node), np.int64)
    since[sorter] = np.where(previous >= 0, ts - ts[np.maximum(previous, 0)], -1)
    return since


@dataclass(frozen=True)
class Uses:
    """The eligible events' uses of the compressed nodes of their paths: the same under every TTL."""

    users: np.ndarray  # the eligible events, in replay order
    count: np.ndarray  # per user: how many compressed nodes its path has
    owner: np.ndarray  # per use: its user (an index into `users`)
    depth: np.ndarray  # per use: the node's depth
    since: np.ndarray  # per use: ms since the node's last strictly earlier use (-1: none)

    @classmethod
    def of(cls, trie: RunsTrie, users: np.ndarray, ts: np.ndarray) -> Uses:
        """Pair every eligible event with the compressed nodes of its path."""
        count, position, owner = trie.paths_of(users)
        since = since_previous_use(trie.nodes.node[position], ts[users[owner]])
        return cls(users, count, owner, trie.nodes.depth[position], since)

    def hit_depth(self, ttl_ms: np.ndarray) -> np.ndarray:
        """Return h(r) of every user, given each user's TTL: its deepest node used less than a TTL before."""
        live = (self.since >= 0) & (self.since < ttl_ms[self.owner])
        return segment_max(self.depth * live, self.count)
