"""OTLP/JSON spans -> workload events: attribute aliases, skipped spans, errors, cache tokens, files."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from netra.errors import UserInputError
from netra.workloads.importers import ImportOptions, Rejection, detect, ingest_file
from netra.workloads.importers._otlp import any_value, is_model_call
from netra.workloads.importers.otel import IMPORTERS, otlp_batch
from netra.workloads.importers.records import records_batch
from netra.workloads.importers.validate import finalize

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "otel"
SPANS = FIXTURES / "genai_spans.json"
JSONL = FIXTURES / "collector_export.jsonl"
TRACE = "0af7651916cd43dd8448eb211c80319c"


def span_id(n: int) -> str:
    """Return the fixture's span id of span `n`."""
    return f"{n:016x}"


@pytest.fixture(scope="module")
def mapped() -> tuple[dict[str, dict], list[Rejection], int]:
    """The fixture export mapped and validated: events by request id, rejections, skipped spans."""
    batch, skipped = otlp_batch(json.loads(SPANS.read_text()))
    table, _, rejections = finalize(batch, ImportOptions())
    return {row["request_id"]: row for row in table.to_pylist()}, rejections, skipped


# span, event column, expected value (spans 1 and 4: new names; 5: old names; 6: OpenInference)
MAPPING = [
    (1, "provider", "openai"), (1, "model", "gpt-4o-2024-08-06"), (1, "input_tokens", 1200),
    (1, "cached_input_tokens", 1000), (1, "cache_write_tokens", 0), (1, "output_tokens", 300),
    (1, "reasoning_tokens", 64), (1, "max_tokens", 512), (1, "finish_reason", "stop"),
    (1, "thread_id", "conv-1"), (1, "session_id", "conv-1"), (1, "user_id", "alice"),
    (1, "feature", "support-bot"), (1, "trace_id", TRACE), (1, "latency_ms", 1250), (1, "status", "ok"),
    (1, "timestamp", datetime(2026, 3, 2, 0, 0, 1, tzinfo=timezone.utc)),
    (1, "attributes", [("gen_ai.operation.name", "chat"), ("gen_ai.response.id", "chatcmpl-1"),
                       ("otel.span.name", "chat gpt-4o")]),
    (4, "status", "error"), (4, "error_type", "429"), (4, "input_tokens", 0), (4, "output_tokens", 0),
    (4, "finish_reason", "error"), (4, "latency_ms", 80), (4, "model", "gpt-4o-mini"),
    (5, "provider", "anthropic"), (5, "model", "claude-3-5-sonnet-20241022"), (5, "input_tokens", 2048),
    (5, "cached_input_tokens", 1500), (5, "cache_write_tokens", 500), (5, "output_tokens", 256),
    (5, "max_tokens", 256), (5, "finish_reason", "length"), (5, "user_id", "svc-batch"),
    (5, "feature", "summarizer"), (5, "thread_id", ""),
    (6, "provider", "openai"), (6, "model", "gpt-4o-mini"), (6, "input_tokens", 800),
    (6, "cached_input_tokens", 512), (6, "output_tokens", 40), (6, "session_id", "sess-9"),
    (6, "thread_id", "sess-9"), (6, "user_id", "bob"), (6, "latency_ms", 600),
    (9, "input_tokens", 3250), (9, "cached_input_tokens", 3000), (9, "cache_write_tokens", 200),
    (9, "output_tokens", 120), (9, "finish_reason", "stop"), (9, "model", "claude-3-5-haiku-20241022"),
]


@pytest.mark.parametrize(("span", "column", "expected"), MAPPING, ids=[f"{s}-{c}" for s, c, _ in MAPPING])
def test_span_attributes_map_to_event_columns(mapped, span: int, column: str, expected: object):
    """Map each alias (first present wins) onto its event column; cache and reasoning stay inside."""
    events, _, _ = mapped
    assert events[span_id(span)][column] == expected


def test_only_model_call_spans_become_events(mapped):
    """Skip HTTP, agent and chain spans; reject an LLM span without usage; keep the rest."""
    events, rejections, skipped = mapped
    assert sorted(events) == [span_id(n) for n in (1, 4, 5, 6, 9)]
    assert (skipped, rejections) == (3, [Rejection(8, "missing_column", "input_tokens is missing")])


ANY_VALUES = [
    ({"stringValue": "a"}, "a"), ({"intValue": "12"}, 12), ({"intValue": 12}, 12), ({"doubleValue": 1.5}, 1.5),
    ({"boolValue": True}, True), ({"intValue": "many"}, "many"), ({}, None), (None, None), ({"odd": 1}, None),
    ({"arrayValue": {"values": [{"stringValue": "stop"}, {"intValue": "2"}]}}, ["stop", 2]),
    ({"arrayValue": {}}, []), ({"kvlistValue": {"values": [{"key": "k", "value": {"intValue": "1"}}]}}, {"k": 1}),
]


@pytest.mark.parametrize(("value", "expected"), ANY_VALUES)
def test_any_value_decodes_each_kind(value: object, expected: object):
    """Decode every AnyValue kind; int64 arrives as a string; unknown or empty is None."""
    assert any_value(value) == expected


MODEL_CALLS = [
    ({"gen_ai.request.model": "gpt-4o"}, True),
    ({"gen_ai.usage.input_tokens": 3, "gen_ai.operation.name": "embeddings"}, True),
    ({"llm.model_name": "m", "openinference.span.kind": "LLM"}, True),
    ({"llm.token_count.prompt": 5, "openinference.span.kind": "llm"}, True),
    ({"gen_ai.request.model": "gpt-4o", "gen_ai.operation.name": "invoke_agent"}, False),
    ({"gen_ai.request.model": "gpt-4o", "gen_ai.operation.name": "execute_tool"}, False),
    ({"llm.model_name": "m", "openinference.span.kind": "AGENT"}, False),
    ({"gen_ai.provider.name": "openai"}, False),
    ({"http.request.method": "GET"}, False),
]


@pytest.mark.parametrize(("found", "expected"), MODEL_CALLS)
def test_model_calls_are_told_from_other_spans(found: dict, expected: bool):
    """A model or usage attribute marks a model call unless its operation or kind says otherwise."""
    assert is_model_call(found) is expected


SNIFFS = [
    (b'{"resourceSpans":[{"resource":', True), (b'\xef\xbb\xbf \n{\n "resourceSpans" : [', True),
    (b'{"resourceMetrics": [', False), (b"timestamp,model\n", False), (b'[{"resourceSpans": []}]', False),
]


@pytest.mark.parametrize(("head", "expected"), SNIFFS)
def test_sniff_wants_a_top_level_resource_spans_key(head: bytes, expected: bool):
    """Recognise an export by its first key."""
    assert IMPORTERS["otel"].sniff(head, Path("x.json")) is expected


# fixture file, accepted, rejections (row, reason)
FILES = [
    (SPANS, 5, [(8, "missing_column")]),
    (JSONL, 2, [(2, "malformed_row"), (5, "malformed_row")]),
]


@pytest.mark.parametrize(("path", "accepted", "rejected"), FILES, ids=["document", "jsonl"])
def test_files_import_once(store, catalog, path: Path, accepted: int, rejected: list[tuple[int, str]]):
    """Detect and import a file; importing it again adds nothing."""
    first = ingest_file(store, catalog, path)
    again = ingest_file(store, catalog, path)
    assert (detect(path), first.accepted, again.accepted, again.duplicates) == ("otel", accepted, 0, accepted)
    assert [(r.row, r.reason) for r in first.rejections] == rejected
    sql = "SELECT model, input_tokens FROM workload_events WHERE request_id = {rid:String}"
    assert store.rows(sql, {"rid": span_id(1)}) == [{"model": "gpt-4o-2024-08-06", "input_tokens": 1200}]


@pytest.mark.parametrize(("text", "message"), [
    ('{"resourceSpans": [\n  {"resource": }', "line 2 column 16"),
    ('[\n 1, 2]', "not an OTLP/JSON traces export"),
])
def test_unreadable_documents_are_user_errors(tmp_path: Path, store, catalog, text: str, message: str):
    """Refuse a whole document that is not valid OTLP/JSON, saying where."""
    (tmp_path / "bad.json").write_text(text)
    with pytest.raises(UserInputError, match=message):
        ingest_file(store, catalog, tmp_path / "bad.json", "otel")


# records, expected (row, reason, detail) rejections
RECORDS = [
    ([{"timestamp": 1, "input_tokens": 1, "output_tokens": 1}, 3, "x", None, [1]],
     [(2, "malformed_row", "entry is a JSON number, not an object"),
      (3, "malformed_row", "entry is a JSON string, not an object"),
      (4, "malformed_row", "entry is a JSON null, not an object"),
      (5, "malformed_row", "entry is a JSON array, not an object")]),
    ([{"prefix_hashes": [1, -2]}, {"prefix_hashes": "ab"}, {"attributes": [1]}],
     [(1, "malformed_row", "prefix_hashes must be a list of unsigned 64-bit integers"),
      (2, "malformed_row", "prefix_hashes must be a list of unsigned 64-bit integers"),
      (3, "malformed_row", "attributes must be a JSON object")]),
]


@pytest.mark.parametrize(("records", "expected"), RECORDS, ids=["not-objects", "bad-shapes"])
def test_records_that_are_not_event_objects_are_malformed(records: list, expected: list[tuple]):
    """Reject non-objects and wrongly shaped typed columns, numbering rows from 1."""
    batch = records_batch(records)
    assert [(r.row, r.reason, r.detail) for r in batch.rejections] == expected


TYPED_RECORDS = [
    {"timestamp": "2026-03-02T00:00:00Z", "input_tokens": "10", "output_tokens": 2, "is_batch": True,
     "prefix_hashes": [1, 2**64 - 1], "attributes": {"a": 1, "b": "x"}, "unknown": 1},
    {"timestamp": "2026-03-02T00:00:01Z", "input_tokens": 5, "status": "error"},
]


def test_records_fill_defaults_and_keep_typed_columns():
    """Take defaults for missing keys (not for required ones) and build list and map columns."""
    table, rows, rejections = finalize(records_batch(TYPED_RECORDS, start_row=7), ImportOptions())
    got = table.select(["status", "is_batch", "input_tokens", "prefix_hashes", "attributes"]).to_pylist()
    assert got == [{"status": "ok", "is_batch": 1, "input_tokens": 10, "prefix_hashes": [1, 2**64 - 1],
                    "attributes": [("a", "1"), ("b", "x")]}]
    assert (rows.tolist(), rejections) == ([7], [Rejection(8, "missing_column", "output_tokens is missing")])


# span attributes -> the event's `service_tier`: the tier that served the call, else the tier requested;
# OTel's `openai.*` names and their older `gen_ai.openai.*` names; trimmed and lower-cased by `finalize`
SERVICE_TIERS = [
    ({"openai.response.service_tier": "priority", "openai.request.service_tier": "auto"}, "priority"),
    ({"gen_ai.openai.response.service_tier": "flex"}, "flex"),
    ({"openai.request.service_tier": "flex"}, "flex"),
    ({"gen_ai.openai.request.service_tier": " Priority "}, "priority"),
    ({"openai.response.service_tier": "default", "gen_ai.openai.request.service_tier": "priority"}, "default"),
    ({}, ""),
]


def _span(found: dict[str, str]) -> dict:
    """One chat span with usage and the given string attributes."""
    usage = {"gen_ai.request.model": "gpt-4o", "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 2}
    return {"spanId": "00000000000000ff", "startTimeUnixNano": "1772409600000000000", "attributes": [
        {"key": k, "value": {"intValue": str(v)} if isinstance(v, int) else {"stringValue": v}}
        for k, v in {**usage, **found}.items()]}


@pytest.mark.parametrize(("found", "tier"), SERVICE_TIERS)
def test_service_tier_comes_from_the_openai_span_attributes(found: dict, tier: str):
    document = {"resourceSpans": [{"scopeSpans": [{"spans": [_span(found)]}]}]}
    table, _, _ = finalize(otlp_batch(document)[0], ImportOptions())
    assert table.to_pylist()[0]["service_tier"] == tier
