"""savings_summarizer on the rollout workload: policy_simulator's combination, totalled by kind and feature."""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.savings import FIGURES
from tests.factories import load
from tests.unit.tools.test_rollout import EVENTS, SPAN_DAYS, policy

MONTH, YEAR = 30 / SPAN_DAYS, 365 / SPAN_DAYS
CHAT = 20 * 1000 * 2.5e-6 + 3000 * 1e-5                 # 0.08
REPORT = 2 * (10000 * 1.5e-7 + 1000 * 6e-7)             # 0.0042
STATED = {"route_model": 0.04, "cap_max_tokens": 0.02, "batch_api": 0.0021}   # window savings

# chat: C × (1 − (1 − 0.04/C)(1 − 0.02/C)) = 0.05, shared 2:1; report: 0.0021 alone
CHAT_SAVED = CHAT * (1 - (1 - 0.04 / CHAT) * (1 - 0.02 / CHAT))
ATTRIBUTED = {"route_model": CHAT_SAVED * 2 / 3, "cap_max_tokens": CHAT_SAVED / 3, "batch_api": 0.0021}
SAVED = CHAT_SAVED + 0.0021
POLICIES = [{**policy("route_model", target_model="gpt-4o-mini"), "window_saving_usd": STATED["route_model"]},
            {**policy("cap_max_tokens", cap=200), "window_saving_usd": STATED["cap_max_tokens"]},
            {**policy("batch_api", "report", "gpt-4o-mini"), "window_saving_usd": STATED["batch_api"]}]

EXPECTED_FIGURES = {"policies": 3, "baseline_monthly_cost_usd": (CHAT + REPORT) * MONTH,
                    "monthly_saving_usd": SAVED * MONTH, "annual_saving_usd": SAVED * YEAR,
                    "saving_share_pct": 100 * SAVED / (CHAT + REPORT),
                    "standalone_sum_monthly_usd": sum(STATED.values()) * MONTH,
                    "overlap_removed_monthly_usd": (sum(STATED.values()) - SAVED) * MONTH}
KIND_ROWS = [(kind, {"policies": 1, "monthly_saving_usd": s * MONTH, "annual_saving_usd": s * YEAR,
                     "share_of_spend_pct": 100 * s / (CHAT + REPORT), "share_of_saving_pct": 100 * s / SAVED})
             for kind, s in sorted(ATTRIBUTED.items())]
FEATURE_ROWS = [
    ("chat", {"baseline_monthly_cost_usd": CHAT * MONTH, "policies": 2, "monthly_saving_usd": CHAT_SAVED * MONTH,
              "annual_saving_usd": CHAT_SAVED * YEAR, "share_of_spend_pct": 62.5,
              "share_of_saving_pct": 100 * CHAT_SAVED / SAVED}),
    ("report", {"baseline_monthly_cost_usd": REPORT * MONTH, "policies": 1, "monthly_saving_usd": 0.0021 * MONTH,
                "annual_saving_usd": 0.0021 * YEAR, "share_of_spend_pct": 50.0,
                "share_of_saving_pct": 100 * 0.0021 / SAVED}),
]
INVALID = [({"policies": [policy("teleport")]}, "policies.0.kind"), ({"policies": 3}, "policies"),
           ({"annual": True}, "annual"), ({"start": "not a date"}, "start")]


def approx(value: float) -> Any:
    """Match a figure or row value."""
    return pytest.approx(value, rel=1e-6, abs=1e-6)


@pytest.fixture
def planted(ctx) -> ToolDispatcher:
    """The store holding the rollout workload; returns a dispatcher over it."""
    load(ctx.store, ctx.catalog, EVENTS)
    return ToolDispatcher(ctx)


def summarize(dispatcher: ToolDispatcher, **args: Any):
    """Run the summarizer on POLICIES (unless `policies` is given)."""
    return dispatcher.run("savings_summarizer", {"policies": POLICIES, **args})


@pytest.mark.parametrize("name,value", sorted(EXPECTED_FIGURES.items()))
def test_figures_total_without_double_counting(planted, name, value):
    assert summarize(planted).value(name) == approx(value)


@pytest.mark.parametrize("table,key,rows", [("kind", "kind", KIND_ROWS), ("feature", "feature", FEATURE_ROWS)])
def test_totals_by_kind_and_by_feature(planted, table, key, rows):
    got = [r for r in summarize(planted).rows if r["table"] == table]
    assert [r[key] for r in got] == [name for name, _ in rows]
    assert [{k: r[k] for k in expected} for r, (_, expected) in zip(got, rows)] == [
        {k: approx(v) for k, v in expected.items()} for _, expected in rows]


def test_combined_saving_is_at_most_the_simple_sum(planted):
    result = summarize(planted)
    assert result.value("monthly_saving_usd") < result.value("standalone_sum_monthly_usd")


def test_without_policies_the_optimal_set_is_totalled(planted):
    result = planted.run("savings_summarizer", {})
    assert result.notes[0].startswith("no policies given: totalling optimal_policy_proposer's chosen set")


@pytest.mark.parametrize("args,field", INVALID)
def test_bad_arguments_name_the_field(ctx, args, field):
    with pytest.raises(ToolArgumentsError, match=field):
        ToolDispatcher(ctx).run("savings_summarizer", args)


def test_empty_scope_gives_zero_figures_and_a_note(planted):
    result = summarize(planted, feature="nothing-here")
    assert {k: f.value for k, f in result.figures.items()} == dict.fromkeys(FIGURES, 0.0)
    assert (result.rows, result.notes) == ([], [EMPTY_NOTE])
