"""Langfuse observation exports: one workload event per observation of type GENERATION.

    netra ingest observations.jsonl --format langfuse   # JSON Lines, a JSON array, an API page or CSV

Fields, as Langfuse's public API names them (the `ObservationsView` schema of its OpenAPI
spec, https://cloud.langfuse.com/generated/api/openapi.yml, served by
`GET /api/public/observations`); observations of another type (SPAN, EVENT, ...) are no model
calls and are skipped. Usage types follow Langfuse's cost-tracking docs
(https://langfuse.com/docs/model-usage-and-cost): every type whose name holds `input` is input,
every one holding `output` is output. Langfuse's integrations take cached and reasoning
tokens out of `input` and `output` into types of their own (`input_cached_tokens`,
`cache_read_input_tokens`, `output_reasoning_tokens`, ...), so the sums are Netra's counts,
which include them.

| event column | observation field |
|---|---|
| request_id | `id` |
| trace_id | `traceId` |
| timestamp | `startTime` |
| latency_ms | `endTime` − `startTime` |
| ttft_ms | `completionStartTime` − `startTime` (set by Langfuse for streamed calls only) |
| model | `model` |
| feature | `name` (the generation's name: the call site) |
| input_tokens | the sum of the `input` usage types of `usageDetails`, else of the legacy `usage` (`input`), else `promptTokens` |
| output_tokens | the same for `output` (else `completionTokens`) |
| cached_input_tokens | input types naming `cache_read` or `cached` |
| cache_write_tokens | input types naming `cache_creation` or `cache_write` |
| reasoning_tokens | output types naming `reasoning` |
| max_tokens | `modelParameters`: `max_tokens`, `max_completion_tokens`, `max_output_tokens` or `maxTokens` |
| status | `level`: `ERROR` → error, any other level → ok |
| logged_cost_usd | `costDetails.total`, else `calculatedTotalCost` (Langfuse's cost; Netra prices the tokens itself) |
| attributes | `langfuse.prompt_name`, `langfuse.prompt_version`, `langfuse.environment`, `langfuse.parent_observation_id` |

Observations carry no user, session or provider (those are the trace's): they stay missing,
as does any field a row lacks. `input`, `output`, `metadata` and `statusMessage` (contents)
are never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from netra.workloads.importers._export import ExportFormat, Row, millis, number, texts

SNIFF_KEYS = (b"traceId", b"startTime")
USAGE_KEYS = (b"usageDetails", b"promptTokens", b"usage")
TEXTS: dict[str, tuple[str, ...]] = {"request_id": ("id",), "trace_id": ("traceId",), "model": ("model",),
                                     "feature": ("name",)}
ATTRIBUTES = {"langfuse.prompt_name": "promptName", "langfuse.prompt_version": "promptVersion",
              "langfuse.environment": "environment", "langfuse.parent_observation_id": "parentObservationId"}
MAX_TOKENS = ("max_tokens", "max_completion_tokens", "max_output_tokens", "maxTokens")
LEGACY_COUNTS = {"input": "promptTokens", "output": "completionTokens"}
COSTS = (("costDetails", "total"), ("calculatedTotalCost",))
# event column -> (the direction a usage type names, the words one of which it must name too)
TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "input_tokens": ("input", ()), "output_tokens": ("output", ()),
    "cached_input_tokens": ("input", ("cache_read", "cached")),
    "cache_write_tokens": ("input", ("cache_creation", "cache_write")),
    "reasoning_tokens": ("output", ("reasoning",))}


def sniff(head: bytes) -> bool:
    """Return whether the first bytes name observation fields (a CSV header or the first JSON row)."""
    return all(key in head for key in SNIFF_KEYS) and any(key in head for key in USAGE_KEYS)


@dataclass(frozen=True)
class UsageTypes:
    """The usage counts of one observation, by Langfuse usage type."""

    counts: dict[str, float]

    @classmethod
    def of(cls, row: Row) -> UsageTypes:
        """Read `usageDetails`, else the legacy usage (`legacy_usage`)."""
        found = row.nested("usageDetails") or legacy_usage(row)
        return cls({key: number(value, f"usage {key}") for key, value in found.items() if value not in (None, "")})

    def total(self, direction: str, words: tuple[str, ...]) -> float | None:
        """Return the sum of the types naming `direction` and one of `words` (any, when none), or None if none does."""
        kept = [n for key, n in self.counts.items() if direction in key and (not words or any(w in key for w in words))]
        return sum(kept) if kept else None


def legacy_usage(row: Row) -> dict[str, Any]:
    """Return the input and output of the legacy `usage` object, else the legacy top-level counts."""
    usage = row.nested("usage")
    if usage:
        return {kind: usage.get(kind) for kind in LEGACY_COUNTS}
    return {kind: row.values.get(field) for kind, field in LEGACY_COUNTS.items()}


def status(row: Row) -> str | None:
    """Return the status of the observation's level: ERROR is an error, any other level ok (None: no level)."""
    level = row.text("level")
    return None if level is None else "error" if level == "ERROR" else "ok"


def timing(row: Row, start: datetime | None) -> dict[str, Any]:
    """Return the timestamp, latency and time to first token of an observation."""
    return {"timestamp": start.isoformat() if start else None, "latency_ms": millis(start, row.time("endTime")),
            "ttft_ms": millis(start, row.time("completionStartTime"))}


def max_tokens(row: Row) -> float | None:
    """Return the output token limit the model parameters set, or None."""
    parameters = row.nested("modelParameters")
    found = next((parameters[key] for key in MAX_TOKENS if parameters.get(key) not in (None, "")), None)
    return None if found is None else number(found, "modelParameters.max_tokens")


def logged_cost(row: Row) -> float | None:
    """Return the cost Langfuse logged for the observation (its `costDetails` total), or None."""
    details = row.nested("costDetails")
    found = details.get("total") if details.get("total") is not None else row.values.get("calculatedTotalCost")
    return None if found in (None, "") else number(found, "costDetails.total")


def observation_event(row: Row) -> dict[str, Any] | None:
    """Return the event record of a GENERATION observation (None for any other type)."""
    if row.text("type") not in (None, "GENERATION"):
        return None
    usage = UsageTypes.of(row)
    attributes = {name: row.text(source) for name, source in ATTRIBUTES.items() if row.has(source)}
    return {**texts(row, TEXTS), **{column: usage.total(*kind) for column, kind in TYPES.items()},
            **timing(row, row.time("startTime")), "status": status(row),
            "max_tokens": max_tokens(row), "logged_cost_usd": logged_cost(row), "attributes": attributes}


LANGFUSE = ExportFormat("langfuse", sniff, observation_event)
