"""`netra ask` and the question half of `netra demo`: a run of the graph, its report on screen and on disk.

The embedded CLI acts in the `local` workspace: it asks about that workspace's events only
(a ClickHouse server shared with other workspaces keeps theirs). This module imports the
graph; data set-up is `netra.cli.generate`, the tools `netra.cli.tools`.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markdown import Markdown

from netra.cli.progress import Progress
from netra.config import get_settings
from netra.graph.deps import Deps, deps_from_settings
from netra.graph.runner import ask
from netra.llm.accounting import usage_workspace
from netra.report.usage import usage_line


def ask_and_report(console: Console, question: str, strategy: str | None, thread: str | None = None,
                   own_usage: bool = False) -> dict:
    """Run the question with live progress, print the report and write it under NETRA_HOME/reports.

    `own_usage` asks about Netra's own model calls (the usage workspace) instead of the team's events.
    """
    thread = thread or uuid.uuid4().hex[:12]
    console.print(f"[bold]Question:[/] {question}  [dim](thread {thread})[/]")
    state = ask(run_deps(own_usage), question, thread, strategy, on_event=Progress(console))
    show_report(console, state.get("report") or {})
    console.print(f"report written to {write_report(thread, state)}")
    return state


def run_deps(own_usage: bool) -> Deps:
    """Return the run's dependencies: in the `local` workspace, or in its usage workspace."""
    deps = deps_from_settings()
    return dataclasses.replace(deps, workspace_id=usage_workspace(deps.workspace_id)) if own_usage else deps


def show_report(console: Console, report: dict[str, Any]) -> None:
    """Print the report, then the run's model usage in one line (model mode)."""
    console.print(Markdown(report.get("markdown", "(no report)")))
    if report.get("usage"):
        console.print(usage_line(report["usage"]))


def write_report(thread: str, state: dict[str, Any]) -> Path:
    """Write the markdown report and its structured twin; return the markdown path."""
    folder = get_settings().reports_dir
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{thread}"
    stem.with_suffix(".md").write_text(state.get("report", {}).get("markdown", ""))
    keys = ("question", "request", "recommendations", "simulation", "actions", "report", "errors", "tool_calls")
    stem.with_suffix(".json").write_text(json.dumps({k: state.get(k) for k in keys}, indent=2, default=str))
    return stem.with_suffix(".md")
