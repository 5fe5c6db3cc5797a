"""Ground truth: the cost of the generated events and the saving of each planted issue.

Every figure is computed from the plan's token columns with the catalog's prices,
following the formulas of `docs/scenarios.md`; windows scale to a 30-day month by
`30 / span_days`, `span_days` being the time between the first and the last event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import numpy as np

from netra.workloads.catalog import PriceCatalog
from netra.workloads.pricing import cost_of, token_classes
from netra.workloads.synthetic import specs
from netra.workloads.synthetic.plan import Plan
from netra.workloads.synthetic.rows import Columns, code

_DAY_MS = 86_400_000


@dataclass(frozen=True)
class Affected:
    """The rows of one planted feature and what a saving needs to price them."""

    columns: Columns
    rows: np.ndarray
    spec: specs.FeatureSpec
    catalog: PriceCatalog

    def classes(self, rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Return the billable token classes of `rows` (default: every affected row)."""
        rows = self.rows if rows is None else rows
        return token_classes({k: v[rows] for k, v in self.columns.items()})

    def prices(self, batch: bool = False) -> dict[str, float]:
        """Return the unit prices of the feature's model."""
        return self.catalog.unit_prices(self.spec.model, batch)


def row_costs(columns: Columns, catalog: PriceCatalog) -> np.ndarray:
    """Return the standard-price cost of every row (the generator never sets is_batch)."""
    cost = np.zeros(len(columns["ts"]))
    for feature, spec in enumerate(specs.FEATURES.values()):
        rows = columns["feature"] == feature
        if rows.any():
            cost[rows] = cost_of(catalog, spec.model, token_classes(
                {k: v[rows] for k, v in columns.items()}), False)
    return cost


def _route(a: Affected) -> tuple[int, float, dict]:
    """Same tokens on the cheaper model."""
    classes, target = a.classes(), specs.FIXES["premium_on_simple"]["target_model"]
    saving = cost_of(a.catalog, a.spec.model, classes, False) - cost_of(a.catalog, target, classes, False)
    return len(a.rows), float(saving.sum()), {}


def _cache(a: Affected) -> tuple[int, float, dict]:
    """Hits read the prefix from cache; each prompt's first occurrence writes it."""
    served = a.rows[a.columns["status"][a.rows] == code("status", "ok")]
    prompts = len(np.unique(a.columns["prompt"][served]))
    p, size = a.prices(), a.spec.prefix_tokens
    saving = (len(served) - prompts) * size * (p["input"] - p["cache_read"])
    saving -= prompts * size * (p["cache_write"] - p["input"])
    return len(a.rows), float(saving), {"prompts": prompts, "prefix_tokens": size}


def _max_tokens(a: Affected) -> tuple[int, float, dict]:
    """Output past the cap is never produced."""
    over = np.maximum(a.columns["output_tokens"][a.rows] - specs.OVERSIZED_CAP, 0)
    return len(a.rows), float(over.sum() * a.prices()["output"]), {}


def _retry(a: Affected) -> tuple[int, float, dict]:
    """Failed attempts that were retried are not paid for."""
    failed = a.rows[a.columns["retried"][a.rows]]
    return len(failed), float(cost_of(a.catalog, a.spec.model, a.classes(failed), False).sum()), {}


def _batch(a: Affected) -> tuple[int, float, dict]:
    """The same requests at batch prices."""
    classes, model = a.classes(), a.spec.model
    saving = cost_of(a.catalog, model, classes, False) - cost_of(a.catalog, model, classes, True)
    return len(a.rows), float(saving.sum()), {}


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
