"""Slow statements of the records database, kept in the process for the monitoring endpoint.

    log = watch(engine, settings.slow_query_ms)   # in AppResources.start(); idempotent per engine
    log_of(engine).snapshot()
    # {"threshold_ms": 200.0, "seen": 1234, "slow": 3,
    #  "slowest": [{"statement": "SELECT ... WHERE users.id = ?", "duration_ms": 251.3, "at": "2025-..."}]}

`watch` hooks SQLAlchemy's `before_cursor_execute` / `after_cursor_execute` events of the
async engine's `sync_engine`. Every statement is counted; one that took at least the
threshold is kept in a bounded deque (the `MAX_SLOW` most recent). Only the statement text
with its bound-parameter placeholders (`?`, `%(name)s`) is kept — never the parameter values,
which can be user data.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

MAX_SLOW = 100
MAX_STATEMENT_CHARS = 2000
_STARTED = "netra_querylog_started"


@dataclass
class QueryLog:
    """Counts of statements seen and the recent slow ones of one engine (thread-safe)."""

    threshold_ms: float
    seen: int = 0
    slow: int = 0
    recent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_SLOW))
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, statement: str, duration_ms: float) -> None:
        """Count one statement; keep it when it took at least the threshold."""
        with self.lock:
            self.seen += 1
            if duration_ms >= self.threshold_ms:
                self.slow += 1
                self.recent.append(slow_entry(statement, duration_ms))

    def snapshot(self) -> dict[str, Any]:
        """Return the threshold, the counts and the kept statements, slowest first."""
        with self.lock:
            slowest = sorted(self.recent, key=lambda entry: entry["duration_ms"], reverse=True)
            return {"threshold_ms": self.threshold_ms, "seen": self.seen, "slow": self.slow,
                    "slowest": [dict(entry) for entry in slowest]}


def slow_entry(statement: str, duration_ms: float) -> dict[str, Any]:
    """Return what is kept of a slow statement: its text (placeholders only), duration and time."""
    return {"statement": " ".join(statement.split())[:MAX_STATEMENT_CHARS],
            "duration_ms": round(duration_ms, 3), "at": datetime.now(timezone.utc).isoformat()}


_LOGS: weakref.WeakKeyDictionary[Any, QueryLog] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    """Note when the statement started (on the connection: one statement at a time runs on it)."""
    conn.info[_STARTED] = time.perf_counter()


def _after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    """Record the statement's text and duration; the parameters are never read."""
    started = conn.info.pop(_STARTED, None)
    log = _LOGS.get(conn.engine)
    if started is not None and log is not None:
        log.record(statement, (time.perf_counter() - started) * 1000)


def _attach(sync_engine: Any, threshold_ms: float) -> QueryLog:
    """Create the engine's log and hook its cursor events (the caller holds `_LOCK`)."""
    log = _LOGS[sync_engine] = QueryLog(threshold_ms)
    event.listen(sync_engine, "before_cursor_execute", _before)
    event.listen(sync_engine, "after_cursor_execute", _after)
    return log


def watch(engine: AsyncEngine, threshold_ms: float) -> QueryLog:
    """Start logging the engine's statements (once per engine; a second call sets the threshold)."""
    with _LOCK:
        log = _LOGS.get(engine.sync_engine) or _attach(engine.sync_engine, threshold_ms)
        log.threshold_ms = threshold_ms
    return log


def log_of(engine: AsyncEngine | None) -> QueryLog | None:
    """Return the log of a watched engine, or None."""
    return None if engine is None else _LOGS.get(engine.sync_engine)
