"""Generic imports into the store: counts and sums, rejections, duplicates, all-or-nothing loads."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from netra.errors import UserInputError
from netra.workloads.importers import ImportOptions, _parquet, ingest_file
from netra.workloads.synthetic import generate
from tests.support.factories import at, load

RECORDS = [{"ts": "2026-03-02T00:00:00Z", "llm": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 100,
            "user_id": "u1"},
           {"ts": "2026-03-02T00:05:00Z", "llm": "gpt-4o-mini", "prompt_tokens": 2000, "completion_tokens": 200,
            "user_id": ""},
           {"ts": "2026-03-02T01:00:00Z", "llm": "gpt-4o", "prompt_tokens": 3000, "completion_tokens": 300,
            "user_id": "u2"}]
MAPPING = {"timestamp": "ts", "model": "llm", "input_tokens": "prompt_tokens", "output_tokens": "completion_tokens"}
SUMS = """SELECT count() AS n, sum(input_tokens) AS input, sum(output_tokens) AS output, sum(priced) AS priced,
  sum(cost_usd) AS cost, groupArray(user_id) AS users FROM (SELECT * FROM workload_events ORDER BY timestamp)"""
STAGING = "SELECT count() FROM system.tables WHERE name LIKE 'ingest_stage_%'"
ROUND_TRIP = ("SELECT sum(cost_usd) AS cost, sum(input_tokens) AS input, uniqExact(request_id) AS ids, "
              "sum(length(prefix_hashes)) AS blocks, countIf(status != 'ok') AS failed FROM workload_events")
NESTED = ["prefix_hashes", "attributes"]
COST = 1000 * 2.5e-6 + 100 * 1e-5 + 2000 * 1.5e-7 + 200 * 6e-7 + 3000 * 2.5e-6 + 300 * 1e-5


def write(path: Path, records: list[dict]) -> Path:
    """Write records in the format the file name says."""
    table = pa.Table.from_pylist(records)
    writers = {".csv": lambda: pcsv.write_csv(table, path), ".parquet": lambda: pq.write_table(table, path),
               ".jsonl": lambda: path.write_text("".join(json.dumps(r) + "\n" for r in records))}
    writers[path.suffix]()
    return path


@pytest.mark.parametrize("name", ["calls.csv", "calls.jsonl", "calls.parquet"])
def test_each_format_loads_counts_sums_and_costs(store, catalog, tmp_path, name):
    options = ImportOptions(mapping=MAPPING, user="anonymous")
    summary = ingest_file(store, catalog, write(tmp_path / name, RECORDS), options=options)
    assert (summary.read, summary.accepted, summary.duplicates, summary.rejected) == (3, 3, 0, {})
    sums = store.rows(SUMS)[0]
    assert (sums["n"], sums["input"], sums["output"], sums["priced"]) == (3, 6000, 600, 3)
    assert sums["cost"] == pytest.approx(COST) and sums["users"] == ["u1", "anonymous", "u2"]


@pytest.mark.parametrize("name", ["calls.csv", "calls.jsonl", "calls.parquet"])
def test_importing_the_same_file_twice_adds_nothing(store, catalog, tmp_path, name):
    path = write(tmp_path / name, RECORDS)
    first = ingest_file(store, catalog, path, options=ImportOptions(mapping=MAPPING))
    again = ingest_file(store, catalog, path, options=ImportOptions(mapping=MAPPING))
    assert (first.accepted, again.accepted, again.duplicates, store.count()) == (3, 0, 3, 3)


def test_rows_with_their_own_request_id_are_deduplicated_by_it(store, catalog, tmp_path):
    records = [dict(r, request_id=f"req-{i % 2}") for i, r in enumerate(RECORDS)]
    summary = ingest_file(store, catalog, write(tmp_path / "ids.csv", records), options=ImportOptions(mapping=MAPPING))
    assert (summary.accepted, summary.duplicates) == (2, 1)
    assert store.rows("SELECT request_id FROM workload_events ORDER BY request_id") == [
        {"request_id": "req-0"}, {"request_id": "req-1"}]


MIXED = (b"timestamp,input_tokens,output_tokens,model\n2026-03-02T00:00:00Z,10,1,gpt-4o\n"
         b"2026-03-02T00:00:00Z,-10,1,gpt-4o\n2026-03-02T00:00:00Z,1\n"
         b"2026-03-02T00:00:00Z,10,1,\xff\nnever,1,1,gpt-4o\n2026-03-02T00:00:01Z,20,2,gpt-4o\n")


def test_valid_rows_load_next_to_rejected_ones(store, catalog, tmp_path):
    (tmp_path / "mixed.csv").write_bytes(MIXED)
    summary = ingest_file(store, catalog, tmp_path / "mixed.csv")
    assert summary.rejected == {"negative_tokens": 1, "malformed_row": 1, "invalid_utf8": 1, "bad_timestamp": 1}
    assert [(r.row, r.reason) for r in summary.rejections] == [
        (3, "malformed_row"), (4, "invalid_utf8"), (2, "negative_tokens"), (5, "bad_timestamp")]
    assert (summary.read, summary.accepted, store.count()) == (6, 2, 2)
    assert store.scalar("SELECT sum(input_tokens) FROM workload_events") == 30


@pytest.mark.parametrize(("name", "mapping"), [
    ("calls.csv", {"timestamp": "ts"}),                              # required columns missing: at the start
    ("calls.jsonl", {"timestamp": "ts"}),                            # found out only at the end of the file
    ("calls.jsonl", MAPPING | {"session_id": "conversation"}),     # a mapped key no row has: at the end
])
def test_a_fatal_error_leaves_the_store_as_it_was(store, catalog, tmp_path, name, mapping):
    load(store, catalog, [{"timestamp": at(), "model": "gpt-4o", "input_tokens": 5, "output_tokens": 5}])
    path = write(tmp_path / name, RECORDS * 400)
    with pytest.raises(UserInputError, match="missing|no row has"):
        ingest_file(store, catalog, path, options=ImportOptions(mapping=mapping, batch_rows=100))
    assert (store.count(), store.scalar(STAGING)) == (1, 0)


def failing_after(pieces, n: int):
    """Return a piece reader that yields the first `n` pieces, then fails like a lost disk."""
    def failing(*args):
        yield from list(pieces(*args))[:n]
        raise OSError("disk went away")
    return failing


def test_a_reader_failing_midway_loads_nothing(store, catalog, tmp_path, monkeypatch):
    monkeypatch.setattr(_parquet, "_pieces", failing_after(_parquet._pieces, 2))
    with pytest.raises(OSError, match="disk went away"):
        ingest_file(store, catalog, write(tmp_path / "c.parquet", RECORDS * 100),
                    options=ImportOptions(mapping=MAPPING, batch_rows=50))
    assert (store.count(), store.scalar(STAGING)) == (0, 0)


@pytest.fixture(scope="module")
def synthetic() -> pa.Table:
    """5,000 events of the `mixed` workload."""
    return generate("mixed", 5_000, 7).table


def expected_figures(table: pa.Table, nested: bool) -> dict:
    """Return what the store should hold after importing `table`, computed with Arrow."""
    hashes = pc.sum(pc.list_value_length(table["prefix_hashes"])).as_py() if nested else 0
    return {"input": pc.sum(table["input_tokens"]).as_py(), "ids": table.num_rows, "blocks": hashes,
            "failed": pc.sum(pc.not_equal(table["status"], "ok")).as_py()}


@pytest.mark.parametrize("name", ["w.parquet", "w.csv"])
def test_a_synthetic_workload_round_trips(store, catalog, tmp_path, synthetic, name):
    write_table = {"w.parquet": pq.write_table, "w.csv": lambda t, p: pcsv.write_csv(t.drop_columns(NESTED), p)}
    write_table[name](synthetic, tmp_path / name)
    summary = ingest_file(store, catalog, tmp_path / name, options=ImportOptions(batch_rows=1_000))
    got = store.rows(ROUND_TRIP)[0]
    assert (summary.accepted, summary.rejected) == (5_000, {})
    assert got.pop("cost") == pytest.approx(pc.sum(synthetic["cost_usd"]).as_py())
    assert got == expected_figures(synthetic, name == "w.parquet")


def test_a_large_import_moves_its_staging_to_disk_midway(store, catalog, tmp_path, monkeypatch):
    from netra.workloads.importers import loader

    monkeypatch.setattr(loader, "SPILL_ROWS", 150)
    path = write(tmp_path / "big.csv", RECORDS * 100)
    first = ingest_file(store, catalog, path, options=ImportOptions(mapping=MAPPING, batch_rows=100))
    again = ingest_file(store, catalog, path, options=ImportOptions(mapping=MAPPING, batch_rows=100))
    assert (first.accepted, again.duplicates, store.count(), store.scalar(STAGING)) == (300, 300, 300, 0)
    assert store.scalar("SELECT sum(input_tokens) FROM workload_events") == 600_000


# the one pricing function prices what ingest stores (docs/pricing.md): service tier, long context, refusals
PRICED_ON_INGEST = [
    ({"ts": "2026-03-02T00:00:00Z", "llm": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 100,
      "service_tier": "Priority"}, 0.00595),
    ({"ts": "2026-03-02T00:00:00Z", "llm": "gemini-2.5-pro", "prompt_tokens": 300_000, "completion_tokens": 2_000},
     0.78),
    ({"ts": "2026-03-02T00:00:00Z", "llm": "gpt-4o", "prompt_tokens": 1000, "completion_tokens": 0,
      "status": "error", "error_type": "rate_limit"}, 0.0),
]


@pytest.mark.parametrize(("record", "usd"), PRICED_ON_INGEST)
def test_ingest_prices_service_tier_long_context_and_refusals(store, catalog, tmp_path, record, usd):
    ingest_file(store, catalog, write(tmp_path / "one.jsonl", [record]), options=ImportOptions(mapping=MAPPING))
    assert store.rows(SUMS)[0]["cost"] == pytest.approx(usd, abs=1e-12)
