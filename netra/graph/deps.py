"""What the agents need at run time: store, catalog, settings, hooks, retry policy, model.

`llm` is the chat model (None offline: rules and templates); `deps_from_settings` builds
it with `netra.llm.chat_model`, the server passes its own with the app's LLM cache.
`workspace_id` is the workspace whose events the agents read: `local` for the embedded CLI,
the run's workspace on the server (`AppResources.deps(workspace_id)`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel

from netra.config import Settings, get_settings
from netra.graph.hooks import Hooks, RetrySettings, emit, streaming_hooks
from netra.llm.factory import chat_model
from netra.persistence.analytics import AnalyticsStore, open_store
from netra.persistence.cache import Cache, open_cache
from netra.tenancy import LOCAL_WORKSPACE, required
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
    workspace_id: str = LOCAL_WORKSPACE

    def dispatcher(self) -> ToolDispatcher:
        """Return a dispatcher over the run's workspace whose calls and results go to the progress stream."""
        ctx = ToolContext(self.store, self.catalog, self.cache, workspace_id=self.workspace_id)
        return ToolDispatcher(ctx, listener=emit)

    def in_workspace(self) -> dict[str, str]:
        """Return the bound parameter `{workspace_id:String}` of a node's own query of the events."""
        return {"workspace_id": required(self.workspace_id, "an agent's query")}


def deps_from_settings(settings: Settings | None = None) -> Deps:
    """Build the default dependencies from settings (opens the analytics store and the model)."""
    settings = settings or get_settings()
    retry = RetrySettings(max(1, settings.agent_max_attempts), settings.agent_backoff_s)
    store, cache = open_store(settings.resolved_clickhouse_url()), open_cache(settings.redis_url)
    return Deps(store=store, catalog=load_catalog(), settings=settings, retry=retry, cache=cache,
                llm=chat_model(settings))
