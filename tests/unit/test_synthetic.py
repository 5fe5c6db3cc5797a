"""Synthetic workloads: determinism, scenario contents, contract shapes and true savings."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from netra.errors import ScenarioNotFoundError, UserInputError
from netra.workloads.schema import ARROW_SCHEMA
from netra.workloads.synthetic import SCENARIOS, generate, generate_and_load, write_manifest

EVENTS = 20_000
BASE = {"chat_assistant", "code_assistant", "doc_qa"}
PLANTED = {"premium_on_simple": "ticket_classifier", "uncached_prefix": "support_bot",
           "oversized_max_tokens": "summarizer", "retry_storm": "agent_tools",
           "batchable_offline": "nightly_enrichment"}
EXPECTED_FEATURES = {"baseline": BASE, **{k: BASE | {v} for k, v in PLANTED.items()},
                     "mixed": BASE | set(PLANTED.values())}


@pytest.fixture(scope="module")
def mixed():
    """A mixed workload shared by the read-only tests."""
    return generate("mixed", 40_000, seed=11)


def num(table: pa.Table, name: str) -> np.ndarray:
    """Return a column as numpy (float64 for numbers, objects for strings)."""
    values = table[name].to_numpy(zero_copy_only=False)
    return values.astype(np.float64) if values.dtype.kind in "uif" else values


def of(table: pa.Table, feature: str) -> pa.Table:
    """Return the rows of one feature."""
    return table.filter(pc.equal(table["feature"], feature))


def entry(manifest: dict, kind: str) -> dict:
    """Return the manifest's inefficiency of `kind`."""
    return next(i for i in manifest["inefficiencies"] if i["kind"] == kind)


def span_days(table: pa.Table) -> float:
    """Days between the first and last event."""
    ts = table["timestamp"].to_numpy().astype(np.int64)
    return (ts.max() - ts.min()) / 86_400_000


# ---- hand-written truths, straight from docs/scenarios.md --------------------------------

def route_truth(t: pa.Table, catalog) -> tuple[int, float]:
    """Classifier tokens on gpt-4o minus the same tokens on gpt-4o-mini."""
    rows, hi, lo = of(t, "ticket_classifier"), catalog.unit_prices("gpt-4o"), catalog.unit_prices(
        "gpt-4o-mini")
    saving = num(rows, "input_tokens") * (hi["input"] - lo["input"])
    return rows.num_rows, float((saving + num(rows, "output_tokens") * (hi["output"] - lo["output"])).sum())


def batch_truth(t: pa.Table, catalog) -> tuple[int, float]:
    """Nightly tokens at standard minus batch prices."""
    rows, std = of(t, "nightly_enrichment"), catalog.unit_prices("gpt-4.1")
    bat = catalog.unit_prices("gpt-4.1", True)
    saving = num(rows, "input_tokens") * (std["input"] - bat["input"])
    return rows.num_rows, float((saving + num(rows, "output_tokens") * (std["output"] - bat["output"])).sum())


def max_tokens_truth(t: pa.Table, catalog) -> tuple[int, float]:
    """Summarizer output beyond 512 tokens at the output price."""
    rows = of(t, "summarizer")
    over = np.maximum(num(rows, "output_tokens") - 512, 0)
    return rows.num_rows, float(over.sum() * catalog.unit_prices("gpt-4.1")["output"])


def cache_truth(t: pa.Table, catalog) -> tuple[int, float]:
    """Hits save (input - read) on 3,072 tokens; each prompt's first occurrence pays the write."""
    rows, p = of(t, "support_bot"), catalog.unit_prices("claude-sonnet-4-5")
    prompts = len({tuple(h[:12]) for h in rows["prefix_hashes"].to_pylist()})
    saving = (rows.num_rows - prompts) * 3072 * (p["input"] - p["cache_read"])
    return rows.num_rows, saving - prompts * 3072 * (p["cache_write"] - p["input"])


def retry_truth(t: pa.Table, catalog) -> tuple[int, float]:
    """The billed cost of the agent's timed-out (then retried) attempts."""
    rows = of(t, "agent_tools").filter(pc.equal(of(t, "agent_tools")["error_type"], "timeout"))
    return rows.num_rows, float(num(rows, "cost_usd").sum())


TRUTHS = {"premium_on_simple": route_truth, "batchable_offline": batch_truth,
          "oversized_max_tokens": max_tokens_truth, "uncached_prefix": cache_truth,
          "retry_storm": retry_truth}


# ---- tests -------------------------------------------------------------------------------

def test_same_seed_gives_identical_events_and_manifest():
    first, second = generate("mixed", EVENTS, seed=3), generate("mixed", EVENTS, seed=3)
    assert first.table.equals(second.table)
    assert first.manifest == second.manifest


@pytest.mark.parametrize("column", ["prompt_hash", "request_id", "input_tokens", "timestamp"])
def test_different_seed_gives_different_events(column):
    first, second = generate("mixed", EVENTS, seed=3), generate("mixed", EVENTS, seed=4)
    assert not first.table[column].equals(second.table[column])
    assert first.manifest["total_cost_usd"] != second.manifest["total_cost_usd"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_holds_its_features_only(scenario, catalog):
    workload = generate(scenario, EVENTS, seed=5, catalog=catalog)
    assert set(num(workload.table, "feature")) == EXPECTED_FEATURES[scenario]
    assert workload.table.num_rows == EVENTS and workload.table.schema.equals(ARROW_SCHEMA)
    assert pc.all(pc.equal(workload.table["priced"], 1)).as_py()
    assert {i["kind"] for i in workload.manifest["inefficiencies"]} == (
        set(PLANTED) if scenario == "mixed" else set(PLANTED) & {scenario})


@pytest.mark.parametrize("scenario", ["premium_on_simple", "batchable_offline", "oversized_max_tokens",
                                      "uncached_prefix", "retry_storm"])
def test_manifest_saving_matches_hand_formula(scenario, catalog):
    workload = generate(scenario, EVENTS, seed=9, catalog=catalog)
    affected, window = TRUTHS[scenario](workload.table, catalog)
    found = entry(workload.manifest, scenario)
    assert (found["affected_events"], found["feature"]) == (affected, PLANTED[scenario])
    assert found["window_saving_usd"] == pytest.approx(window, rel=1e-9) and window > 0
    assert found["monthly_saving_usd"] == pytest.approx(window * 30 / span_days(workload.table), rel=1e-6)


@pytest.mark.parametrize("kind", sorted(TRUTHS))
def test_mixed_manifest_matches_hand_formulas(mixed, catalog, kind):
    affected, window = TRUTHS[kind](mixed.table, catalog)
    assert entry(mixed.manifest, kind)["window_saving_usd"] == pytest.approx(window, rel=1e-9)
    assert entry(mixed.manifest, kind)["affected_events"] == affected


def test_manifest_totals_and_window(mixed):
    m, costs = mixed.manifest, num(mixed.table, "cost_usd")
    assert m["total_cost_usd"] == pytest.approx(costs.sum(), rel=1e-9)
    assert m["span_days"] == pytest.approx(span_days(mixed.table), rel=1e-9) and 13 < m["span_days"] <= 14
    assert m["monthly_cost_usd"] == pytest.approx(costs.sum() * 30 / m["span_days"], rel=1e-9)
    assert m["start"].startswith("2026-03-02T") and m["end"].startswith("2026-03-15T")


@pytest.mark.parametrize("kind, fix", [
    ("premium_on_simple", {"target_model": "gpt-4o-mini"}),
    ("uncached_prefix", {"prompts": 3, "prefix_tokens": 3072}),
    ("oversized_max_tokens", {"cap": 512}), ("retry_storm", {"max_retries": 1, "backoff": "exponential"}),
    ("batchable_offline", {"api": "batch"})])
def test_manifest_fixes(mixed, kind, fix):
    assert entry(mixed.manifest, kind)["fix"] == fix


@pytest.mark.parametrize("feature", ["chat_assistant", "code_assistant", "doc_qa", "ticket_classifier",
                                     "support_bot", "agent_tools", "nightly_enrichment"])
def test_only_the_summarizer_finishes_with_length(mixed, feature):
    rows = of(mixed.table, feature)
    assert "length" not in set(num(rows, "finish_reason"))
    assert num(rows, "max_tokens").min() >= 2 * num(rows, "output_tokens").max()


def test_summarizer_runs_away_to_max_tokens(mixed):
    rows = of(mixed.table, "summarizer")
    length = num(rows, "finish_reason") == "length"
    assert set(num(rows, "max_tokens")) == {8192} and 0.02 < length.mean() < 0.06
    output = num(rows, "output_tokens")
    assert set(output[length]) == {8192} and output[~length].max() <= 400


def test_support_bot_repeats_three_twelve_block_prefixes(mixed):
    hashes = of(mixed.table, "support_bot")["prefix_hashes"].to_pylist()
    assert len({tuple(h[:12]) for h in hashes}) == 3
    tails = [v for h in hashes for v in h[12:]]
    assert len(set(tails)) == len(tails) and min(len(h) for h in hashes) >= 12


def test_only_shared_prompt_blocks_repeat(mixed):
    values, counts = np.unique(pc.list_flatten(mixed.table["prefix_hashes"]).to_numpy(), return_counts=True)
    assert (counts > 1).sum() == 4 + 8 + 3 * 12  # chat, code, three support prompts


@pytest.mark.parametrize("feature, column, first, after", [
    ("chat_assistant", "cached_input_tokens", 0, 1024), ("chat_assistant", "cache_write_tokens", 0, 0),
    ("code_assistant", "cached_input_tokens", 0, 2048), ("code_assistant", "cache_write_tokens", 2048, 0),
    ("support_bot", "cached_input_tokens", 0, 0), ("support_bot", "cache_write_tokens", 0, 0)])
def test_cache_use_of_cached_features(mixed, feature, column, first, after):
    rows = of(mixed.table, feature).filter(pc.equal(of(mixed.table, feature)["status"], "ok"))
    values = num(rows, column)
    assert values[0] == first and set(values[1:]) == {after}


@pytest.mark.parametrize("feature, streamed, interactive", [
    ("ticket_classifier", True, True), ("chat_assistant", True, True), ("summarizer", True, True),
    ("agent_tools", True, True), ("nightly_enrichment", False, False)])
def test_streaming_and_sessions(mixed, feature, streamed, interactive):
    rows = of(mixed.table, feature).filter(pc.equal(of(mixed.table, feature)["status"], "ok"))
    ttft = num(rows, "ttft_ms")
    assert bool((ttft > 0).all()) == streamed and bool((ttft == 0).all()) != streamed
    assert bool((num(rows, "session_id") != "").all()) == interactive
    assert bool((num(rows, "thread_id") != "").all()) == interactive


def test_nightly_runs_between_one_and_five_utc(mixed):
    hours = pc.hour(of(mixed.table, "nightly_enrichment")["timestamp"]).to_numpy()
    assert hours.min() >= 1 and hours.max() <= 4
    assert pc.all(pc.equal(mixed.table["is_batch"], 0)).as_py()


def test_arrivals_peak_in_the_afternoon():
    stamps = generate("baseline", EVENTS, seed=2).table["timestamp"]
    hours = np.bincount(pc.hour(stamps).to_numpy(), minlength=24)
    assert hours.argmax() in range(13, 18) and hours.argmin() in range(1, 6)


def test_retries_share_prompt_hash_and_end_in_success(mixed):
    rows = of(mixed.table, "agent_tools")
    hashes, ts = rows["prompt_hash"].to_numpy(), rows["timestamp"].to_numpy().astype(np.int64)
    ok, order = num(rows, "status") == "ok", np.lexsort((ts, hashes))
    same, gaps = hashes[order][1:] == hashes[order][:-1], np.diff(ts[order])
    assert gaps[same].min() >= 1000 and gaps[same].max() <= 5000
    last = np.append(~same, True)
    assert ok[order][last].all() and not ok[order][~last].any()


def test_timeouts_are_billed_and_rate_limits_are_free(mixed):
    error, cost = num(mixed.table, "error_type"), num(mixed.table, "cost_usd")
    timeouts = mixed.table.filter(pc.equal(mixed.table["error_type"], "timeout"))
    assert set(num(timeouts, "latency_ms")) == {30000} and (num(timeouts, "cost_usd") > 0).all()
    limited = error == "rate_limit"
    assert 0 < limited.mean() < 0.01 and cost[limited].max() == 0
    assert len(set(mixed.table["prompt_hash"].to_numpy()[limited])) == limited.sum()


@pytest.mark.parametrize("feature, flagged", [
    ("ticket_classifier", True), ("code_assistant", False), ("doc_qa", False), ("support_bot", False),
    ("summarizer", False), ("agent_tools", False), ("nightly_enrichment", False)])
def test_only_the_classifier_looks_like_a_routing_candidate(mixed, feature, flagged):
    rows = of(mixed.table, feature)
    p95 = [np.percentile(num(rows, c), 95) for c in ("input_tokens", "output_tokens")]
    assert (p95[0] <= 1000 and p95[1] <= 50) == flagged


def test_users_are_skewed(mixed):
    users, counts = np.unique(num(mixed.table, "user_id"), return_counts=True)
    assert list(users) == [f"u{i:02d}" for i in range(1, 13)] and counts[0] > 3 * counts[-1]


@pytest.mark.parametrize("scenario, events, days, error, text", [
    ("nope", 10, 14.0, ScenarioNotFoundError, "valid: baseline, premium_on_simple"),
    ("mixed", 0, 14.0, UserInputError, "events"), ("mixed", 10, 0.0, UserInputError, "days")])
def test_bad_arguments(scenario, events, days, error, text):
    with pytest.raises(error, match=text):
        generate(scenario, events, seed=1, days=days)


def test_generate_and_load_inserts_in_chunks(store, catalog):
    calls: list[tuple[int, int]] = []
    manifest = generate_and_load(store, catalog, "mixed", 12_345, 21, chunk=5_000,
                                 progress=lambda done, total: calls.append((done, total)))
    assert store.count() == 12_345 and calls == [(5_000, 12_345), (10_000, 12_345), (12_345, 12_345)]
    stored = store.scalar("SELECT sum(cost_usd) FROM workload_events")
    assert stored == pytest.approx(manifest["total_cost_usd"], rel=1e-9)


def test_chunked_load_equals_one_shot(store, catalog):
    manifest = generate_and_load(store, catalog, "retry_storm", 9_000, 4, chunk=2_000)
    one_shot = generate("retry_storm", 9_000, 4, catalog=catalog)
    assert manifest == one_shot.manifest
    sql = "SELECT sum(input_tokens), sum(prompt_hash % 1000), uniqExact(request_id) FROM workload_events"
    hashes = one_shot.table["prompt_hash"].to_numpy()
    expected = [pc.sum(one_shot.table["input_tokens"]).as_py(), int((hashes % 1000).sum()), 9_000]
    assert list(store.rows(sql)[0].values()) == expected


def test_write_manifest_round_trips(tmp_path, mixed):
    path = write_manifest(mixed.manifest, tmp_path / "manifests" / "mixed-11.json")
    assert json.loads(path.read_text()) == mixed.manifest


def test_packaged_azure_quantiles():
    doc = json.loads(resources.files("netra.workloads").joinpath("data/azure_lengths.json").read_text())
    assert doc["licence"] == "CC-BY-4.0" and len(doc["levels"]) == 201
    assert {s: v["rows"] for s, v in doc["services"].items()} == {"conv": 19366, "code": 8819}
    columns = ("ContextTokens", "GeneratedTokens")
    assert all(len(v[c]) == 201 for v in doc["services"].values() for c in columns)
