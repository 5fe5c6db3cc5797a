"""Vectorised pricing of event tables: the same answers as pricing one request at a time."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from netra.persistence.analytics import AnalyticsStore
from netra.workloads.catalog import PriceCatalog, TokenCounts
from netra.workloads.events import events_from_records
from netra.workloads.overrides import apply_overrides, read_overrides
from netra.workloads.pricing import TOKEN_COLUMNS, PricingReport, cost_of, price_events, price_table, token_classes
from tests.support.factories import at, load

UNKNOWN = "no-such-model"

# model, input, cache read, cache write, of which 1 h, output, reasoning, is_batch, cost by hand
# (None: unknown model)
ROWS = [
    ("claude-sonnet-4-5", 10_000, 6_000, 2_000, 0, 1_500, 0, 0, 0.0378),
    ("claude-sonnet-4-5", 10_000, 6_000, 2_000, 0, 1_500, 0, 1, 0.0189),
    ("gpt-4o", 1_000, 0, 0, 0, 500, 0, 1, 0.00375),
    ("openai/gpt-4o", 2_000, 1_000, 0, 0, 100, 0, 0, 0.00475),
    ("gpt-4.1", 4_000, 0, 0, 0, 1_000, 0, 1, 0.008),
    ("gpt-4.1-2099-01-01", 4_000, 0, 0, 0, 1_000, 200, 0, 0.016),
    ("dashscope/qwen-plus-2025-04-28", 1_000, 0, 0, 0, 1_000, 500, 0, 0.003),
    ("claude-haiku-4-5", 0, 0, 0, 0, 0, 0, 0, 0.0),
    # 2000*3e-6 + 12000*3e-7 + 2000*3.75e-6 + 4000*6e-6 + 1000*1.5e-5 (docs/pricing.md)
    ("claude-sonnet-4-5", 20_000, 12_000, 6_000, 4_000, 1_000, 0, 0, 0.0561),
    ("claude-haiku-4-5", 5_000, 0, 5_000, 5_000, 100, 0, 0, 0.0105),  # 5000*2e-6 + 100*5e-6
    ("claude-haiku-4-5", 5_000, 0, 5_000, 5_000, 100, 0, 1, 0.01025),  # batch: 1 h write at 2e-6
    ("gpt-4o", 1_000, 0, 500, 500, 0, 0, 0, 0.0025),  # no write prices: all at input
    ("claude-haiku-4-5", 1_000, 0, 200, 900, 0, 0, 0, 0.0012),  # 1 h part capped: 800*1e-6 + 200*2e-6
    (UNKNOWN, 5_000, 0, 0, 0, 500, 0, 0, None),
    (UNKNOWN, 1, 0, 0, 0, 1, 0, 1, None),
]
COST = 8  # index of the cost in a ROWS entry
_FIELDS = ("model", "input_tokens", "cached_input_tokens", "cache_write_tokens", "cache_write_1h_tokens",
           "output_tokens", "reasoning_tokens", "is_batch")
VERSION = "1.110.2"


def records(rows: list[tuple] = ROWS) -> list[dict]:
    """Return event dicts for `rows`, one second apart, request ids in row order."""
    return [dict(zip(_FIELDS, row[:COST]), timestamp=at(seconds=i), request_id=f"r{i:02d}")
            for i, row in enumerate(rows)]


def one_at_a_time(catalog: PriceCatalog, row: tuple) -> float:
    """Price one row with `PriceCatalog.cost`."""
    model, inp, read, write, write_1h, out, reasoning, batch = row[:COST]
    tokens = TokenCounts(inp, read, write, out, reasoning, write_1h)
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
    assert table["cost_usd"][i].as_py() == pytest.approx(ROWS[i][COST], rel=1e-12)
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
    """Fill the existing cost_usd, priced and catalog_version columns in place."""
    table, _ = priced
    original = events_from_records(records())
    filled = ["cost_usd", "priced", "catalog_version"]
    assert table.schema == original.schema
    assert table.drop_columns(filled).equals(original.drop_columns(filled))


def test_pricing_appends_missing_cost_columns(catalog: PriceCatalog, priced):
    """Append cost_usd, priced and catalog_version when the input table lacks them."""
    filled = ["cost_usd", "priced", "catalog_version"]
    bare = events_from_records(records()).drop_columns(filled)
    table, report = price_table(catalog, bare)
    assert table.column_names[-3:] == filled
    assert table.select(filled).equals(priced[0].select(filled))
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
TOKEN_NAMES = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens",
               "reasoning_tokens", "cache_write_1h_tokens")


def split(input=0, cache_read=0, cache_write=0, cache_write_1h=0, output=0, reasoning=0) -> dict:
    """Return the billable classes with every priced class present."""
    return dict(input=input, cache_read=cache_read, cache_write=cache_write,
                cache_write_1h=cache_write_1h, output=output, reasoning=reasoning)


@pytest.mark.parametrize(("columns", "expected"), [
    ((100, 60, 30, 50, 20), split(input=10, cache_read=60, cache_write=30, output=30, reasoning=20)),
    ((10, 100, 0, 5, 9), split(cache_read=100, reasoning=9)),
    ((0, 0, 0, 0, 0), split()),
    ((100, 20, 50, 0, 0, 30), split(input=30, cache_read=20, cache_write=20, cache_write_1h=30)),
    ((100, 0, 50, 0, 0, 80), split(input=50, cache_write_1h=50)),  # 1 h part capped at the writes
])
def test_token_classes_match_billable_without_unsigned_wraparound(columns: tuple, expected: dict):
    """Split uint32 columns into float classes, clamped at zero like `TokenCounts.billable`.

    Five columns leave out `cache_write_1h_tokens`, as the synthetic generator does.
    """
    classes = token_classes({n: np.array([v], U32) for n, v in zip(TOKEN_NAMES, columns)})
    assert {k: float(v[0]) for k, v in classes.items()} == expected
    assert TokenCounts(*columns).billable() == expected


@pytest.mark.parametrize("model", ["gpt-4o", "claude-sonnet-4-5", "gpt-4.1", "claude-haiku-4-5"])
@pytest.mark.parametrize("batch", [False, True])
def test_cost_of_prices_rows_as_if_on_another_model(catalog: PriceCatalog, model: str, batch: bool):
    """Re-price every known row on one model, matching `PriceCatalog.cost`."""
    known = [row for row in ROWS if row[0] != UNKNOWN]
    columns = {k: np.array([row[i] for row in known], U32) for i, k in enumerate(_FIELDS) if 0 < i < 7}
    costs = cost_of(catalog, model, token_classes(columns), batch)
    expected = [one_at_a_time(catalog, (model, *row[1:7], batch)) for row in known]
    assert costs.tolist() == pytest.approx(expected, rel=1e-12)


def test_every_row_records_the_catalog_version(priced):
    """Record the catalog version on priced rows and on rows the catalog could not price."""
    table, _ = priced
    assert table["catalog_version"].to_pylist() == [VERSION] * len(ROWS)


# overrides, model -> (version it records, cost of its first ROWS entry by hand)
OVERRIDE_CASES = [
    ({"gpt-4o": {"input": 2e-6}}, {"openai/gpt-4o": (f"{VERSION}+overrides", 1000 * 2e-6 + 1000 * 1.25e-6 + 100 * 1e-5),
                                   "gpt-4.1": (VERSION, 0.008)}),
    ({"gpt-4.1": {"input": 2e-6, "output_batch": 4e-6}}, {"gpt-4.1": (VERSION, 0.008)}),  # same prices: unchanged
    ({"claude-haiku-4-5": {"cache_write_1h": 1.5e-6}},
     {"claude-haiku-4-5": (f"{VERSION}+overrides", 0.0), "claude-sonnet-4-5": (VERSION, 0.0378)}),
    ({"_note": "only a note"}, {"gpt-4o": (VERSION, 0.00375)}),
]


@pytest.mark.parametrize(("doc", "expected"), OVERRIDE_CASES)
def test_overrides_price_and_mark_the_version(catalog: PriceCatalog, tmp_path, doc: dict, expected: dict):
    """Price with overridden prices; mark `+overrides` only on models whose prices they changed."""
    (tmp_path / "o.json").write_text(json.dumps(doc))
    table, _ = price_table(apply_overrides(catalog, read_overrides(tmp_path / "o.json")), events_from_records(records()))
    for model, (version, cost) in expected.items():
        i = next(i for i, row in enumerate(ROWS) if row[0] == model)
        assert (table["catalog_version"][i].as_py(), table["cost_usd"][i].as_py()) == (version, pytest.approx(cost))


LOADED_SQL = ("SELECT request_id, cost_usd, priced, catalog_version, cache_write_1h_tokens AS w "
              "FROM workload_events ORDER BY request_id")


def test_loaded_events_carry_their_cost(store: AnalyticsStore, catalog: PriceCatalog):
    """Store each event's cost, priced flag, catalog version and 1 h writes as priced at load."""
    report = load(store, catalog, records())
    got = [(r["request_id"], r["cost_usd"], r["priced"], r["catalog_version"], r["w"]) for r in store.rows(LOADED_SQL)]
    expected = [(f"r{i:02d}", pytest.approx(row[COST] or 0.0, rel=1e-12), int(row[COST] is not None), VERSION, row[4])
                for i, row in enumerate(ROWS)]
    assert got == expected
    assert report.unknown_models == {UNKNOWN: 2}


# docs/pricing.md worked examples of price modes, long-context tiers and failed requests, priced as
# events by the one pricing function: name -> (event columns, USD written out there)
DOC_EVENT_EXAMPLES = {
    "priority": ({"model": "gpt-4o", "input_tokens": 1_000, "output_tokens": 100, "service_tier": "priority"},
                 0.00595),
    "standard": ({"model": "gpt-4o", "input_tokens": 1_000, "output_tokens": 100}, 0.0035),
    "flex": ({"model": "gpt-5", "input_tokens": 10_000, "output_tokens": 1_000, "service_tier": "flex"}, 0.01125),
    "no flex price": ({"model": "gpt-4o", "input_tokens": 1_000, "output_tokens": 100, "service_tier": "flex"},
                      0.0035),
    "above 200k": ({"model": "gemini-2.5-pro", "input_tokens": 300_000, "output_tokens": 2_000}, 0.78),
    "at 200k": ({"model": "gemini-2.5-pro", "input_tokens": 200_000, "output_tokens": 2_000}, 0.27),
    "batch above 200k": ({"model": "gemini-2.5-pro", "input_tokens": 300_000, "output_tokens": 2_000,
                          "is_batch": 1}, 0.39),
    "priority above 200k": ({"model": "gemini-2.5-pro", "input_tokens": 300_000, "output_tokens": 2_000,
                             "service_tier": "priority"}, 1.404),
    "cache reads above 200k": ({"model": "gemini-2.5-pro", "input_tokens": 300_000, "cached_input_tokens": 100_000,
                                "output_tokens": 2_000}, 0.555),
    "lookup order": ({"model": "gemini-2.5-pro", "input_tokens": 300_000, "cached_input_tokens": 100_000,
                      "output_tokens": 2_000, "service_tier": "flex"}, 0.2775),
    "rate limited": ({"model": "gpt-4o", "input_tokens": 1_000, "output_tokens": 0, "status": "error"}, 0.0),
    "timed out after output": ({"model": "gpt-4.1", "input_tokens": 1_000, "output_tokens": 50, "status": "timeout"},
                               0.0024),
}
DOC = Path(__file__).resolve().parents[2] / "docs" / "pricing.md"


def event_columns(event: dict) -> dict[str, np.ndarray]:
    """Return one event as the columns `price_events` reads (absent token columns 0)."""
    tokens = {k: np.array([event.get(k, 0)]) for k in TOKEN_COLUMNS}
    texts = {k: np.array([event.get(k, default)], dtype=object) for k, default in
             (("model", ""), ("service_tier", ""), ("status", "ok"))}
    return {**tokens, **texts, "is_batch": np.array([event.get("is_batch", 0)])}


@pytest.mark.parametrize("example", sorted(DOC_EVENT_EXAMPLES))
def test_docs_event_examples(catalog: PriceCatalog, example: str):
    """Reproduce the mode, tier and failed-request examples of docs/pricing.md and find them quoted there."""
    event, usd = DOC_EVENT_EXAMPLES[example]
    assert price_events(catalog, event_columns(event)).cost[0] == pytest.approx(usd, rel=1e-12, abs=1e-15)
    assert f"**${usd:.6f}".rstrip("0").rstrip(".") + "**" in DOC.read_text()
