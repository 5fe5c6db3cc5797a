"""The span mapping table over every attribute generation, through protobuf, into the chDB store.

Each case is one span built with the official `opentelemetry-proto` messages; the export goes
the way a protobuf export does (`export_document` -> `otlp_batch` -> the loader) and the row
read back from the store must hold the values the case names, and flag as "not in the
telemetry" (`missing_fields`) exactly the fields the span does not carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from netra.workloads.importers._otlp_proto import export_document
from netra.workloads.importers.base import ImportOptions
from netra.workloads.importers.loader import load_batches
from netra.workloads.importers.otel import otlp_batch
from netra.workloads.schema import FIELD_BITS

START_NS = 1_772_409_600_000_000_000
TRACE = bytes.fromhex("5b8efff798038103d269b633813fc60c")


@dataclass(frozen=True)
class Case:
    """A span's attributes (and status), the stored values it must give, the fields it leaves missing."""

    id: str
    attributes: dict[str, Any]
    expected: dict[str, Any]
    missing: frozenset[str] = frozenset()
    error: bool = False
    duration_ms: int = 1500
    stored: bool = True


CASES = [
    Case("semconv-current", {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-3-5-sonnet", "gen_ai.response.model": "claude-3-5-sonnet-20241022",
        "gen_ai.usage.input_tokens": 2000, "gen_ai.usage.output_tokens": 300,
        "gen_ai.usage.cache_read.input_tokens": 1200, "gen_ai.usage.cache_creation.input_tokens": 500,
        "gen_ai.response.time_to_first_chunk": 0.42, "gen_ai.response.finish_reasons": ["end_turn"],
        "gen_ai.request.max_tokens": 1024},
        {"provider": "anthropic", "model": "claude-3-5-sonnet-20241022", "input_tokens": 2000, "output_tokens": 300,
         "cached_input_tokens": 1200, "cache_write_tokens": 500, "ttft_ms": 420, "latency_ms": 1500,
         "finish_reason": "stop", "max_tokens": 1024, "status": "ok"},
        frozenset({"user_id", "session_id", "prefix_hashes", "quality_score"})),
    Case("semconv-previous", {
        "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o-mini", "gen_ai.usage.prompt_tokens": 800,
        "gen_ai.usage.completion_tokens": 40, "gen_ai.usage.cache_read_input_tokens": 512},
        {"provider": "openai", "model": "gpt-4o-mini", "input_tokens": 800, "output_tokens": 40,
         "cached_input_tokens": 512, "cache_write_tokens": 0, "status": "ok"},
        frozenset({"ttft_ms", "max_tokens", "finish_reason", "user_id", "session_id", "prefix_hashes",
                   "quality_score"})),
    Case("util-genai-cache-write", {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": "claude-3-5-haiku",
        "gen_ai.usage.input_tokens": 900, "gen_ai.usage.output_tokens": 12,
        "gen_ai.usage.cache_write.input_tokens": 700, "gen_ai.conversation.id": "conv-1"},
        {"model": "claude-3-5-haiku", "input_tokens": 900, "cache_write_tokens": 700, "cached_input_tokens": 0,
         "thread_id": "conv-1", "session_id": "conv-1"},
        frozenset({"ttft_ms", "max_tokens", "finish_reason", "user_id", "prefix_hashes", "quality_score"})),
    Case("openinference", {
        "openinference.span.kind": "LLM", "llm.provider": "openai", "llm.system": "openai",
        "llm.model_name": "gpt-4o", "llm.token_count.prompt": 1500, "llm.token_count.completion": 200,
        "llm.token_count.prompt_details.cache_read": 1024, "session.id": "s-9", "user.id": "ann"},
        {"provider": "openai", "model": "gpt-4o", "input_tokens": 1500, "output_tokens": 200,
         "cached_input_tokens": 1024, "session_id": "s-9", "user_id": "ann"},
        frozenset({"ttft_ms", "max_tokens", "finish_reason", "prefix_hashes", "quality_score"})),
    Case("no-cache-no-ttft", {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 10},
        {"input_tokens": 100, "output_tokens": 10, "cached_input_tokens": 0, "ttft_ms": 0},
        frozenset({"ttft_ms", "cached_input_tokens", "max_tokens", "finish_reason", "user_id", "session_id",
                   "prefix_hashes", "quality_score"})),
    Case("error", {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
        "error.type": "RateLimitError"},
        {"status": "error", "error_type": "RateLimitError", "finish_reason": "error", "input_tokens": 0,
         "output_tokens": 0, "cost_usd": 0.0},
        frozenset({"ttft_ms", "cached_input_tokens", "max_tokens", "user_id", "session_id", "prefix_hashes",
                   "quality_score"}), error=True),
    Case("agent-span-skipped", {
        "gen_ai.operation.name": "invoke_agent", "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 5000, "gen_ai.usage.output_tokens": 900}, {}, stored=False),
]


def any_value(value: Any) -> AnyValue:
    """Return the protobuf AnyValue of a Python value."""
    if isinstance(value, list):
        return AnyValue(array_value=ArrayValue(values=[any_value(v) for v in value]))
    kinds = {str: "string_value", bool: "bool_value", int: "int_value", float: "double_value"}
    return AnyValue(**{kinds[type(value)]: value})


def span(number: int, case: Case) -> Span:
    """Return the case's span, numbered `number` (its span id), starting at START_NS."""
    code = Status.STATUS_CODE_ERROR if case.error else Status.STATUS_CODE_UNSET
    return Span(trace_id=TRACE, span_id=number.to_bytes(8, "big"), name=case.id, kind=Span.SPAN_KIND_CLIENT,
                start_time_unix_nano=START_NS, end_time_unix_nano=START_NS + case.duration_ms * 1_000_000,
                attributes=[KeyValue(key=k, value=any_value(v)) for k, v in case.attributes.items()],
                status=Status(code=code))


@pytest.fixture(scope="module")
def loaded(session_store, catalog) -> dict[str, dict]:
    """Load every case's span as one protobuf export; return the stored rows by span name."""
    session_store.truncate()
    spans = [span(number, case) for number, case in enumerate(CASES, 1)]
    request = ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])])
    batch, _ = otlp_batch(export_document(request))
    load_batches(session_store, catalog, [batch], ImportOptions(source="otlp", workspace_id="w-mapping"))
    rows = session_store.rows("SELECT *, attributes['otel.span.name'] AS span FROM workload_events")
    return {row["span"]: row for row in rows}


def missing(bits: int) -> frozenset[str]:
    """Return the fields a `missing_fields` bitmask names."""
    return frozenset(name for name, bit in FIELD_BITS.items() if bits & bit)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_span_maps_to_its_event(loaded: dict[str, dict], case: Case):
    """Store the case's values; flag as missing exactly the fields its span does not carry."""
    if not case.stored:
        assert case.id not in loaded
        return
    row = loaded[case.id]
    assert {column: row[column] for column in case.expected} == case.expected
    assert missing(row["missing_fields"]) == case.missing


def test_span_ids_are_hex_and_the_workspace_is_the_callers(loaded: dict[str, dict]):
    """Keep the span id as the request id and the trace id, in hex, and the load's workspace."""
    row = loaded["semconv-current"]
    assert (row["request_id"], row["trace_id"], row["workspace_id"]) == ("0000000000000001", TRACE.hex(), "w-mapping")
