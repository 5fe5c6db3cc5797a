"""`netra generate` and the data set-up of `netra demo`: synthetic workloads into the store.

The embedded CLI acts in the `local` workspace: it generates and replaces that workspace's
events only (a ClickHouse server shared with other workspaces keeps theirs). Only the store,
the catalog and the generator are imported here, never the graph.
"""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console

from netra.config import get_settings
from netra.persistence.analytics import open_store
from netra.tenancy import LOCAL_WORKSPACE
from netra.workloads.catalog import load_catalog
from netra.workloads.synthetic import check_arguments, generate_and_load, write_manifest


def local_store():
    """Open the analytics store the settings name (NETRA_CLICKHOUSE_URL, or chDB under NETRA_HOME)."""
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
    store = local_store()
    if not append:
        store.delete_workspace(LOCAL_WORKSPACE)
    return store


def _loaded(console: Console):
    return lambda done, total: console.print(f"  loaded {done:,}/{total:,} events")


def ensure_demo_data(console: Console, events: int | None) -> None:
    """Generate the `mixed` scenario when the `local` workspace has no events."""
    settings = get_settings()
    if local_store().count(LOCAL_WORKSPACE) == 0:
        console.print("[bold]The store is empty: generating the `mixed` workload[/]")
        generate_into_store(console, "mixed", events or settings.demo_events, settings.demo_seed, 14.0)
