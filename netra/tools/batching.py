"""Batch opportunity finder: traffic whose callers are shown to wait, priced at Batch API prices.

A (feature, model) is flagged only on evidence that its callers do not need an immediate answer
(`evidence.EVIDENCE["batch_api"]`, read by `_batch_evidence` and `_schedule`): its requests declare
`interactive=false` or `batch_eligible=true`, or its feature already sends most requests with
`is_batch` = 1, or most of its logged first-token waits exceed the 10 s interactive bound, or it
runs as a scheduled job (same hours on several days, no user ids). `ttft_ms` 0 and an empty session
or thread are missing data, never evidence. Without evidence the pair gets an unflagged finding
whose reason says what to log, and what is at stake (`params.if_batchable_window_saving_usd`, and
`if_batchable_monthly_saving_usd` at the window's rate).

The saving of a flagged pair is its unbatched requests' cost minus their cost in the Batch API,
both from the one pricing function (`pricing.price_classes`) over their token classes per pricing
key and UTC day, `is_batch` set for the second: each keeps its long-context tier, and refused
requests cost $0 either way. The policy moves every unbatched request of the pair, as the joint
simulator does. Confidence = stability x evidence factor (`evidence.confidence`; E in
`_batch_evidence`). Quality risk is low: the same model answers the same request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from netra.tools._batch_evidence import BOUND, DECLARED_SQL, FEATURES_SQL, LABELLED_SQL, PairEvidence, feature_checks
from netra.tools._schedule import HOURS_SQL, HourGrid
from netra.tools._sql import DAY_CLASSES, DAY_CLASSES_SQL, GroupCosts, Queries
from netra.tools.base import Figure, ToolContext, ToolResult
from netra.tools.evidence import DailySavings, confidence, to_log
from netra.tools.findings import Finding, FinderRun, findings_result
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, fig, monthly
from netra.workloads.catalog import PRICE_CLASSES, PriceCatalog

PAIRS_SQL = f"""SELECT feature, model, count() AS requests, countIf(is_batch = 0) AS unbatched,
    countIf(is_batch = 0 AND {DECLARED_SQL}) AS declared, countIf(is_batch = 0 AND {LABELLED_SQL}) AS labelled,
    sum(cost_usd) AS cost_usd
FROM workload_events {{where}}
GROUP BY feature, model ORDER BY feature, model"""

_LATENCY = "asynchronous: results within 24 h"
_UNKNOWN = "skipped {feature}/{model}: model not in the price catalog"
_NO_EVIDENCE = ("a finding, not a recommendation: nothing shows that callers of {feature} can wait for a batch "
                "({checks}). {todo}ttft_ms 0 and an empty session or thread are missing data, not evidence. "
                "At stake if they can wait: ${window:,.2f} in the window (${stake:,.2f}/month at its rate)")
_TODO = "To decide, log: {log}. "
_NOTE = "no evidence that callers can wait for a batch on {pairs}"

Test = Callable[[PairEvidence, bool], bool]
# (test on (evidence, cheaper batch prices), verdict, reason): the first row whose test passes decides;
# only "evidence" flags the pair
_VERDICTS: tuple[tuple[Test, str, str], ...] = (
    (lambda e, cheaper: e.unbatched == 0, "batched", "every request is already sent through a Batch API"),
    (lambda e, cheaper: not cheaper, "no_batch_price", "{model} has no cheaper batch prices"),
    (lambda e, cheaper: not e.found, "no_evidence", _NO_EVIDENCE),
    (lambda e, cheaper: True, "evidence", "{evidence}; the Batch API saves ${month:,.2f}/month"),
)

# figure name -> (unit, label)
_FIGURES = {
    "monthly_saving_usd": ("USD/month", "saving of moving the flagged pairs to the Batch API"),
    "batchable_requests": ("requests", "unbatched requests with evidence that their callers can wait"),
    "flagged_pairs": ("pairs", "(feature, model) pairs to move to the Batch API"),
    "pairs_without_evidence": ("pairs", "pairs with cheaper batch prices but no evidence their callers can wait"),
}


class BatchArgs(Scope):
    """The scope of `batch_opportunity_finder` (its evidence rules take no tuning)."""


def day_savings(catalog: PriceCatalog, rows: list[dict]) -> DailySavings:
    """Return what the Batch API saves per pair and day on the unbatched rows of `DAY_CLASSES_SQL`.

    `is_batch` is part of each row's group, so its unbatched rows are the groups of its unbatched requests.
    """
    unbatched = [r for r in rows if r["is_batch"] == 0]
    costs = GroupCosts(catalog, unbatched)
    return DailySavings(unbatched, costs.cost() - costs.cost(is_batch=np.ones(costs.n, np.uint8)))


@dataclass(frozen=True)
class _Case:
    """One pair being judged: its stats, its evidence, its per-day savings and the verdict on it."""

    stats: dict
    evidence: PairEvidence
    per_day: np.ndarray
    verdict: str
    template: str

    @property
    def flagged(self) -> bool:
        """Whether the evidence supports moving the pair."""
        return self.verdict == "evidence"

    @property
    def window(self) -> float:
        """Return what the Batch API saves on the pair's unbatched requests over the window."""
        return float(self.per_day.sum())

    def reason(self, days: float) -> str:
        """Return the finding's reason from its verdict's template."""
        month = monthly(self.window, days)
        return self.template.format(**self.stats, **_texts(self.evidence), window=self.window, stake=month,
                                    month=month if self.flagged else 0.0)

    def params(self, days: float) -> dict[str, Any]:
        """Return the finding's params: the signals that count, the evidence factor and the saving at stake."""
        return {"evidence": [c.name for c in self.evidence.counting()],
                "evidence_factor": round(self.evidence.factor, 6), "absent": self.evidence.absent(),
                "if_batchable_window_saving_usd": round(self.window, 9),
                "if_batchable_monthly_saving_usd": round(monthly(self.window, days), 6)}


@dataclass
class _Judge:
    """Decides each pair from its feature's checks and its per-day savings; remembers pairs without evidence."""

    run: FinderRun
    checks: dict[str, tuple]
    savings: DailySavings
    unproven: list[Finding] = field(default_factory=list)

    def finding(self, stats: dict) -> Finding:
        """Return the Finding of one priced pair."""
        case = self._case(stats)
        found = Finding(kind="batch_api", feature=stats["feature"], model=stats["model"], flagged=case.flagged,
                        latency_impact=_LATENCY, quality_risk="low", **_fields(case, self.run.days))
        if case.verdict == "no_evidence":
            self.unproven.append(found)
        return found

    def _case(self, stats: dict) -> _Case:
        """Return the pair's evidence, savings and verdict."""
        counts = (int(stats[k]) for k in ("unbatched", "declared", "labelled"))
        evidence = PairEvidence(*counts, self.checks[stats["feature"]])
        cheaper = _cheaper(self.run.ctx.catalog, stats)
        _, verdict, template = next(row for row in _VERDICTS if row[0](evidence, cheaper))
        per_day = self.savings.series((stats["feature"], stats["model"]))
        return _Case(stats, evidence, per_day, verdict, template)

    def note(self) -> list[str]:
        """Return one note naming the pairs without evidence and what to log (none when there are none)."""
        if not self.unproven:
            return []
        names = ", ".join(f"{f.feature}/{f.model}" for f in self.unproven)
        log = to_log("batch_api", sorted({name for f in self.unproven for name in f.params["absent"]}))
        return [_NOTE.format(pairs=names) + (f"; to decide, log: {log}" if log else "; what is logged shows none")]


def _fields(case: _Case, days: float) -> dict[str, Any]:
    """Return the Finding fields of counts, money, confidence, params and reason."""
    kept, moved = (case.window, case.evidence.unbatched) if case.flagged else (0.0, 0)
    return {"requests": int(case.stats["requests"]), "affected_requests": moved,
            "window_cost_usd": round(case.stats["cost_usd"], 9), "window_saving_usd": kept,
            "monthly_saving_usd": monthly(kept, days), "reason": case.reason(days), "params": case.params(days),
            "confidence": confidence(case.per_day, case.evidence.factor) if case.flagged else 0.0}


def _texts(evidence: PairEvidence) -> dict[str, str]:
    """Return the reason's evidence sentence, every check, and what to log for the missing signals."""
    log = to_log("batch_api", evidence.absent())
    return {"evidence": "; ".join(c.text for c in evidence.counting()),
            "checks": "; ".join(c.text for c in evidence.checks()), "todo": _TODO.format(log=log) if log else ""}


def _cheaper(catalog: PriceCatalog, stats: dict) -> bool:
    """Return whether the pair's model has some batch price below its standard price."""
    standard, batch = catalog.unit_prices(stats["model"]), catalog.unit_prices(stats["model"], mode="batch")
    return any(batch[k] < standard[k] for k in PRICE_CLASSES)


def _feature_checks(q: Queries, args: BatchArgs) -> dict[str, tuple]:
    """Return every scoped feature's checks: its stats over all models, its hours against the window's traffic."""
    stats = q.rows(FEATURES_SQL, args.model_copy(update={"model": None}), params=BOUND, kind="batch_features")
    window = args.model_copy(update={"feature": None, "model": None, "user_id": None})
    grid = HourGrid(q.rows(HOURS_SQL, window, kind="batch_hours"))
    return {s["feature"]: feature_checks(s, grid.check(s["feature"])) for s in stats}


@apex_tool("batch_opportunity_finder",
           "Find traffic shown to tolerate batch latency (declared non-interactive, already batched, slow first "
           "tokens, or a scheduled job), price the Batch API discount, and say what to log where evidence is missing",
           BatchArgs, family="optimization")
def batch_opportunity_finder(ctx: ToolContext, args: BatchArgs) -> ToolResult:
    """Find (feature, model) pairs whose callers are shown to wait, and what moving them saves (module docstring)."""
    q = Queries(ctx.store)
    pairs = q.rows(PAIRS_SQL, args, kind="batch_pairs")
    judge = _Judge(FinderRun(ctx, args, q.span(args)), _feature_checks(q, args),
                   day_savings(ctx.catalog, q.rows(DAY_CLASSES_SQL, args, kind=DAY_CLASSES)))
    findings = [judge.finding(p) for p in pairs if ctx.catalog.resolve(p["model"]) is not None]
    notes = [_UNKNOWN.format(**p) for p in pairs if ctx.catalog.resolve(p["model"]) is None] + judge.note()
    return findings_result("batch_opportunity_finder", _figures(findings, judge), findings, q.evidence, notes)


def _figures(findings: list[Finding], judge: _Judge) -> dict[str, Figure]:
    """Return the flagged monthly saving and requests, the flagged pairs and the pairs without evidence."""
    flagged = [f for f in findings if f.flagged]
    values = {"monthly_saving_usd": sum(f.monthly_saving_usd for f in flagged),
              "batchable_requests": sum(f.affected_requests for f in flagged), "flagged_pairs": len(flagged),
              "pairs_without_evidence": len(judge.unproven)}
    return {name: fig(values[name], *spec) for name, spec in _FIGURES.items()}
