"""Price events with the production function and with the reference, and compare.

    check_pricing(catalog, reference_catalog, events)   # asserts price_events == reference, per event
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np

from netra.workloads.catalog import PriceCatalog
from netra.workloads.pricing import price_events
from netra.evals.reference import ReferenceCatalog

REL = 1e-9  # the largest relative difference of one event's cost
# pricing column -> its value when an event does not give it
PRICING_DEFAULTS = {"model": "", "input_tokens": 0, "cached_input_tokens": 0, "cache_write_tokens": 0,
                    "output_tokens": 0, "reasoning_tokens": 0, "cache_write_1h_tokens": 0,
                    "is_batch": 0, "service_tier": "", "status": "ok"}


def _dtype(default: object) -> type:
    """Return the numpy type of a column with this default: int64 for counts, else object."""
    return np.int64 if isinstance(default, int) else object


def pricing_columns(events: Sequence[Mapping]) -> dict[str, np.ndarray]:
    """Return the columns `price_events` reads, one entry per event."""
    return {name: np.array([e.get(name, default) for e in events], dtype=_dtype(default))
            for name, default in PRICING_DEFAULTS.items()}


def production_costs(catalog: PriceCatalog, events: Sequence[Mapping]) -> list[float]:
    """Return `price_events`' cost of each event."""
    return [float(c) for c in price_events(catalog, pricing_columns(events)).cost] if events else []


def close(a: float, b: float) -> bool:
    """Return whether two costs of one event agree (relative 1e-9, or both below 1e-12)."""
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-12)


def check_pricing(catalog: PriceCatalog, reference: ReferenceCatalog, events: Sequence[Mapping]) -> None:
    """Assert that `price_events` prices every event as the reference does."""
    expected, actual = [reference.cost(e) for e in events], production_costs(catalog, events)
    wrong = [(dict(e), want, got) for e, want, got in zip(events, expected, actual) if not close(want, got)]
    assert not wrong, f"{len(wrong)} events priced differently (event, reference, price_events): {wrong[:3]}"


def check_stored_costs(reference: ReferenceCatalog, events: Sequence[Mapping]) -> None:
    """Assert that the `cost_usd` stored at load is the reference's cost of every event."""
    wrong = [(e["request_id"], reference.cost(e), e["cost_usd"]) for e in events
             if not close(reference.cost(e), e["cost_usd"])]
    assert not wrong, f"{len(wrong)} stored costs differ (id, reference, cost_usd): {wrong[:5]}"
