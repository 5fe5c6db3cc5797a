"""Entry point for `langgraph dev` / LangGraph Studio (see langgraph.json).

Studio brings its own checkpointer, so this factory compiles the graph without one.
"""

from __future__ import annotations

from typing import Any

from netra.graph.deps import deps_from_settings
from netra.graph.topology import build_graph


def make_graph(config: dict[str, Any] | None = None):
    """Return the compiled Netra graph over the store NETRA_CLICKHOUSE_URL names."""
    return build_graph(deps_from_settings()).compile()
