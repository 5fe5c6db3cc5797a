"""Generate a synthetic workload (events and ground-truth manifest), or load one in chunks."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pyarrow as pa

from netra.errors import ScenarioNotFoundError, UserInputError
from netra.persistence.analytics import AnalyticsStore
from netra.tenancy import LOCAL_WORKSPACE
from netra.workloads.catalog import PriceCatalog, load_catalog
from netra.workloads.pricing import price_table
from netra.workloads.synthetic.plan import Plan, build_plan
from netra.workloads.synthetic.specs import SCENARIOS
from netra.workloads.synthetic.table import chunk_table
from netra.workloads.synthetic.truth import build_manifest

Progress = Callable[[int, int], None]


@dataclass
class Workload:
    """Generated events (all schema columns, priced) and their ground-truth manifest."""

    table: pa.Table
    manifest: dict


def check_arguments(scenario: str, events: int, days: float, chunk: int = 1) -> None:
    """Raise `UserInputError` (or its `ScenarioNotFoundError`) for arguments it cannot use."""
    if scenario not in SCENARIOS:
        raise ScenarioNotFoundError(f"unknown scenario {scenario!r}; valid: {', '.join(SCENARIOS)}")
    if int(events) != events or events < 1 or int(chunk) != chunk or chunk < 1:
        raise UserInputError(f"events ({events}) and chunk ({chunk}) must be whole numbers >= 1")
    if not (math.isfinite(days) and days > 0):
        raise UserInputError(f"days must be a positive number of days, got {days}")


def _plan(scenario: str, events: int, seed: int, days: float, chunk: int = 1) -> Plan:
    check_arguments(scenario, events, days, chunk)
    return build_plan(scenario, int(events), int(seed), float(days))


def generate(scenario: str, events: int, seed: int, days: float = 14.0,
             catalog: PriceCatalog | None = None) -> Workload:
    """Generate `events` events of `scenario` over `days` days, priced, with their manifest.

    Args:
        scenario: One of `SCENARIOS`.
        events: How many events (rows) to make, at least 1.
        seed: Fixes every random draw: the same arguments give the same events.
        days: Length of the window starting 2026-03-02T00:00Z.
        catalog: Prices for `cost_usd` and the manifest (default: the packaged catalog).

    Raises:
        ScenarioNotFoundError: `scenario` is not one of `SCENARIOS`.
        UserInputError: `events` < 1 or `days` <= 0.
    """
    catalog = catalog or load_catalog()
    plan = _plan(scenario, events, seed, days)
    table, _ = price_table(catalog, chunk_table(plan, 0, plan.events, catalog))
    return Workload(table, build_manifest(plan, catalog))


def generate_and_load(store: AnalyticsStore, catalog: PriceCatalog | None, scenario: str, events: int,
                      seed: int, days: float = 14.0, chunk: int = 250_000,
                      progress: Progress | None = None, workspace_id: str = LOCAL_WORKSPACE) -> dict:
    """Generate a workload and insert it into `store` (in `workspace_id`) chunk by chunk; return its manifest.

    Only numeric columns exist for the whole workload; each chunk's Arrow table is built,
    priced and inserted on its own. Chunks are cut from one plan, so the events and the
    manifest equal those of `generate` with the same scenario, events, seed and days.
    `progress(loaded, total)` is called after each chunk.
    """
    plan = _plan(scenario, events, seed, days, chunk)
    target = _Target(store, catalog or load_catalog(), plan, progress, workspace_id)
    for start in range(0, plan.events, int(chunk)):
        target.load(start, min(start + int(chunk), plan.events))
    return build_manifest(plan, target.catalog)


@dataclass
class _Target:
    """Where a planned workload's chunks go: the store and workspace, priced with the catalog."""

    store: AnalyticsStore
    catalog: PriceCatalog
    plan: Plan
    progress: Progress | None
    workspace_id: str

    def load(self, start: int, stop: int) -> None:
        """Build, price and insert events [start, stop), then report progress."""
        table = price_table(self.catalog, chunk_table(self.plan, start, stop, self.catalog))[0]
        self.store.insert_events(table, self.workspace_id)
        if self.progress is not None:
            self.progress(stop, self.plan.events)


def write_manifest(manifest: dict, path: str | Path) -> Path:
    """Write `manifest` as indented JSON to `path` (parents created); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path
