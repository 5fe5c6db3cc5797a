"""`netra tools list|run`: the Apex tools, on the `local` workspace's events (no graph, no server)."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

from netra.cli.generate import local_store
from netra.errors import UserInputError
from netra.tenancy import LOCAL_WORKSPACE
from netra.tools import ToolContext, ToolDispatcher, ToolRegistry
from netra.workloads.catalog import load_catalog


def list_tools(console: Console) -> None:
    """Print each tool's name, family and description."""
    for spec in ToolRegistry().specs():
        console.print(f"[bold]{spec.name}[/] [dim]({spec.family})[/] {spec.description}")


def run_tool(name: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run one Apex tool on the current store; return its result as JSON-able data."""
    ctx = ToolContext(local_store(), load_catalog(), workspace_id=LOCAL_WORKSPACE)
    return ToolDispatcher(ctx).run(name, args).model_dump(mode="json")


def json_args(text: str) -> dict:
    """Parse `--args`: a JSON object, else `UserInputError` (exit 2)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserInputError(f"--args is not valid JSON: {exc.msg} at position {exc.pos}") from exc
    if not isinstance(value, dict):
        raise UserInputError("--args must be a JSON object, e.g. '{\"feature\": \"chat\"}'")
    return value
