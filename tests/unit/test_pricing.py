"""Vectorised pricing of event tables: the same answers as pricing one request at a time."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from netra.persistence.analytics import AnalyticsStore
from netra.workloads.catalog import PriceCatalog, TokenCounts
from netra.workloads.events import events_from_records
from netra.workloads.pricing import PricingReport, cost_of, price_table, token_classes
from tests.factories import at, load

UNKNOWN = "no-such-model"

# model, input, cache read, cache write, output, reasoning, is_batch, cost by hand (None: unknown)
ROWS = [
    ("claude-sonnet-4-5", 10_000, 6_000, 2_000, 1_500, 0, 0, 0.0378),
    ("claude-sonnet-4-5", 10_000, 6_000, 2_000, 1_500, 0, 1, 0.0189),
    ("gpt-4o", 1_000, 0, 0, 500, 0, 1, 0.00375),
    ("openai/gpt-4o", 2_000, 1_000, 0, 100, 0, 0, 0.00475),
    ("gpt-4.1", 4_000, 0, 0, 1_000, 0, 1, 0.008),
    ("gpt-4.1-2099-01-01", 4_000, 0, 0, 1_000, 200, 0, 0.016),
    ("dashscope/qwen-plus-2025-04-28", 1_000, 0, 0, 1_000, 500, 0, 0.003),
    ("claude-haiku-4-5", 0, 0, 0, 0, 0, 0, 0.0),
    (UNKNOWN, 5_000, 0, 0, 500, 0, 0, None),
    (UNKNOWN, 1, 0, 0, 1, 0, 1, None),
]
_FIELDS = ("model", "input_tokens", "cached_input_tokens", "cache_write_tokens",
           "output_tokens", "reasoning_tokens", "is_batch")


def records(rows: list[tuple] = ROWS) -> list[dict]:
    """Return event dicts for `rows`, one second apart, request ids in row order."""
    return [dict(zip(_FIELDS, row[:7]), timestamp=at(seconds=i), request_id=f"r{i:02d}")
            for i, row in enumerate(rows)]


def one_at_a_time(catalog: PriceCatalog, row: tuple) -> float:
    """Price one row with `PriceCatalog.cost`."""
    model, inp, read, write, out, reasoning, batch = row[:7]
    tokens = TokenCounts(inp, read, write, out, reasoning)
    return catalog.cost(model, tokens, bool(batch))


@pytest.fixture
def priced(catalog: PriceCatalog) -> tuple[pa.Table, PricingReport]:
    """Price the mixed table of ROWS."""
    return price_table(catalog, events_from_records(records()))


@pytest.mark.parametrize("i", range(len(ROWS) - 2))
def test_vectorised_cost_equals_one_at_a_time(catalog: PriceCatalog, priced, i: int):
    """Price every known row exactly as `PriceCatalog.cost` does, and as by hand."""
    table, _ = priced
    assert table["cost_usd"][i].as_py() == pytest.approx(one_at_a_time(catalog, ROWS[i]), rel=1e-12)
    assert table["cost_usd"][i].as_py() == pytest.approx(ROWS[i][7], rel=1e-12)
    assert table["priced"][i].as_py() == 1


def test_unknown_model_is_reported_and_left_unpriced(priced):
    """Count the unknown model's requests; give them priced 0 and cost 0."""
    table, report = priced
    unknown = [i for i, row in enumerate(ROWS) if row[0] == UNKNOWN]
    assert report.unknown_models == {UNKNOWN: 2}
    assert report.unpriced == 2
    assert [table["cost_usd"][i].as_py() for i in unknown] == [0.0, 0.0]
    assert [table["priced"][i].as_py() for i in unknown] == [0, 0]


def test_pricing_keeps_schema_and_replaces_cost_columns(catalog: PriceCatalog, priced):
    """Fill the existing cost_usd and priced columns in place."""
    table, _ = priced
    original = events_from_records(records())
    assert table.schema == original.schema
    assert table.drop_columns(["cost_usd", "priced"]).equals(original.drop_columns(["cost_usd", "priced"]))


def test_pricing_appends_missing_cost_columns(catalog: PriceCatalog, priced):
    """Append cost_usd and priced when the input table lacks them."""
    bare = events_from_records(records()).drop_columns(["cost_usd", "priced"])
    table, report = price_table(catalog, bare)
    assert table.column_names[-2:] == ["cost_usd", "priced"]
    assert table.select(["cost_usd", "priced"]).equals(priced[0].select(["cost_usd", "priced"]))
    assert report == priced[1]


def test_multi_chunk_table_prices_like_one_chunk(catalog: PriceCatalog, priced):
    """Price a table made of several record batches the same way."""
    halves = [events_from_records(records(ROWS[:4])), events_from_records(records(ROWS[4:]))]
    table, report = price_table(catalog, pa.concat_tables(halves))
    assert table["cost_usd"].to_pylist() == priced[0]["cost_usd"].to_pylist()
    assert report.unknown_models == {UNKNOWN: 2}


def test_empty_table_prices_nothing(catalog: PriceCatalog):
    """Return an empty table and an empty report."""
    table, report = price_table(catalog, events_from_records(records(ROWS[:1])).slice(0, 0))
    assert table.num_rows == 0
    assert (report.unknown_models, report.unpriced) == ({}, 0)


U32 = np.uint32


@pytest.mark.parametrize(("columns", "expected"), [
    ((100, 60, 30, 50, 20), dict(input=10, cache_read=60, cache_write=30, output=30, reasoning=20)),
    ((10, 100, 0, 5, 9), dict(input=0, cache_read=100, cache_write=0, output=0, reasoning=9)),
    ((0, 0, 0, 0, 0), dict(input=0, cache_read=0, cache_write=0, output=0, reasoning=0)),
])
def test_token_classes_match_billable_without_unsigned_wraparound(columns: tuple, expected: dict):
    """Split uint32 columns into float classes, clamped at zero like `TokenCounts.billable`."""
    names = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens")
    classes = token_classes({n: np.array([v], U32) for n, v in zip(names, columns)})
    assert {k: float(v[0]) for k, v in classes.items()} == expected
    assert TokenCounts(*columns).billable() == expected


@pytest.mark.parametrize("model", ["gpt-4o", "claude-sonnet-4-5", "gpt-4.1"])
@pytest.mark.parametrize("batch", [False, True])
def test_cost_of_prices_rows_as_if_on_another_model(catalog: PriceCatalog, model: str, batch: bool):
    """Re-price every known row on one model, matching `PriceCatalog.cost`."""
    known = [row for row in ROWS if row[0] != UNKNOWN]
    columns = {k: np.array([row[i] for row in known], U32) for i, k in enumerate(_FIELDS) if 0 < i < 6}
    costs = cost_of(catalog, model, token_classes(columns), batch)
    expected = [one_at_a_time(catalog, (model, *row[1:6], batch)) for row in known]
    assert costs.tolist() == pytest.approx(expected, rel=1e-12)


def test_loaded_events_carry_their_cost(store: AnalyticsStore, catalog: PriceCatalog):
    """Store each event's cost and priced flag as priced at load."""
    report = load(store, catalog, records())
    rows = store.rows("SELECT request_id, cost_usd, priced FROM workload_events ORDER BY request_id")
    expected = [(f"r{i:02d}", row[7] or 0.0, int(row[7] is not None)) for i, row in enumerate(ROWS)]
    assert [(r["request_id"], pytest.approx(r["cost_usd"], rel=1e-12), r["priced"]) for r in rows] == expected
    assert report.unknown_models == {UNKNOWN: 2}
