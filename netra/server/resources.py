"""What the app holds between requests (`app.state.resources`), opened by the lifespan.

`start()` migrates the records database to head and opens its async engine (pool sizes from
settings); the analytics store, price catalog and checkpointer open on first use (tests hand
a store and catalog in). Caches: tool results (`netra:` keys) and LLM responses
(`cache:llm:{hash}`) — in Redis when NETRA_REDIS_URL is set, in the process otherwise
(sign-outs are not cached: they live in the records database, `token_revocations`).
`close()` disposes of all of it; both are idempotent, and `start()` also runs lazily when an
app is served without its lifespan.
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from netra.config import Settings
from netra.graph.deps import Deps
from netra.graph.hooks import RetrySettings
from netra.llm import chat_model
from netra.llm.cache import LLMCache
from netra.persistence import querylog
from netra.persistence.analytics import AnalyticsStore, open_store
from netra.persistence.cache import Cache, open_cache
from netra.persistence.checkpoint import open_checkpointer
from netra.persistence.db import create_engine_from_settings, make_session_factory
from netra.server.auth.records import ensure_schema
from netra.tenancy import required
from netra.workloads.catalog import PriceCatalog, load_catalog


def _caches(settings: Settings) -> dict[str, Any]:
    """Return the tool-result and LLM-response caches of the settings."""
    url = settings.redis_url
    return {"tool_cache": open_cache(url, name="tools"),
            "llm_cache": LLMCache(open_cache(url, name="llm", prefix=""), ttl_s=settings.llm_cache_ttl_s)}


def _run_logs(settings: Settings) -> tuple[Any, Any]:
    """Return the run event log and the runs' graph-stream log (key namespace `stream`)."""
    from netra.server.runs.log import open_event_log
    from netra.server.sse.graph_stream import open_stream_log

    return open_event_log(settings), open_stream_log(settings)


@dataclass
class AppResources:
    """Pools and shared objects of one app."""

    settings: Settings
    store: AnalyticsStore | None = None
    catalog: PriceCatalog | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    engine: AsyncEngine | None = None
    session_factory: async_sessionmaker[AsyncSession] | None = None
    caches: dict[str, Any] = field(default_factory=dict)
    jobs: dict[str, Any] = field(default_factory=dict)
    runs: Any = None  # the RunManager (netra.server.runs.manager), set by the lifespan
    events: Any = None  # the run EventLog (netra.server.runs.log), set by the lifespan
    streams: Any = None  # the runs' graph-stream EventLog (netra.server.sse.graph_stream), set by the lifespan
    _saver: BaseCheckpointSaver | None = None
    _exits: ExitStack = field(default_factory=ExitStack)
    _starting: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def start(self) -> None:
        """Migrate the records database, open its engine, the run log and manager; recover runs (once)."""
        async with self._starting:
            if self.session_factory is None:
                await self._open_records()
                await self._open_runs()

    async def _open_records(self) -> None:
        await ensure_schema(self.settings)
        self.caches = self.caches or _caches(self.settings)
        await asyncio.to_thread(self.checkpointer)  # set up before any request holds a transaction
        self.engine = create_engine_from_settings(self.settings)
        querylog.watch(self.engine, self.settings.slow_query_ms)
        self.session_factory = make_session_factory(self.engine)

    async def _open_runs(self) -> None:
        """Open the event log and run manager; take over runs a dead process left, now and every 15 s."""
        from netra.server.runs.manager import RunManager
        from netra.server.runs.recovery import keep_recovering, recover

        self.events, self.streams = _run_logs(self.settings)
        self.runs = RunManager(self, self.events)
        await recover(self, self.runs)
        self.runs.spawn(keep_recovering(self, self.runs))

    async def close(self) -> None:
        """Stop the run manager (unfinished runs stay for recovery), dispose of the engine, close the rest."""
        if self.runs is not None:
            await self.runs.shutdown()
            await asyncio.gather(self.events.aclose(), self.streams.aclose())
        if self.engine is not None:
            await self.engine.dispose()
        self.engine = self.session_factory = self._saver = self.runs = self.events = self.streams = None
        self._exits.close()

    def opened(self, settings: Settings | None = None) -> tuple[AnalyticsStore, PriceCatalog]:
        """Return the store and catalog, opening whichever was not handed in."""
        with self.lock:
            if self.store is None:
                self.store = open_store(self.settings.resolved_clickhouse_url())
            if self.catalog is None:
                self.catalog = load_catalog()
        return self.store, self.catalog

    def cache(self, name: str) -> Any:
        """Return the cache `tool_cache` or `llm_cache` (opened on first use)."""
        if not self.caches:
            self.caches = _caches(self.settings)
        return self.caches[name]

    def checkpointer(self) -> BaseCheckpointSaver:
        """Return the checkpointer of the records database (opened and set up once)."""
        with self.lock:
            if self._saver is None:
                self._saver = self._exits.enter_context(open_checkpointer(self.settings.resolved_database_url()))
        return self._saver

    def deps(self, workspace_id: str) -> Deps:
        """Return the agents' run-time dependencies over the app's store, catalog and caches, in `workspace_id`."""
        store, catalog = self.opened()
        retry = RetrySettings(max(1, self.settings.agent_max_attempts), self.settings.agent_backoff_s)
        tool_cache: Cache = self.cache("tool_cache")
        return Deps(store=store, catalog=catalog, settings=self.settings, retry=retry, cache=tool_cache,
                    llm=self.chat_model(), workspace_id=required(workspace_id, "an agent run"))

    def chat_model(self) -> Any:
        """Return the app's chat model (built once, sharing the LLM cache), or None offline."""
        with self.lock:
            if "chat_model" not in self.caches:
                self.caches["chat_model"] = chat_model(self.settings, cache=self.cache("llm_cache"))
        return self.caches["chat_model"]
