"""Ground truth: the cost of the generated events and the saving of each planted issue.

Every figure is computed from the plan's token columns by the one pricing function
(`pricing.price_events`, as ingest prices the events), following the formulas of
`docs/scenarios.md`: a saving changes the affected rows' columns (another model, cache reads,
a capped output, the Batch API) and prices them again. Windows scale to a 30-day month by
`30 / span_days`, `span_days` being the time between the first and the last event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import numpy as np

from netra.workloads.catalog import PriceCatalog
from netra.workloads.pricing import TOKEN_COLUMNS, price_events
from netra.workloads.synthetic import specs
from netra.workloads.synthetic.plan import Plan
from netra.workloads.synthetic.rows import Columns, code

_DAY_MS = 86_400_000
_MODELS = np.array([spec.model for spec in specs.FEATURES.values()], dtype=object)
_STATUS = np.array(specs.STATUS, dtype=object)


def events(columns: Columns, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Return plan rows (default: all) as the event columns `price_events` reads (the generator never batches)."""
    take = {k: v if rows is None else v[rows] for k, v in columns.items() if k in (*TOKEN_COLUMNS, "feature", "status")}
    return {**{k: v for k, v in take.items() if k in TOKEN_COLUMNS}, "model": _MODELS[take["feature"]],
            "status": _STATUS[take["status"]], "is_batch": np.zeros(len(take["feature"]), np.uint8)}


def cost(catalog: PriceCatalog, event_columns: dict[str, np.ndarray], **changed: np.ndarray) -> np.ndarray:
    """Return every event's cost, priced as ingest prices it, with the `changed` columns replaced."""
    return price_events(catalog, {**event_columns, **changed}).cost


@dataclass(frozen=True)
class Affected:
    """The rows of one planted feature and what a saving needs to price them."""

    columns: Columns
    rows: np.ndarray
    spec: specs.FeatureSpec
    catalog: PriceCatalog

    def events(self, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Return the event columns of `rows` (default: every affected row)."""
        return events(self.columns, self.rows if rows is None else rows)

    def saving(self, rows: np.ndarray | None = None, **changed: np.ndarray) -> float:
        """Return the cost of `rows` (default: every affected row) minus their cost with `changed` columns."""
        before = self.events(rows)
        return float((cost(self.catalog, before) - cost(self.catalog, before, **changed)).sum())


def row_costs(columns: Columns, catalog: PriceCatalog) -> np.ndarray:
    """Return the cost of every row, priced as ingest prices the generated events."""
    return cost(catalog, events(columns))


def _route(a: Affected) -> tuple[int, float, dict]:
    """Same tokens on the cheaper model."""
    target = specs.FIXES["premium_on_simple"]["target_model"]
    return len(a.rows), a.saving(model=np.full(len(a.rows), target, dtype=object)), {}


def _cache(a: Affected) -> tuple[int, float, dict]:
    """Hits read the prefix from cache; each prompt's first occurrence writes it."""
    served = a.rows[a.columns["status"][a.rows] == code("status", "ok")]
    prompts, first = np.unique(a.columns["prompt"][served], return_index=True)
    size = a.spec.prefix_tokens
    writes = np.zeros(len(served), np.int64)
    writes[first] = size
    saving = a.saving(served, cached_input_tokens=size - writes, cache_write_tokens=writes)
    return len(a.rows), saving, {"prompts": len(prompts), "prefix_tokens": size}


def _max_tokens(a: Affected) -> tuple[int, float, dict]:
    """Output past the cap is never produced."""
    capped = np.minimum(a.columns["output_tokens"][a.rows], specs.OVERSIZED_CAP)
    return len(a.rows), a.saving(output_tokens=capped), {}


def _retry(a: Affected) -> tuple[int, float, dict]:
    """Failed attempts that were retried are not paid for."""
    failed = a.rows[a.columns["retried"][a.rows]]
    return len(failed), float(cost(a.catalog, a.events(failed)).sum()), {}


def _batch(a: Affected) -> tuple[int, float, dict]:
    """The same requests at batch prices."""
    return len(a.rows), a.saving(is_batch=np.ones(len(a.rows), np.uint8)), {}


SAVINGS: dict[str, Callable[[Affected], tuple[int, float, dict]]] = {
    "premium_on_simple": _route, "uncached_prefix": _cache, "oversized_max_tokens": _max_tokens,
    "retry_storm": _retry, "batchable_offline": _batch}


def span_days(columns: Columns, days: float) -> float:
    """Return days between the first and last event (`days` when they coincide)."""
    span = float(columns["ts"][-1] - columns["ts"][0]) / _DAY_MS
    return span if span > 0 else days


def _iso(ts_ms: int) -> str:
    moment = specs.START + timedelta(milliseconds=int(ts_ms))
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _inefficiency(plan: Plan, catalog: PriceCatalog, feature: int, span: float) -> dict:
    name, spec = specs.FEATURE_NAMES[feature], list(specs.FEATURES.values())[feature]
    rows = np.flatnonzero(plan.columns["feature"] == feature)
    affected, window, fix = SAVINGS[spec.kind](Affected(plan.columns, rows, spec, catalog))
    return {"kind": spec.kind, "feature": name, "model": spec.model, "affected_events": affected,
            "window_saving_usd": window, "monthly_saving_usd": window * 30.0 / span,
            "fix": {**specs.FIXES[spec.kind], **fix}}


def build_manifest(plan: Plan, catalog: PriceCatalog) -> dict:
    """Return the ground-truth manifest of `plan` (costs and planted savings)."""
    c, span = plan.columns, span_days(plan.columns, plan.days)
    counts = np.bincount(c["feature"], minlength=len(specs.FEATURE_NAMES))
    total = float(row_costs(c, catalog).sum())
    planted = [f for f, spec in enumerate(specs.FEATURES.values()) if spec.kind and counts[f]]
    return {**_header(plan, catalog, span), "total_cost_usd": total, "monthly_cost_usd": total * 30.0 / span,
            "features": {specs.FEATURE_NAMES[f]: int(n) for f, n in enumerate(counts) if n},
            "inefficiencies": [_inefficiency(plan, catalog, f, span) for f in planted]}


def _header(plan: Plan, catalog: PriceCatalog, span: float) -> dict:
    ts = plan.columns["ts"]
    return {"scenario": plan.scenario, "seed": plan.seed, "events": plan.events, "days": plan.days,
            "start": _iso(ts[0]), "end": _iso(ts[-1]), "span_days": span,
            "catalog_version": catalog.version}
