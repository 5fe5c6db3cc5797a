"""Entry point for `langgraph dev` / LangGraph Studio (see langgraph.json).

Studio brings its own checkpointer, so the graph is compiled without one. The server
calls this factory on its event loop for every request, so the graph is built once,
in a worker thread (opening the store touches the disk, which the loop must not wait on).
"""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any

from netra.graph.deps import deps_from_settings
from netra.graph.topology import build_graph


@lru_cache(maxsize=1)
def _compiled():
    """Build the graph once per server process (opens the store, reads the catalog)."""
    return build_graph(deps_from_settings()).compile()


async def make_graph(config: dict[str, Any] | None = None):
    """Return the compiled Netra graph over the store NETRA_CLICKHOUSE_URL names."""
    return await asyncio.to_thread(_compiled)
