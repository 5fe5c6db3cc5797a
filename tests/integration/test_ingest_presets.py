"""Preset imports into the store, checked against independent computations over the source files."""

from __future__ import annotations

import csv
import json
import os
import statistics
from itertools import groupby
from pathlib import Path

import pytest

from netra.tools import ToolDispatcher
from netra.workloads.importers import ImportOptions, ingest_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "presets"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
CODE, CONV = "AzureLLMInferenceTrace_code.csv", "AzureLLMInferenceTrace_conv.csv"
MOONCAKE = FIXTURES / "mooncake_sample.jsonl"

# exact medians: the mean of the lower and upper middle values, as statistics.median
MEDIAN_SQL = """SELECT (quantileExactLow(0.5)(input_tokens) + quantileExactHigh(0.5)(input_tokens)) / 2 AS input,
       (quantileExactLow(0.5)(output_tokens) + quantileExactHigh(0.5)(output_tokens)) / 2 AS output
FROM workload_events WHERE feature = {feature:String}"""
IDS_SQL = "SELECT request_id FROM workload_events ORDER BY request_id"


def shared(name: str) -> Path:
    """Return a file of ../shared/data; skip without it (fail under CI=true, whose copy has it)."""
    path = SHARED / name
    if not path.exists() and os.environ.get("CI") == "true":
        pytest.fail(f"{path} is missing (CI=true: the shared data is required)")
    if not path.exists():
        pytest.skip(f"shared data file {path} is not here; put ../shared/data next to the repo to run this test")
    return path


def azure_tokens(path: Path) -> tuple[list[int], list[int]]:
    """Return the ContextTokens and GeneratedTokens columns of an Azure trace, read with `csv`."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [int(r["ContextTokens"]) for r in rows], [int(r["GeneratedTokens"]) for r in rows]


def store_medians(store, feature: str) -> tuple[float, float]:
    """Return the exact input and output token medians of a feature, by SQL over the store."""
    row = store.rows(MEDIAN_SQL, {"feature": feature})[0]
    return row["input"], row["output"]


@pytest.mark.parametrize("name, rows", [(CODE, 8_819), (CONV, 19_366)])
def test_azure_trace_loads_every_row(store, catalog, name, rows):
    summary = ingest_file(store, catalog, shared(name))
    assert (summary.read, summary.accepted, summary.rejected, store.count()) == (rows, rows, {}, rows)


@pytest.mark.parametrize("name, feature", [(CONV, "conv"), (CODE, "code")])
def test_azure_token_means_and_medians_match_the_csv(ctx, name, feature):
    path = shared(name)
    ingest_file(ctx.store, ctx.catalog, path)
    inputs, outputs = azure_tokens(path)
    result = ToolDispatcher(ctx).run("token_usage_analyzer", {"feature": feature})
    means = [result.value("avg_input_tokens"), result.value("avg_output_tokens")]
    assert means == pytest.approx([statistics.fmean(inputs), statistics.fmean(outputs)], abs=1e-6)
    assert store_medians(ctx.store, feature) == (statistics.median(inputs), statistics.median(outputs))


# ---- Mooncake prefix replay -----------------------------------------------------------------

def leading_hits(hashes: list[int], seen: set[int]) -> int:
    """Return how many leading blocks of a request were seen before."""
    return next((i for i, h in enumerate(hashes) if h not in seen), len(hashes))


def replay(requests: list[dict], block: int = 512) -> tuple[float, float, int]:
    """Replay requests in time order with an unbounded cache; ties see only strictly earlier requests.

    Return (hit blocks / blocks, hit tokens / input tokens, hit tokens).
    """
    seen, hits = set(), 0
    for _, tied in groupby(sorted(requests, key=lambda r: r["timestamp"]), key=lambda r: r["timestamp"]):
        tied = list(tied)
        hits += sum(leading_hits(r["hash_ids"], seen) for r in tied)
        seen.update(h for r in tied for h in r["hash_ids"])
    blocks, inputs = sum(len(r["hash_ids"]) for r in requests), sum(r["input_length"] for r in requests)
    return hits / blocks, hits * block / inputs, hits * block


def test_replay_of_the_fixture_is_as_planned():
    requests = [json.loads(line) for line in MOONCAKE.open()]
    assert replay(requests) == (19 / 35, 19 * 512 / 16_068, 19 * 512)


def test_mooncake_hit_ratios_match_an_independent_replay(ctx):
    options = ImportOptions(model="claude-sonnet-4-5", feature="chat")
    ingest_file(ctx.store, ctx.catalog, MOONCAKE, "auto", options)
    result = ToolDispatcher(ctx).run("kv_cache_finder", {})
    figures = [result.value(name) for name in ("block_hit_ratio", "token_hit_ratio", "hit_tokens")]
    assert figures == pytest.approx(list(replay([json.loads(line) for line in MOONCAKE.open()])), abs=1e-6)


# ---- re-import ------------------------------------------------------------------------------

@pytest.mark.parametrize("batch_rows", [250_000, 2])
@pytest.mark.parametrize("name, rows", [
    ("AzureLLMInferenceTrace_conv_sample.csv", 5), ("burstgpt_sample.csv", 6),
    ("mooncake_sample.jsonl", 12), ("tracelab_sample.jsonl", 4),
])
def test_reimporting_a_file_adds_nothing(store, catalog, name, rows, batch_rows):
    first = ingest_file(store, catalog, FIXTURES / name)
    ids = store.rows(IDS_SQL)
    again = ingest_file(store, catalog, FIXTURES / name, "auto", ImportOptions(batch_rows=batch_rows))
    assert (first.accepted, again.accepted, again.duplicates, store.count()) == (rows, 0, rows, rows)
    assert store.rows(IDS_SQL) == ids and len({r["request_id"] for r in ids}) == rows
