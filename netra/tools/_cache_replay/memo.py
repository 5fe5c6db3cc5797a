"""The scoped events of recent replays, kept per store so the tools of one analysis load them once.

    memo = memo_of(store)                  # one per store and kind ("replay", "attempts", ...)
    events = memo.get(Loaded(sql, params, catalog), lambda: ScopedEvents(...))   # once per version
    value = memo.compose(lambda kept: ...)  # build from the kept loads of this version (see `Kept`)

An analysis asks for the same replay several times (the calculator, the proposer's
candidates, every joint simulation of the policy tools). The entry is keyed by the bound
query (scope, workspace and columns are all in it) and by the **data version**: the names and
content checksums of the active parts of `workload_events`. Any insert, delete, truncate or
merge changes them, so an entry is only reused while the rows the query read are the ones it
would read again; a merge (same rows) just costs one more load. The tables derived from the
events (`kv_prefix_seen`) change with them; their own merges change no answer, so they are
not part of the version.

What is kept is bounded per store and kind, the oldest (least recently used) dropped first:

- by count: `KEPT` entries, or `KEPT_OF[kind]`. A run replays one or two scopes and reads
  its attempts once, so 2 suffice there. The joint simulator keeps the events of each set of
  (feature, model) pairs it reads (`_joint_data`) and composes later sets from them: one
  analysis reads one load per proposed policy's pair (5 to 10), the proposer's candidates at
  once, and the sets of other scopes; `KEPT_OF` keeps 32 so none of them is dropped before
  the combined simulations re-use it, in any order of a parallel run's threads.
- by size: values that tell their size (`nbytes`: Arrow tables, `PairEvents`) count toward
  `BUDGET` bytes per store and kind (the joint simulator's frame of 1M events is some 135 MB,
  so 1 GiB holds an analysis's pairs several times over); beyond it the oldest are dropped.
  The newest entry is always kept, whatever its size. Other values count only toward the count.

Each entry is read-only and shared by the threads of a parallel run; one lock makes
concurrent callers of the same key (or of `compose`) wait for a single load.

The version is read on every lookup, except within `pinned()` (the dispatcher wraps each tool
call in it, nested calls included): there the first lookup of a store reads it and the later
lookups of the block use it. A tool call's queries see no fixed snapshot either way (a load
may read rows inserted after the version was read, and is then kept under the older version,
which no later lookup outside the block sees again: part names are never reused).
"""

from __future__ import annotations

import json
import threading
import weakref
from collections import OrderedDict
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterator, TypeVar

from netra.persistence.analytics import AnalyticsStore

# every active part of the events, with a checksum of its files
VERSION_SQL = """SELECT arrayStringConcat(arraySort(groupArray(concat(name, '/', toString(hash_of_all_files)))), ',')
FROM system.parts WHERE database = currentDatabase() AND table = 'workload_events' AND active"""
KEPT = 2  # entries per store and kind: a run replays one or two scopes
KEPT_OF = {"joint_pairs": 32}  # kinds that keep more (module docstring)
BUDGET = 1 << 30  # bytes per store and kind, of the values that tell their size (`nbytes`)

T = TypeVar("T")
R = TypeVar("R")
# the data versions read within the current `pinned()` block, by store id (None: outside any block)
_PINNED: ContextVar[dict[int, str] | None] = ContextVar("memo_pinned_versions", default=None)


@contextmanager
def pinned() -> Iterator[None]:
    """Read each store's data version once for the memo lookups of this block (an enclosing block's kept)."""
    token = _PINNED.set(_PINNED.get() if _PINNED.get() is not None else {})
    try:
        yield
    finally:
        _PINNED.reset(token)


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

    @property
    def nbytes(self) -> int:
        """Return the size of the value when it tells it (`nbytes`), else 0."""
        return int(getattr(self.value, "nbytes", 0) or 0)


class Memo(Generic[T]):
    """The last loads of one store and kind, by query and data version (the store is only referenced weakly)."""

    def __init__(self, store: AnalyticsStore, kind: str = "replay") -> None:
        self.store, self.lock, self.most = weakref.ref(store), threading.Lock(), KEPT_OF.get(kind, KEPT)
        self.entries: OrderedDict[str, Entry[T]] = OrderedDict()

    def get(self, loaded: Loaded, load: Callable[[], T], covers: Callable[[Loaded], bool] | None = None) -> T:
        """Return the entry of `loaded` at the store's current version, loading it when absent.

        `covers(kept)` may accept a kept load of the same version instead (one that read more).
        """
        version = self.version()
        with self.lock:
            return self._get(version, loaded, load, covers)

    def compose(self, build: Callable[[Kept[T]], R]) -> R:
        """Return what `build` makes of the loads kept at the store's current version (it may load and keep more).

        The lock is held meanwhile, so concurrent callers wait and then find what it kept.
        """
        version = self.version()
        with self.lock:
            return build(Kept(self, version))

    def version(self) -> str:
        """Return the store's current data version (module docstring): the pinned one within `pinned()`."""
        store, pins = self.store(), _PINNED.get()
        if pins is None:
            return str(store.scalar(VERSION_SQL))
        if id(store) not in pins:
            pins[id(store)] = str(store.scalar(VERSION_SQL))
        return pins[id(store)]

    def _get(self, version: str, loaded: Loaded, load: Callable[[], T],
             covers: Callable[[Loaded], bool] | None) -> T:
        """Return the entry of `loaded` (or one `covers` accepts) at `version`, loading it when absent (lock held)."""
        key = self._covering(version, covers) or loaded.key(version)
        entry = self.entries.pop(key) if key in self.entries else Entry(loaded, version, load())
        self._keep(key, entry)
        return entry.value

    def _keep(self, key: str, entry: Entry[T]) -> None:
        """Keep `entry` as the newest (last); drop the oldest beyond the count or the byte budget."""
        self.entries[key] = entry
        while len(self.entries) > 1 and (len(self.entries) > self.most or self.nbytes > BUDGET):
            self.entries.popitem(last=False)

    @property
    def nbytes(self) -> int:
        """Return the size of the kept values that tell it."""
        return sum(entry.nbytes for entry in self.entries.values())

    def _covering(self, version: str, covers: Callable[[Loaded], bool] | None) -> str | None:
        """Return the key of a kept load of `version` that `covers` accepts, if any."""
        found = (k for k, e in self.entries.items() if e.version == version and covers and covers(e.loaded))
        return next(found, None)

    def clear(self) -> None:
        """Forget every entry (benchmarks time cold loads this way)."""
        with self.lock:
            self.entries.clear()


@dataclass(frozen=True)
class Kept(Generic[T]):
    """The loads of one memo at one data version, as `Memo.compose` hands them to its builder (lock held)."""

    memo: Memo[T]
    version: str

    def entries(self) -> list[Entry[T]]:
        """Return the kept entries of this version, newest first."""
        return [e for e in reversed(self.memo.entries.values()) if e.version == self.version]

    def get(self, loaded: Loaded, load: Callable[[], T]) -> T:
        """Return the entry of `loaded` (now the newest), loading and keeping it when absent."""
        return self.memo._get(self.version, loaded, load, None)


_MEMOS: dict[tuple[int, str], Memo[Any]] = {}
_MEMOS_LOCK = threading.Lock()


def memo_of(store: AnalyticsStore, kind: str = "replay") -> Memo[Any]:
    """Return the memo of one kind of load of `store` (dropped when the store object is collected)."""
    key = (id(store), kind)
    with _MEMOS_LOCK:
        if key not in _MEMOS:
            _MEMOS[key] = Memo(store, kind)
            weakref.finalize(store, _MEMOS.pop, key, None)
        return _MEMOS[key]


def forget(store: AnalyticsStore) -> None:
    """Empty every memo of `store` (benchmarks time cold analyses this way)."""
    with _MEMOS_LOCK:
        memos = [memo for (owner, _), memo in _MEMOS.items() if owner == id(store)]
    for memo in memos:
        memo.clear()
