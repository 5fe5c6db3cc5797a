"""The replay engine of `performance_gains_simulator`: policy effects on attempts, and latency per request.

    sim = Replay.of(table, table.rows(chosen, timed_only=True), speeds(ctx, q, args), ctx.catalog)
    notes = [sim.apply(p) for p in unique(policies)]          # '' when a policy applied silently
    requests = sim.requests()                                  # per logical request
    figures, rows = requests.gains(), requests.rows(table.feature.values)

The attempts come from the shared `_attempts.AttemptTable` (feature, model and request as
integer codes, rows in request order), so a policy's (feature, model) mask compares codes and
a request's attempts are a run of rows. Sums run over a request's attempts in the order the
query gave them, as `np.unique` + `np.bincount` did, so every figure is the same to the bit.

The per-model speeds of `route_model` are read over the scope's time window; the query is
recorded on every call and its rows kept per data version (memo kind `SPEEDS_KIND`), like the
attempts; the kept rows are only read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from netra.tools._attempts import AttemptTable, starts
from netra.tools._event_frame import Labels
from netra.tools._cache_replay.memo import Loaded, memo_of
from netra.tools._sql import Queries, ratio
from netra.tools.base import Evidence, ToolContext
from netra.tools.findings import Policy
from netra.tools.scope import Scope, where
from netra.tools.throughput import GEN_SQL, SPLIT, exact_quantile
from netra.workloads.catalog import PriceCatalog
from netra.workloads.tiers import cheaper_sibling

SPEEDS_KIND = "model_speeds"
CACHE_TTFT_FACTOR = 0.8  # assumed share of TTFT that is prefill, and so shrinks with cached input
# route target not observed -> (generation speed multiplier, TTFT multiplier); planning assumptions
ASSUMED_ROUTE: dict[str, tuple[float, float]] = {"smaller_sibling": (1.5, 0.8), "other": (1.0, 1.0)}

SPEED_SQL = f"""SELECT model AS name, quantileExact(0.5)(ttft_ms) AS ttft_p50,
    sum(output_tokens) AS out_tokens, sum({GEN_SQL}) AS gen_ms
FROM workload_events {{where}} GROUP BY name"""

# the attempt columns a replay reads (besides the feature, model and request codes)
REPLAYED = ("lat", "ttft", "out_n", "in_n", "cached_n", "retried")


def speeds(ctx: ToolContext, q: Queries, scope: Scope) -> dict[str, dict]:
    """Return each model's streamed TTFT median and generation totals over the scope's time window.

    The query is recorded on every call; its rows are kept per data version.
    """
    clause, params = where(Scope(start=scope.start, end=scope.end), SPLIT)
    sql = SPEED_SQL.replace("{where}", clause)
    q.evidence.append(Evidence(sql=sql, params=params))
    return memo_of(ctx.store, SPEEDS_KIND).get(Loaded(sql, params), lambda: _by_name(ctx.store.rows(sql, params)))


def _by_name(rows: list[dict]) -> dict[str, dict]:
    """Return the speed rows by model name."""
    return {r["name"]: r for r in rows}


@dataclass(frozen=True)
class PerRequest:
    """Per logical request: feature code, baseline and simulated end-to-end ms, and whether it went offline."""

    feature: np.ndarray
    base: np.ndarray
    new: np.ndarray
    offline: np.ndarray

    def at(self, rows: np.ndarray | slice) -> PerRequest:
        """Return the requests at `rows`."""
        return PerRequest(self.feature[rows], self.base[rows], self.new[rows], self.offline[rows])

    def gains(self) -> dict[str, float]:
        """Return baseline and simulated p50/p95 (interactive requests) and the p95 change."""
        kept = self.new[~self.offline]
        b95, s95 = exact_quantile(self.base, 0.95), exact_quantile(kept, 0.95)
        return {"requests": len(self.base), "async_requests": int(self.offline.sum()),
                "baseline_p50_ms": exact_quantile(self.base, 0.5), "baseline_p95_ms": b95,
                "simulated_p50_ms": exact_quantile(kept, 0.5), "simulated_p95_ms": s95,
                "p95_change_pct": 100 * ratio(s95 - b95, b95)}

    def rows(self, names: np.ndarray) -> list[dict[str, Any]]:
        """Return the gains of each feature (`names` by code), in name order."""
        present = np.flatnonzero(np.bincount(self.feature, minlength=len(names)))
        return [{"feature": str(names[c]), **self.at(np.flatnonzero(self.feature == c)).gains()} for c in present]


@dataclass
class Replay:
    """The replayed attempts (`a`: REPLAYED columns and the codes) and their simulated TTFT, generation and flags."""

    a: dict[str, np.ndarray]
    ttft: np.ndarray
    gen: np.ndarray
    dropped: np.ndarray
    offline: np.ndarray
    speeds: dict[str, dict]
    catalog: PriceCatalog
    names: tuple[Labels, Labels]  # feature and model names of the codes `f` and `m`

    @classmethod
    def of(cls, table: AttemptTable, rows: np.ndarray, speeds: dict[str, dict], catalog: PriceCatalog) -> Replay:
        """Split the attempts at `rows` into TTFT and generation (unstreamed: all generation)."""
        a = {name: table.numbers[name][rows] for name in REPLAYED}
        a |= {"f": table.feature.codes[rows], "m": table.model.codes[rows], "request": table.request[rows]}
        ttft = np.minimum(a["ttft"], a["lat"])
        flags = np.zeros(len(ttft), dtype=bool)
        return cls(a, ttft, a["lat"] - ttft, flags, flags.copy(), speeds, catalog, (table.feature, table.model))

    def apply(self, policy: Policy) -> str:
        """Apply one policy to its (feature, model) attempts; return a note ('' when none)."""
        feature, model = self.names
        mask = (self.a["f"] == feature.code(policy.feature)) & (self.a["m"] == model.code(policy.model))
        if not mask.any():
            return f"{policy.policy_id}: no requests of {policy.feature}/{policy.model} in scope; no effect"
        return _APPLY[policy.kind](self, mask, policy)

    def requests(self) -> PerRequest:
        """Return the logical requests (runs of one request code), in request order."""
        first = starts(self.a["request"])
        inverse, new = np.cumsum(first) - 1, np.where(self.dropped, 0.0, self.ttft + self.gen)
        offline = np.bincount(inverse, weights=self.offline) > 0
        return PerRequest(self.a["f"][first], np.bincount(inverse, weights=self.a["lat"]),
                          np.bincount(inverse, weights=new), offline)


def _observed(row: dict | None) -> bool:
    """Return whether a model's streamed stats can give a speed and a TTFT."""
    return bool(row) and row["ttft_p50"] > 0 and row["gen_ms"] > 0 and row["out_tokens"] > 0


def _route_ratios(sim: Replay, source: str, target: str) -> tuple[float, float, str]:
    """Return (generation speed multiplier, TTFT multiplier, how they were found) for a route."""
    src, dst = sim.speeds.get(source), sim.speeds.get(target)
    if _observed(src) and _observed(dst):
        speed = (dst["out_tokens"] / dst["gen_ms"]) / (src["out_tokens"] / src["gen_ms"])
        return speed, dst["ttft_p50"] / src["ttft_p50"], f"observed speed and TTFT of {target}"
    sibling = cheaper_sibling(sim.catalog, source)
    key = "smaller_sibling" if sibling and sibling == sim.catalog.resolve(target) else "other"
    return (*ASSUMED_ROUTE[key], f"{target or 'no target'} not observed; assumed {key} ratios")


def _route(sim: Replay, mask: np.ndarray, policy: Policy) -> str:
    """Give the routed attempts the target's generation speed and TTFT."""
    speed, ttft, how = _route_ratios(sim, policy.model, str(policy.params.get("target_model", "")))
    sim.gen[mask] /= speed
    sim.ttft[mask] *= ttft
    return f"{policy.policy_id}: {how}"


def _cap(sim: Replay, mask: np.ndarray, policy: Policy) -> str:
    """Shorten outputs above the cap; their generation time shrinks in proportion."""
    cap, out = float(policy.params.get("cap", 0)), sim.a["out_n"]
    hit = mask & (out > cap) & (cap > 0)
    sim.gen[hit] *= cap / out[hit]
    return "" if cap > 0 else f"{policy.policy_id}: no cap parameter; no effect"


def _cache(sim: Replay, mask: np.ndarray, policy: Policy) -> str:
    """Cut TTFT by CACHE_TTFT_FACTOR × the share of input the cached prefix newly covers."""
    prefix = float(policy.params.get("prefix_tokens", 0))
    share = np.minimum(prefix, np.maximum(sim.a["in_n"] - sim.a["cached_n"], 0)) / np.maximum(sim.a["in_n"], 1)
    sim.ttft[mask] *= 1 - CACHE_TTFT_FACTOR * share[mask]
    return "" if prefix > 0 else f"{policy.policy_id}: no prefix_tokens parameter; no effect"


def _batch(sim: Replay, mask: np.ndarray, policy: Policy) -> str:
    """Move the attempts off the interactive path."""
    sim.offline |= mask
    return ""


def _retry(sim: Replay, mask: np.ndarray, policy: Policy) -> str:
    """Remove retried failed attempts from their request's end-to-end time."""
    sim.dropped |= mask & (sim.a["retried"] > 0)
    return ""


_APPLY: dict[str, Callable[[Replay, np.ndarray, Policy], str]] = {
    "route_model": _route, "cap_max_tokens": _cap, "prompt_cache": _cache, "batch_api": _batch, "retry_budget": _retry}


def unique(policies: list[Policy]) -> list[Policy]:
    """Return the policies with repeated policy_ids dropped (the first one kept)."""
    seen: dict[str, Policy] = {}
    for policy in policies:
        seen.setdefault(policy.policy_id, policy)
    return list(seen.values())
