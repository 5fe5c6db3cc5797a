"""What the agents need at run time: store, catalog, settings, hooks, retry policy, model.

`llm` is the chat model (None offline: rules and templates); `deps_from_settings` builds
it with `netra.llm.chat_model`, the server passes its own with the app's LLM cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel

from netra.config import Settings, get_settings
from netra.graph.hooks import Hooks, RetrySettings, emit, streaming_hooks
from netra.llm.factory import chat_model
from netra.persistence.analytics import AnalyticsStore, open_store
from netra.persistence.cache import Cache, open_cache
from netra.tools import ToolContext, ToolDispatcher
from netra.workloads.catalog import PriceCatalog, load_catalog


@dataclass
class Deps:
    """Run-time dependencies shared by every node of one compiled graph."""

    store: AnalyticsStore
    catalog: PriceCatalog
    settings: Settings
    hooks: Hooks = field(default_factory=streaming_hooks)
    retry: RetrySettings = field(default_factory=RetrySettings)
    cache: Cache | None = None
    llm: BaseChatModel | None = None

    def dispatcher(self) -> ToolDispatcher:
        """Return a dispatcher whose calls and results go to the run's progress stream."""
        return ToolDispatcher(ToolContext(self.store, self.catalog, self.cache), listener=emit)


def deps_from_settings(settings: Settings | None = None) -> Deps:
    """Build the default dependencies from settings (opens the analytics store and the model)."""
    settings = settings or get_settings()
    retry = RetrySettings(max(1, settings.agent_max_attempts), settings.agent_backoff_s)
    store, cache = open_store(settings.resolved_clickhouse_url()), open_cache(settings.redis_url)
    return Deps(store=store, catalog=load_catalog(), settings=settings, retry=retry, cache=cache,
                llm=chat_model(settings))
