"""Planted workloads: small event sets built to hold one thing the old rules get wrong.

    records = build("sparse_cache", seed=5)     # event dicts for `events_from_records`
    PLANTED["sparse_cache"].what                # one line: what the workload plants

A case names one with `"events": "planted:<name>"` (docs/evals.md). Each builder draws from one
seeded generator, so a seed gives the same events; the tables in the modules' docstrings say
what each feature looks like and what the reference concludes about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from netra.evals.planted import batching, caching, pipelines, signals
from netra.evals.planted._planter import Planter


@dataclass(frozen=True)
class Planted:
    """A planted workload: what it plants, in one line, and the function that builds it."""

    what: str
    build: Callable[[Planter], None]


PLANTED: dict[str, Planted] = {
    "sparse_cache": Planted("a system prompt reused only every 1-2 hours beside a busy one", caching.sparse_cache),
    "cross_model": Planted("prompts sent to two models once each beside a reused prefix", caching.cross_model),
    "below_minimum": Planted("shared prefixes below the model's cacheable minimum", caching.below_minimum),
    "unlogged_interactive": Planted("unstreamed sessionless user traffic beside a nightly job and declared "
                                    "bulk work", batching.unlogged_interactive),
    "one_hour": Planted("one hour of traffic with a retry storm", batching.one_hour),
    "overlapping": Planted("a prompt cache, a cap, the Batch API and a retry budget on one feature",
                           pipelines.overlapping),
    "long_context": Planted("prompts around and past 200k tokens on gemini-2.5-pro", pipelines.long_context),
    "failed_usage": Planted("retried failures billed (partial output) and refused (no output)",
                            signals.failed_usage),
    "missing_latency": Planted("a cap and a retry budget on traffic that logs no latency", signals.missing_latency),
    "route_quality": Planted("routes whose quality the team's scores keep, lose, or do not measure",
                             signals.route_quality),
}


def build(name: str, seed: int) -> list[dict[str, Any]]:
    """Return the event records of a planted workload."""
    planter = Planter(seed)
    PLANTED[name].build(planter)
    return planter.records
