"""Apex tools (error_rates): errors by type, error rates per feature and model, and retry storms.

An error is an event whose `status` is not 'ok'. Its kind is its `error_type`, or its `status`
when no error type was recorded; kinds fall in three categories by the fixed tables
`TIMEOUT_KINDS` and `RATE_LIMIT_KINDS` (everything else is "other").

Attempts of one logical request share (feature, model, prompt_hash ≠ 0) and follow each other
closely: ordered by (timestamp, request_id), an attempt starting at most `window_s` seconds
after the previous one of the same (feature, model, prompt_hash) continues its chain, otherwise
it starts a new one. A chain is one logical request (`attempts` returns its attempts, each
tagged with its chain and whether it is a retried failure: failed and not the chain's last
attempt; unhashed events are chains of one). A retry storm is a chain of at least `min_attempts` attempts with at least
`min_failures` failures. The cost of failed attempts is the `cost_usd` of every billed error:
an error that reports no output was refused by the provider and is not billed
(`pricing.billed`, docs/pricing.md), so it is counted as an error but costs $0.

Error figures need a `status`: the error rate is errors / requests that carry one, and when no
scoped event carries a status (a trace that logs none) every error figure is None (not in the
telemetry) with a note saying how many events lack it; a feature or model row whose events all
lack it has None in its error columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import Field

from netra.tools._sql import Queries, empty, ratio
from netra.tools.base import Evidence, ToolContext, ToolResult
from netra.tools.coverage import HAS, Coverage, CoveredFigures, needing
from netra.tools.registry import apex_tool
from netra.tools.scope import Scope, where
from netra.workloads.pricing import BILLED_SQL

TOOL = "error_rate_analyzer"
Category = Literal["timeout", "rate_limit", "other"]
TIMEOUT_KINDS: tuple[str, ...] = ("timeout", "deadline_exceeded", "request_timeout")
RATE_LIMIT_KINDS: tuple[str, ...] = ("rate_limit", "rate_limited", "too_many_requests")
# breakdown table -> the column it groups by (the only columns that reach SQL text)
DIMENSIONS: dict[str, str] = {"feature": "feature", "model": "model"}
KIND_SQL = "if(error_type != '', toString(error_type), toString(status))"
FAILED = "status != 'ok'"
# a failed attempt the provider billed (it reported output); refused ones cost nothing
BILLED_FAILURE = f"{FAILED} AND {BILLED_SQL}"

# The (feature, model, prompt_hash) keys, hashed, of more than one scoped event. Only their events
# can chain, retry or storm: a lone event is a chain of one (chain 1), never retried, so the
# window passes below sort these few rows instead of every event. A hash collision only sends a
# lone event through the windows, which give it the same chain; the split stays exact.
_KEY = "cityHash64(feature, model, prompt_hash)"
_REPEATED_KEYS = f"(SELECT {_KEY} AS k FROM workload_events {{where}} GROUP BY k HAVING count() > 1)"

# Chains of attempts of the repeated keys (see the module docstring); needs the bound parameter `gap_ms`.
CHAINS_SQL = """SELECT *, sum(starts) OVER (PARTITION BY feature, model, prompt_hash
                                   ORDER BY timestamp, request_id ROWS UNBOUNDED PRECEDING) AS chain
FROM (SELECT feature, model, prompt_hash, timestamp, request_id, status, cost_usd, missing_fields,
             latency_ms, ttft_ms, input_tokens, cached_input_tokens, output_tokens,
             prompt_hash = 0 OR dateDiff('millisecond', lagInFrame(timestamp) OVER w, timestamp)
                                > {gap_ms:UInt32} AS starts
      FROM workload_events {where} AND """ + f"{_KEY} IN {_REPEATED_KEYS}" + """
      WINDOW w AS (PARTITION BY feature, model, prompt_hash ORDER BY timestamp, request_id
                   ROWS BETWEEN 1 PRECEDING AND CURRENT ROW))"""

# feature and model as text (`attempts`); `_attempts.CODED_LABELS` reads them as stored, to keep them coded
TEXT_LABELS = "toString(feature) AS f, toString(model) AS m"
_ATTEMPT_COLUMNS = f"""{{labels}}, toFloat64(latency_ms) AS lat,
    {HAS['latency_ms']} AS timed,
    toFloat64(ttft_ms) AS ttft, toFloat64(output_tokens) AS out_n, toFloat64(input_tokens) AS in_n,
    toFloat64(cached_input_tokens) AS cached_n"""

# One row per attempt: numeric columns as Float64, `request` = its chain's key, `timed` = it logged
# latency; the lone events (chain 1, not retried) are read without a window. `{labels}`: how f and m are read.
ATTEMPTS_SQL = f"""SELECT {_ATTEMPT_COLUMNS}, cityHash64(feature, model, prompt_hash, chain) AS request,
    status != 'ok' AND prompt_hash != 0 AND row_number() OVER (PARTITION BY feature, model, prompt_hash, chain
        ORDER BY timestamp DESC, request_id DESC) > 1 AS retried
FROM (""" + CHAINS_SQL + f""")
UNION ALL
SELECT {_ATTEMPT_COLUMNS}, cityHash64(feature, model, prompt_hash, toUInt64(1)) AS request, false AS retried
FROM workload_events {{where}} AND {_KEY} NOT IN {_REPEATED_KEYS}"""

_GROUP_SQL = f"""SELECT {{column}} AS name, count() AS requests, countIf({FAILED}) AS errors,
    countIf({HAS['status']}) AS with_status,
    countIf({FAILED} AND {KIND_SQL} IN {{timeouts:Array(String)}}) AS timeouts,
    countIf({FAILED} AND {KIND_SQL} IN {{rate_limits:Array(String)}}) AS rate_limits,
    countIf({BILLED_FAILURE}) AS billed, sumIf(cost_usd, {BILLED_FAILURE}) AS failed_cost
FROM workload_events {{where}}
GROUP BY name ORDER BY requests DESC, name ASC"""

_KINDS_SQL = f"""SELECT {KIND_SQL} AS kind, count() AS errors, countIf({BILLED_FAILURE}) AS billed,
    sumIf(cost_usd, {BILLED_FAILURE}) AS failed_cost
FROM workload_events {{where}}
GROUP BY kind ORDER BY errors DESC, kind ASC"""

_STORMS_SQL = f"""SELECT feature, model, count() AS storms, sum(attempts) AS storm_attempts,
    sum(failures) AS storm_failures, sum(failed_cost) AS storm_failed_cost_usd
FROM (SELECT feature, model, prompt_hash, chain, count() AS attempts,
             countIf({FAILED}) AS failures, sumIf(cost_usd, {BILLED_FAILURE}) AS failed_cost
      FROM (""" + CHAINS_SQL + """)
      GROUP BY feature, model, prompt_hash, chain)
WHERE attempts >= {min_attempts:UInt32} AND failures >= {min_failures:UInt32}
GROUP BY feature, model ORDER BY feature, model"""

STORM_KEYS = ("storms", "storm_attempts", "storm_failures", "storm_failed_cost_usd")

ERROR_FIGURES = {
    "requests": ("requests", "requests in scope"),
    "errors": ("requests", "requests whose status is not ok"),
    "error_rate": ("ratio", "errors / requests with a status"),
    "timeout_errors": ("requests", "errors of a timeout kind"),
    "rate_limit_errors": ("requests", "errors of a rate-limit kind"),
    "other_errors": ("requests", "errors of any other kind"),
    "billed_errors": ("requests", "errors the provider billed (they reported output); refused ones cost $0"),
    "failed_cost_usd": ("USD", "cost of the billed failed attempts"),
    "retry_storms": ("storms", "chains of >= min_attempts attempts with >= min_failures failures"),
    "storm_attempts": ("requests", "attempts inside retry storms"),
    "storm_failed_cost_usd": ("USD", "cost of the billed failed attempts inside retry storms"),
}

# every figure but `requests` counts statuses
NEEDS = needing("status", *(name for name in ERROR_FIGURES if name != "requests"))
ROW_NEEDS = NEEDS | needing("status", "storms", "storm_failures")
RESULT = CoveredFigures(TOOL, ERROR_FIGURES, NEEDS)


class ErrorArgs(Scope):
    """Arguments of `error_rate_analyzer`."""

    window_s: int = Field(60, ge=1, le=3600, description="max seconds between attempts of one chain")
    min_attempts: int = Field(3, ge=2, description="a storm has at least this many attempts")
    min_failures: int = Field(2, ge=1, description="a storm has at least this many failed attempts")


def attempts(q: Queries, scope: Scope, features: list[str], window_s: int = 60) -> dict[str, np.ndarray]:
    """Return the scoped attempts of `features` as numpy columns (see `ATTEMPTS_SQL`), kept as evidence."""
    clause, params = where(scope, "feature IN {features:Array(String)}")
    params |= {"features": features, "gap_ms": window_s * 1000}
    sql = ATTEMPTS_SQL.replace("{where}", clause).replace("{labels}", TEXT_LABELS)
    q.evidence.append(Evidence(sql=sql, params=params))
    table = q.store.arrow(sql, params)
    return {name: table.column(name).to_numpy() for name in table.column_names}


def category(kind: str) -> Category:
    """Return the category of an error kind (its error_type, else its status)."""
    if kind in TIMEOUT_KINDS:
        return "timeout"
    return "rate_limit" if kind in RATE_LIMIT_KINDS else "other"


# the bound category lists of the group query
_KIND_PARAMS = {"timeouts": list(TIMEOUT_KINDS), "rate_limits": list(RATE_LIMIT_KINDS)}


@dataclass
class ErrorBreakdown:
    """One error_rate_analyzer call: its queries, its arguments and the retry storms they find."""

    q: Queries
    args: ErrorArgs
    storms: list[dict] = field(init=False)

    def __post_init__(self) -> None:
        params = {"gap_ms": self.args.window_s * 1000, "min_attempts": self.args.min_attempts,
                  "min_failures": self.args.min_failures}
        self.storms = self.q.rows(_STORMS_SQL, self.args, "prompt_hash != 0", params)

    def result(self) -> ToolResult:
        """Return the error-kind rows, then the feature and model rows, and the overall figures."""
        features = self.groups("feature")
        if not features:
            return empty(TOOL, ERROR_FIGURES, self.q)
        rows = self.kind_rows() + [_blank(r) for r in features + self.groups("model")]
        return RESULT.result(self.q, self.args, _values(features), rows, _refused_notes(features))

    def groups(self, table: str) -> list[dict[str, Any]]:
        """Return the rows of one breakdown table (feature or model)."""
        found = self.q.rows(_GROUP_SQL, self.args, params=_KIND_PARAMS, column=DIMENSIONS[table])
        return [self.group_row(table, r) for r in found]

    def group_row(self, table: str, row: dict) -> dict[str, Any]:
        """Return one row of the feature or model table, with the storm totals of its pairs."""
        errors, timeouts, limits = int(row["errors"]), int(row["timeouts"]), int(row["rate_limits"])
        storms = [s for s in self.storms if s[table] == row["name"]]
        return {"table": table, table: row["name"], "requests": int(row["requests"]), "errors": errors,
                "requests_with_status": int(row["with_status"]), "error_rate": ratio(errors, row["with_status"]),
                "timeout_errors": timeouts, "rate_limit_errors": limits, "other_errors": errors - timeouts - limits,
                "billed_errors": int(row["billed"]), "failed_cost_usd": float(row["failed_cost"]),
                **{k: sum(s[k] for s in storms) for k in STORM_KEYS}}

    def kind_rows(self) -> list[dict[str, Any]]:
        """Return one row per error kind: its category, count, share of errors and cost."""
        found = self.q.rows(_KINDS_SQL, self.args, FAILED)
        total = sum(int(r["errors"]) for r in found)
        return [{"table": "error_type", "error_type": r["kind"], "category": category(r["kind"]),
                 "errors": int(r["errors"]), "share_of_errors": ratio(r["errors"], total),
                 "billed_errors": int(r["billed"]), "failed_cost_usd": float(r["failed_cost"])} for r in found]


def _values(features: list[dict[str, Any]]) -> dict[str, float]:
    """Return the overall figure values, summed over the feature rows."""
    summed = ("requests", "requests_with_status", "errors", "timeout_errors", "rate_limit_errors", "other_errors",
              "billed_errors", "failed_cost_usd", "storm_attempts", "storm_failed_cost_usd")
    total = {k: sum(r[k] for r in features) for k in (*summed, "storms")}
    error_rate = ratio(total["errors"], total["requests_with_status"])
    return {**total, "error_rate": error_rate, "retry_storms": total["storms"]}


def _blank(row: dict[str, Any]) -> dict[str, Any]:
    """Return a feature or model row with None in its error columns when none of its events carries a status."""
    return Coverage(row["requests"], {"status": row["requests"] - row["requests_with_status"]}).blank(row, ROW_NEEDS)


@apex_tool(TOOL, "Error rates overall, per feature and per model; errors by type (timeouts, rate limits, "
                 "other); retry storms; and the cost of failed attempts.", ErrorArgs)
def error_rate_analyzer(ctx: ToolContext, args: ErrorArgs) -> ToolResult:
    """Break errors down by kind, feature and model, and find retry storms.

    Args:
        ctx: The analytics store and price catalog.
        args: The scope and the storm definition (chain gap, attempts, failures).

    Returns:
        Rows tagged `table`: "error_type", "feature" and "model" breakdowns.
    """
    return ErrorBreakdown(Queries(ctx.store), args).result()


def _refused_notes(features: list[dict[str, Any]]) -> list[str]:
    """Say how many errors were refused (no output): counted as errors, costing $0."""
    errors, billed = sum(r["errors"] for r in features), sum(r["billed_errors"] for r in features)
    if errors == billed:
        return []
    return [f"{errors - billed} of {errors} errors reported no output: refused, not billed, so they cost $0; "
            "failed cost counts only the billed failed attempts (docs/pricing.md)"]
