"""What the CLI commands do, apart from parsing: data set-up, runs, reports, tools.

The embedded CLI acts in the `local` workspace: it generates, replaces, analyses and asks
about that workspace's events only (a ClickHouse server shared with other workspaces keeps
theirs).
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
from netra.persistence.analytics import open_store
from netra.report.usage import usage_line
from netra.tenancy import LOCAL_WORKSPACE
from netra.workloads.catalog import load_catalog
from netra.workloads.synthetic import check_arguments, generate_and_load, write_manifest


def _store():
    return open_store(get_settings().resolved_clickhouse_url())


def generate_into_store(console: Console, scenario: str, events: int, seed: int, days: float,
                        append: bool = False) -> dict[str, Any]:
    """Generate a scenario into the store (replacing its events unless `append`); write the manifest."""
    store, started = _replaceable_store(scenario, events, days, append), time.perf_counter()
    manifest = generate_and_load(store, load_catalog(), scenario, events, seed, days, progress=_loaded(console))
    path = write_manifest(manifest, get_settings().home / "manifests" / f"{scenario}-{seed}.json")
    console.print(f"generated {events:,} {scenario} events in {time.perf_counter() - started:.1f} s; manifest {path}")
    return manifest


def _replaceable_store(scenario: str, events: int, days: float, append: bool):
    """Return the store, its `local` events deleted unless `append`, once the arguments are known good."""
    check_arguments(scenario, events, days)
    store = _store()
    if not append:
        store.delete_workspace(LOCAL_WORKSPACE)
    return store


def _loaded(console: Console):
    return lambda done, total: console.print(f"  loaded {done:,}/{total:,} events")


def ensure_demo_data(console: Console, events: int | None) -> None:
    """Generate the `mixed` scenario when the `local` workspace has no events."""
    settings = get_settings()
    if _store().count(LOCAL_WORKSPACE) == 0:
        console.print("[bold]The store is empty: generating the `mixed` workload[/]")
        generate_into_store(console, "mixed", events or settings.demo_events, settings.demo_seed, 14.0)


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


def run_tool(name: str, args: dict[str, Any]) -> dict[str, Any]:
    """Run one Apex tool on the current store; return its result as JSON-able data."""
    from netra.tools import ToolContext, ToolDispatcher

    ctx = ToolContext(_store(), load_catalog(), workspace_id=LOCAL_WORKSPACE)
    return ToolDispatcher(ctx).run(name, args).model_dump(mode="json")
