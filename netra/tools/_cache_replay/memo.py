"""The scoped events of recent replays, kept per store so the tools of one analysis load them once.

    memo = memo_of(store)                  # one per store and kind ("replay", "attempts")
    events = memo.get(Loaded(sql, params, catalog), lambda: ScopedEvents(...))   # once per version

An analysis asks for the same replay several times (the calculator, the proposer's
candidates, every joint simulation of the policy tools). The entry is keyed by the bound
query (scope, workspace and columns are all in it) and by the **data version**: the names and
content checksums of the active parts of `workload_events`. Any insert, delete, truncate or
merge changes them, so an entry is only reused while the rows the query read are the ones it
would read again; a merge (same rows) just costs one more load. The tables derived from the
events (`kv_prefix_seen`) change with them; their own merges change no answer, so they are
not part of the version.

A few entries per store are kept (the oldest dropped first), each read-only and
shared by the threads of a parallel run; one lock makes concurrent callers of the same key
wait for a single load.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

from netra.persistence.analytics import AnalyticsStore

# every active part of the events, with a checksum of its files
VERSION_SQL = """SELECT arrayStringConcat(arraySort(groupArray(concat(name, '/', toString(hash_of_all_files)))), ',')
FROM system.parts WHERE database = currentDatabase() AND table = 'workload_events' AND active"""
KEPT = 2  # entries per store: a run replays one or two scopes

T = TypeVar("T")


@dataclass(frozen=True)
class Loaded:
    """What identifies a load: its bound query and parameters, and the catalog its prices and rules come from.

    The catalog is named by `id` in the key; the entry keeps this record, hence the catalog,
    so while the entry lives no other catalog can have that id.
    """

    sql: str
    params: dict[str, Any]
    catalog: object = None  # the catalog the entry was computed with (None: none)

    def key(self, version: str) -> str:
        """Return the memo key of this load at a data version."""
        return json.dumps([self.sql, self.params, id(self.catalog), version], sort_keys=True, default=str)


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A kept load: what was loaded, at which data version, and its value."""

    loaded: Loaded
    version: str
    value: T


class Memo(Generic[T]):
    """The last `KEPT` loads of one store, by query and data version (the store is only referenced weakly)."""

    def __init__(self, store: AnalyticsStore) -> None:
        self.store, self.lock = weakref.ref(store), threading.Lock()
        self.entries: OrderedDict[str, Entry[T]] = OrderedDict()

    def get(self, loaded: Loaded, load: Callable[[], T], covers: Callable[[Loaded], bool] | None = None) -> T:
        """Return the entry of `loaded` at the store's current version, loading it when absent.

        `covers(kept)` may accept a kept load of the same version instead (one that read more).
        """
        version = str(self.store().scalar(VERSION_SQL))
        with self.lock:
            key = self._covering(version, covers) or loaded.key(version)
            entry = self.entries.pop(key) if key in self.entries else Entry(loaded, version, load())
            self._keep(key, entry)
            return entry.value

    def _keep(self, key: str, entry: Entry[T]) -> None:
        """Keep `entry` as the newest (last); drop the oldest beyond `KEPT`."""
        self.entries[key] = entry
        while len(self.entries) > KEPT:
            self.entries.popitem(last=False)

    def _covering(self, version: str, covers: Callable[[Loaded], bool] | None) -> str | None:
        """Return the key of a kept load of `version` that `covers` accepts, if any."""
        found = (k for k, e in self.entries.items() if e.version == version and covers and covers(e.loaded))
        return next(found, None)

    def clear(self) -> None:
        """Forget every entry (benchmarks time cold loads this way)."""
        with self.lock:
            self.entries.clear()


_MEMOS: dict[tuple[int, str], Memo[Any]] = {}
_MEMOS_LOCK = threading.Lock()


def memo_of(store: AnalyticsStore, kind: str = "replay") -> Memo[Any]:
    """Return the memo of one kind of load of `store` (dropped when the store object is collected)."""
    key = (id(store), kind)
    with _MEMOS_LOCK:
        if key not in _MEMOS:
            _MEMOS[key] = Memo(store)
            weakref.finalize(store, _MEMOS.pop, key, None)
        return _MEMOS[key]


def forget(store: AnalyticsStore) -> None:
    """Empty every memo of `store` (benchmarks time cold analyses this way)."""
    with _MEMOS_LOCK:
        memos = [memo for (owner, _), memo in _MEMOS.items() if owner == id(store)]
    for memo in memos:
        memo.clear()
