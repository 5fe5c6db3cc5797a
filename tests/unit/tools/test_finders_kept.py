"""What the finders of one analysis share per data version (`Queries.rows(kind=...)`, `Queries.span`), and the
queries merged for it: max_tokens' two grouping sets, batching's unbatched rows of the day classes."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from netra.tools import ToolDispatcher
from netra.tools._cache_replay import scoped_events
from netra.tools._sql import DAY_CLASSES, DAY_CLASSES_SQL, Queries, render
from netra.tools.batching import day_savings
from netra.tools.max_tokens import _CAPS_SQL, _EXCESS, CAPS_SQL, MaxTokensArgs
from netra.tools.prompt_cache import TOOL, Calculation
from netra.tools.scope import Scope, in_workspace
from netra.workloads.caching import CHOICES
from netra.workloads.synthetic import generate_and_load
from tests.support.factories import at, load

TOTALS_SQL = "SELECT count() AS requests, sum(output_tokens) AS output FROM workload_events {where}"
# the two queries `CAPS_SQL` replaces: its pair totals (integers) and the tokens above the cap per pricing key
PAIRS_SQL = ("SELECT feature, model, count() AS requests, countIf(finish_reason = 'length') AS length_requests, "
             "any(p_cap) AS cap, " + _EXCESS + " AS excess_tokens, countIf(output_tokens > p_cap) AS affected"
             + _CAPS_SQL + "\nGROUP BY feature, model ORDER BY feature, model")
WRITE_CLASSES = ("cache_write", "cache_write_1h", "input", "")
INTEGERS = ("requests", "length_requests", "cap", "excess_tokens", "affected")


@pytest.fixture
def mixed(ctx, catalog):
    """A tool context over a fresh store holding a small `mixed` workload."""
    generate_and_load(ctx.store, catalog, "mixed", 4_000, 7, 14.0)
    return ctx


def event(hour: float, output: int = 100, **fields) -> dict:
    """One request of `hour`, with `output` tokens."""
    return {"timestamp": at(hours=hour), "feature": "chat", "model": "gpt-4o", "input_tokens": 500,
            "output_tokens": output, "max_tokens": 1024, "finish_reason": "stop", **fields}


def kept_rows(ctx) -> list[dict]:
    """Return the totals row read through the memo of kind "finders_test"."""
    with in_workspace(ctx.workspace_id):
        return Queries(ctx.store).rows(TOTALS_SQL, Scope(), kind="finders_test")


def test_kept_rows_are_read_once_per_data_version(ctx, catalog):
    load(ctx.store, catalog, [event(h) for h in range(3)])
    first, again = kept_rows(ctx), kept_rows(ctx)
    load(ctx.store, catalog, [event(5, 50)])
    assert again is first and first == [{"requests": 3, "output": 300}]
    assert kept_rows(ctx) == [{"requests": 4, "output": 350}]


def test_kept_rows_refuse_to_be_written(ctx, catalog):
    load(ctx.store, catalog, [event(h) for h in range(3)])
    with pytest.raises(TypeError):
        kept_rows(ctx)[0]["requests"] = 0
    assert kept_rows(ctx) == [{"requests": 3, "output": 300}]


def test_kept_rows_keep_their_evidence_in_every_caller(ctx, catalog):
    load(ctx.store, catalog, [event(0)])
    with in_workspace(ctx.workspace_id):
        queries = [Queries(ctx.store) for _ in range(2)]
        found = [q.rows(TOTALS_SQL, Scope(), kind="finders_test") for q in queries]
    assert found[0] is found[1]
    assert queries[0].evidence == queries[1].evidence and len(queries[0].evidence) == 1


def test_span_is_kept_per_data_version(ctx, catalog):
    load(ctx.store, catalog, [event(0), event(12)])
    with in_workspace(ctx.workspace_id):
        days = [Queries(ctx.store).span(Scope()) for _ in range(2)]
        load(ctx.store, catalog, [event(36)])
        later = Queries(ctx.store).span(Scope())
    assert (days, later) == ([0.5, 0.5], 1.5)


def test_cost_tools_report_the_same_kept_totals(ctx, catalog):
    load(ctx.store, catalog, [event(h, 10 * h) for h in range(6)])
    analysis = ToolDispatcher(ctx).run("cost_analyzer", {})
    drivers = ToolDispatcher(ctx).run("cost_driver_identifier", {"dimension": "model"})
    assert analysis.value("total_cost_usd") == drivers.value("total_cost_usd") > 0


def caps_rows(ctx, scope: MaxTokensArgs) -> list[list[dict]]:
    """Return the rows of `CAPS_SQL` and of the separate pair query over the scope."""
    with in_workspace(ctx.workspace_id):
        q = Queries(ctx.store)
        return [q.rows(sql, scope, "max_tokens > 0", scope.cap_rule()) for sql in (CAPS_SQL, PAIRS_SQL)]


def excess_per_pair(found: list[dict]) -> dict[tuple[str, str], int]:
    """Sum the output tokens above the cap of the rows per pricing key (`whole_pair` 0), per pair."""
    sums: Counter = Counter()
    for row in found:
        sums[(row["feature"], row["model"])] += 0 if row["whole_pair"] else row["output"]
    return dict(sums)


@pytest.mark.parametrize("args", [{}, {"percentile": 0.5}, {"headroom": 2.0, "round_to": 100}])
def test_caps_grouping_sets_match_the_separate_queries(mixed, args):
    found, pairs = caps_rows(mixed, MaxTokensArgs(**args))
    assert [{k: r[k] for k in ("feature", "model", *INTEGERS)} for r in found if r["whole_pair"]] == pairs
    assert excess_per_pair(found) == {(p["feature"], p["model"]): p["excess_tokens"] for p in pairs}
    assert any(p["excess_tokens"] for p in pairs)


def test_batching_prices_the_unbatched_groups_of_the_day_classes(mixed, catalog):
    load(mixed.store, catalog, [event(h, is_batch=1) for h in range(30)] + [event(h) for h in range(30)])
    with in_workspace(mixed.workspace_id):
        sql, params = render(DAY_CLASSES_SQL, Scope(), "is_batch = 0")
        unbatched = mixed.store.rows(sql, params)
        every = Queries(mixed.store).rows(DAY_CLASSES_SQL, Scope(), kind=DAY_CLASSES)
    assert len(every) > len(unbatched) > 0
    assert day_savings(catalog, every).days == day_savings(catalog, unbatched).days


@pytest.mark.parametrize("choice", ["5m", "1h"])
def test_writes_as_compares_each_entrys_write_class(mixed, choice):
    replay = scoped_events(mixed, Scope()).replay(choice)
    entries = np.arange(len(replay.eligible))
    assert {name: replay.writes_as(name, entries).tolist() for name in WRITE_CLASSES} == {
        name: (replay.write_class == name).tolist() for name in WRITE_CLASSES}
    assert len(set(replay.write_class.tolist())) > 2  # eligible writes of two classes, and the not eligible


# the finders an analysis runs, with their arguments: every one of their queries is kept per data version
ANALYSIS_FINDERS = (("cost_analyzer", {}), ("cost_driver_identifier", {"dimension": "feature"}),
                    ("latency_analyzer", {"group_by": "model"}), ("token_usage_analyzer", {}),
                    ("model_mix_analyzer", {}), ("kv_cache_finder", {}), ("max_tokens_optimizer", {}),
                    ("batch_opportunity_finder", {}), ("model_routing_recommender", {}),
                    ("retry_waste_analyzer", {}), ("prompt_cache_savings_calculator", {}))


def read_events(store, monkeypatch) -> list[str]:
    """Record the queries of `store` that read more than the parts list (the data version, the prefix parts)."""
    read: list[str] = []
    query = type(store)._query

    def counted(self, sql, params, run=None):
        read.extend([] if "system.parts" in sql else [sql])
        return query(self, sql, params, run)
    monkeypatch.setattr(type(store), "_query", counted)
    return read


def analysis(ctx) -> list[dict]:
    """Return the full results of the finders of an analysis (rows, figures, notes, evidence)."""
    return [ToolDispatcher(ctx).run(name, args).model_dump(exclude={"cached"}) for name, args in ANALYSIS_FINDERS]


def test_an_analysis_of_unchanged_data_reads_no_event_again(mixed, monkeypatch):
    first = analysis(mixed)
    read = read_events(mixed.store, monkeypatch)
    assert analysis(mixed) == first and read == []


def test_the_kept_finder_rows_are_not_reused_once_the_data_changed(mixed, catalog, monkeypatch):
    before = analysis(mixed)
    load(mixed.store, catalog, [event(h) for h in range(3)])
    read = read_events(mixed.store, monkeypatch)
    after = analysis(mixed)
    assert read and before[0]["figures"]["requests"]["value"] + 3 == after[0]["figures"]["requests"]["value"]


def counted_outcomes(monkeypatch) -> list:
    """Record the replay of every `Calculation.outcome` call."""
    built, outcome = [], Calculation.outcome

    def counted(self, replay):
        built.append(replay)
        return outcome(self, replay)
    monkeypatch.setattr(Calculation, "outcome", counted)
    return built


def test_the_prompt_cache_outcomes_are_computed_once_per_data_version(mixed, catalog, monkeypatch):
    built = counted_outcomes(monkeypatch)
    first = [ToolDispatcher(mixed).run(TOOL, {}).model_dump(exclude={"cached"}) for _ in range(2)]
    load(mixed.store, catalog, [event(h) for h in range(3)])
    ToolDispatcher(mixed).run(TOOL, {})
    assert first[0] == first[1] and len(built) == 2 * len(CHOICES)   # once per choice, again on new data
