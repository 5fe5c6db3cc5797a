"""`netra tools list|run`: the Apex tools, on the `local` workspace's events (no graph, no server).

`--args` is parsed by `netra.cli.tool_args` before this module is imported, and an unknown tool
is refused before the store is opened.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console

from netra.cli.generate import local_store
from netra.tenancy import LOCAL_WORKSPACE
from netra.tools import ToolContext, ToolDispatcher, ToolRegistry
from netra.workloads.catalog import load_catalog


def list_tools(console: Console) -> None:
    """Print each tool's name, family and description."""
    for spec in ToolRegistry().specs():
        console.print(f"[bold]{spec.name}[/] [dim]({spec.family})[/] {spec.description}")


def run_tool(name: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run one Apex tool on the current store; return its result as JSON-able data."""
    ToolRegistry().get(name)  # an unknown name fails here, as the dispatcher would, before the store opens
    ctx = ToolContext(local_store(), load_catalog(), workspace_id=LOCAL_WORKSPACE)
    return ToolDispatcher(ctx).run(name, args).model_dump(mode="json")
