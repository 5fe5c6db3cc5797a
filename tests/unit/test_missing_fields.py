"""`missing_fields`: each importer marks the fields its source does not carry, row by row.

A bit of `schema.FIELD_BITS` set on an event means its source logged no value for that field:
the preset formats by what their traces hold, the generic and record readers by the columns
(or keys) each row has, an option such as `--user` counting as a value.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netra.workloads.events import events_from_records
from netra.workloads.importers import ImportOptions, importer
from netra.workloads.importers.otel import otlp_batch
from netra.workloads.importers.records import records_batch
from netra.workloads.importers.validate import finalize
from netra.workloads.schema import FIELD_BITS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EVERY = frozenset(FIELD_BITS)
# what no trace of these formats logs, in any row
UNTIMED = frozenset({"latency_ms", "ttft_ms", "user_id", "session_id", "quality_score", "cached_input_tokens",
                     "max_tokens"})


def lacks(bits: int) -> frozenset[str]:
    """Return the fields whose bit is set in `bits`."""
    return frozenset(name for name, bit in FIELD_BITS.items() if bits & bit)


def imported(path: Path, fmt: str, **options) -> list[frozenset[str]]:
    """Read and validate a file with one importer; return each accepted row's missing fields."""
    opts = ImportOptions(**options)
    tables = [finalize(batch, opts)[0] for batch in importer(fmt).batches(path, opts)]
    return [lacks(bits) for table in tables for bits in table.column("missing_fields").to_pylist()]


@pytest.mark.parametrize("fmt, name, options, expected", [
    ("azure", "presets/AzureLLMInferenceTrace_conv_sample.csv", {}, EVERY),
    ("azure", "presets/AzureLLMInferenceTrace_conv_sample.csv", {"user": "team-a", "model": "gpt-4o"},
     EVERY - {"user_id"}),
    ("burstgpt", "presets/burstgpt_sample.csv", {}, UNTIMED | {"prefix_hashes"}),
    ("tracelab", "presets/tracelab_sample.jsonl", {},
     frozenset({"status", "user_id", "prefix_hashes", "quality_score", "max_tokens", "finish_reason"})),
    ("csv", "presets/generic_events.csv", {}, EVERY),
    ("jsonl", "presets/generic_events.jsonl", {}, EVERY),
], ids=["azure", "azure-user-option", "burstgpt", "tracelab", "csv", "jsonl"])
def test_a_format_marks_what_its_source_does_not_carry(fmt, name, options, expected):
    rows = imported(FIXTURES / name, fmt, **options)
    assert rows and set(rows) == {expected}


def test_mooncake_carries_prefix_hashes_except_on_a_row_without_any():
    rows = imported(FIXTURES / "presets/mooncake_sample.jsonl", "mooncake")
    assert rows[:-1] == [EVERY - {"prefix_hashes"}] * 11 and rows[-1] == EVERY  # line 12: "hash_ids": []


def test_a_csv_marks_the_rows_whose_cells_are_empty(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("timestamp,model,input_tokens,output_tokens,latency_ms,status\n"
                    "2026-03-02T00:00:00Z,gpt-4o,10,5,120,ok\n2026-03-02T00:00:01Z,gpt-4o,10,5,,\n")
    first, second = imported(path, "csv")
    assert ("latency_ms" in first, "status" in first, "latency_ms" in second, "status" in second) == (
        False, False, True, True)


# OTLP span -> the fields its attributes leave out (none carries a TTFT, a quality score or prefix hashes)
SPANS = {1: set(), 4: {"cached_input_tokens", "max_tokens", "session_id", "user_id"}, 5: {"session_id"},
         6: {"finish_reason", "max_tokens"}}


@pytest.mark.parametrize("span, extra", SPANS.items())
def test_an_otlp_span_lacks_the_attributes_it_has_not(span, extra):
    batch, _ = otlp_batch(json.loads((FIXTURES / "otel/genai_spans.json").read_text()))
    rows = {r["request_id"]: lacks(r["missing_fields"]) for r in finalize(batch, ImportOptions())[0].to_pylist()}
    assert rows[f"{span:016x}"] == {"ttft_ms", "prefix_hashes", "quality_score"} | extra


RECORD = {"timestamp": "2026-03-02T00:00:00Z", "model": "gpt-4o", "input_tokens": 10, "output_tokens": 5}


@pytest.mark.parametrize("record, expected", [
    (RECORD, EVERY),
    (RECORD | {"latency_ms": 0, "status": "ok", "user_id": None}, EVERY - {"latency_ms", "status"}),
    (RECORD | {"thread_id": "t1", "cache_write_tokens": 20, "quality_score": 0.9}, EVERY - {
        "session_id", "cached_input_tokens", "quality_score"}),
    (RECORD | {"missing_fields": FIELD_BITS["latency_ms"], "latency_ms": 5}, EVERY),
], ids=["bare", "zero-is-a-value", "either-column", "stated"])
def test_a_record_lacks_the_keys_it_has_not(record, expected):
    table, _, _ = finalize(records_batch([record]), ImportOptions())
    assert lacks(table.column("missing_fields")[0].as_py()) == expected


def test_events_from_records_marks_absent_keys_unless_stated():
    table = events_from_records([{"latency_ms": 100, "status": "ok"}, {"missing_fields": 0}])
    first, second = table.column("missing_fields").to_pylist()
    assert (lacks(first), second) == (EVERY - {"latency_ms", "status"}, 0)
