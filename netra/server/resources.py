"""What the app holds between requests (`app.state.resources`), opened by the lifespan.

    resources = AppResources(settings)
    await resources.start()                          # migrations, pools, the run engine, recovery
    async with resources.uow(owner.workspace_id) as uow: ...     # the records, in one workspace
    handle = await resources.runs.submit(owner, Ask(question="Cut spend?"))

`start()` migrates the records database to head and opens its async engine (pool sizes from
settings), then the run engine: the run event log, the graph-stream log and the run manager
(`netra.server.runs`), and takes over the runs a dead process left. The analytics store,
price catalog and checkpointer open on first use (tests hand a store and catalog in). Caches
(`Caches`): tool results (`netra:` keys) and LLM responses (`cache:llm:{hash}`) — in Redis
when NETRA_REDIS_URL is set, in the process otherwise (sign-outs are not cached: they live in
the records database, `token_revocations`). `close()` disposes of all of it; both are
idempotent, and `start()` also runs lazily when an app is served without its lifespan.
The run engine imports nothing of this module at run time: it reads the pools it needs
through its own protocol (`runs.pools.Pools`), which this class satisfies.
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import ExitStack
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from netra.config import Settings
from netra.errors import ServiceError
from netra.graph.deps import Deps
from netra.graph.hooks import RetrySettings
from netra.llm import chat_model
from netra.llm.cache import LLMCache
from netra.persistence import querylog
from netra.persistence.analytics import AnalyticsStore, open_store
from netra.persistence.cache import Cache, open_cache
from netra.persistence.checkpoint import open_checkpointer
from netra.persistence.db import create_engine_from_settings, make_session_factory
from netra.persistence.uow import UnitOfWork
from netra.server.auth.records import ensure_schema
from netra.server.runs import EventLog, RunEngine, RunManager
from netra.tenancy import required
from netra.workloads.catalog import PriceCatalog, load_catalog

Job = dict[str, object]  # a background job's JSON state (netra.server.routes.synthetic)


@dataclass
class Caches:
    """The tool-result and LLM-response caches of an app, and its chat model (built once, None offline)."""

    tool_cache: Cache
    llm_cache: LLMCache
    chat_model: BaseChatModel | None = None
    chat_built: bool = False  # the chat model is built once (None offline)

    @classmethod
    def of(cls, settings: Settings) -> Caches:
        """Return the caches of the settings (Redis when NETRA_REDIS_URL is set)."""
        url = settings.redis_url
        return cls(open_cache(url, name="tools"),
                   LLMCache(open_cache(url, name="llm", prefix=""), ttl_s=settings.llm_cache_ttl_s))


@dataclass
class AppResources:
    """Pools and shared objects of one app."""

    settings: Settings
    store: AnalyticsStore | None = None
    catalog: PriceCatalog | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    engine: AsyncEngine | None = None
    session_factory: async_sessionmaker[AsyncSession] | None = None
    caches: Caches | None = None
    jobs: dict[str, Job] = field(default_factory=dict)
    run_engine: RunEngine | None = None
    _saver: BaseCheckpointSaver | None = None
    _exits: ExitStack = field(default_factory=ExitStack)
    _starting: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def start(self) -> None:
        """Migrate the records database, open its engine, then the run engine (recovering runs, once)."""
        async with self._starting:
            if self.session_factory is None:
                await self._open_records()
                self.run_engine = RunEngine.of(self)
                await self.run_engine.recover()

    async def _open_records(self) -> None:
        await ensure_schema(self.settings)
        self.caches = self.caches or Caches.of(self.settings)
        await asyncio.to_thread(self.checkpointer)  # set up before any request holds a transaction
        self.engine = create_engine_from_settings(self.settings)
        querylog.watch(self.engine, self.settings.slow_query_ms)
        self.session_factory = make_session_factory(self.engine)

    async def close(self) -> None:
        """Stop the run engine (unfinished runs stay for recovery), dispose of the engine, close the rest."""
        if self.run_engine is not None:
            await self.run_engine.close()
        if self.engine is not None:
            await self.engine.dispose()
        self.engine = self.session_factory = self._saver = self.run_engine = None
        self._exits.close()

    def uow(self, workspace_id: str | None = None) -> UnitOfWork:
        """Return a unit of work over the records database (in `workspace_id`; none: unscoped, workers only)."""
        if self.session_factory is None:
            raise ServiceError("the app's resources are not started: the records database is not open")
        return UnitOfWork(self.session_factory, workspace_id=workspace_id)

    def engine_of(self) -> RunEngine:
        """Return the run engine (ServiceError before `start()`)."""
        if self.run_engine is None:
            raise ServiceError("the app's resources are not started: the run engine is not open")
        return self.run_engine

    @property
    def runs(self) -> RunManager:
        """The run manager of the engine."""
        return self.engine_of().manager

    @property
    def events(self) -> EventLog:
        """The run event log (client events) of the engine."""
        return self.engine_of().events

    @property
    def streams(self) -> EventLog:
        """The runs' graph-stream log (the SSE API's records) of the engine."""
        return self.engine_of().streams

    def stream_log(self) -> EventLog | None:
        """Return the runs' graph-stream log, or None before the engine is open."""
        return None if self.run_engine is None else self.run_engine.streams

    def opened(self, settings: Settings | None = None) -> tuple[AnalyticsStore, PriceCatalog]:
        """Return the store and catalog, opening whichever was not handed in."""
        with self.lock:
            if self.store is None:
                self.store = open_store(self.settings.resolved_clickhouse_url())
            if self.catalog is None:
                self.catalog = load_catalog()
        return self.store, self.catalog

    def opened_caches(self) -> Caches:
        """Return the caches (opened on first use)."""
        if self.caches is None:
            self.caches = Caches.of(self.settings)
        return self.caches

    def cache(self, name: str) -> Cache | LLMCache:
        """Return the cache `tool_cache` or `llm_cache` (opened on first use)."""
        return getattr(self.opened_caches(), CACHE_NAMES[name])

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
        return Deps(store=store, catalog=catalog, settings=self.settings, retry=retry,
                    cache=self.opened_caches().tool_cache, llm=self.chat_model(),
                    workspace_id=required(workspace_id, "an agent run"))

    def chat_model(self) -> BaseChatModel | None:
        """Return the app's chat model (built once, sharing the LLM cache), or None offline."""
        caches = self.opened_caches()
        with self.lock:
            if not caches.chat_built:
                caches.chat_model, caches.chat_built = chat_model(self.settings, cache=caches.llm_cache), True
        return caches.chat_model


CACHE_NAMES = {"tool_cache": "tool_cache", "llm_cache": "llm_cache"}  # a cache's name -> its field
