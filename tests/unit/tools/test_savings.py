"""savings_summarizer on a planted workload: the joint simulation's savings, totalled by kind and feature."""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.savings import FIGURES
from tests.support.factories import at, load

ZERO: dict[str, Any] = {"cached_input_tokens": 0, "cache_write_tokens": 0, "reasoning_tokens": 0, "is_batch": 0,
                        "prompt_hash": 0, "ttft_ms": 0, "status": "ok", "max_tokens": 1000}


def event(hours: float, feature: str, model: str, tokens: tuple[int, int]) -> dict[str, Any]:
    """One request of (input, output) tokens."""
    return {**ZERO, "timestamp": at(hours=hours), "feature": feature, "model": model,
            "request_id": f"{feature}-{hours}", "input_tokens": tokens[0], "output_tokens": tokens[1]}


# chat: four gpt-4o requests over exactly one day; report: two gpt-4o-mini requests
EVENTS = [event(h, "chat", "gpt-4o", (1000, 300)) for h in (0, 8, 16, 24)] + [
    event(h, "report", "gpt-4o-mini", (10_000, 1000)) for h in (2, 3)]
MONTH, YEAR = 30.0, 365.0
CHAT = 4 * (1000 * 2.5e-6 + 300 * 1e-5)                 # 0.022
REPORT = 2 * (10_000 * 1.5e-7 + 1000 * 6e-7)             # 0.0042
# together, in order: route chat to mini (0.022 -> 4 x (150 + 180) µ$ = 0.00132), cap its output at 200
# (4 x 100 x 0.6 µ$), batch report (half of 0.0042)
ATTRIBUTED = {"route_model": CHAT - 0.00132, "cap_max_tokens": 0.00024, "batch_api": 0.0021}
ALONE = {"route_model": CHAT - 0.00132, "cap_max_tokens": 4 * 100 * 1e-5, "batch_api": 0.0021}   # cap on gpt-4o
SAVED, CHAT_SAVED = sum(ATTRIBUTED.values()), ATTRIBUTED["route_model"] + ATTRIBUTED["cap_max_tokens"]


def policy(kind: str, feature: str = "chat", model: str = "gpt-4o", **params: Any) -> dict[str, Any]:
    """A policy as the dispatcher receives it (its stated saving plays no part)."""
    return {"policy_id": f"{kind}:{feature}:{model}", "kind": kind, "feature": feature, "model": model,
            "params": params, "monthly_saving_usd": 99.0}


POLICIES = [policy("route_model", target_model="gpt-4o-mini"), policy("cap_max_tokens", cap=200),
            policy("batch_api", "report", "gpt-4o-mini")]

EXPECTED_FIGURES = {"policies": 3, "baseline_monthly_cost_usd": (CHAT + REPORT) * MONTH,
                    "monthly_saving_usd": SAVED * MONTH, "annual_saving_usd": SAVED * YEAR,
                    "saving_share_pct": 100 * SAVED / (CHAT + REPORT),
                    "standalone_sum_monthly_usd": sum(ALONE.values()) * MONTH,
                    "overlap_removed_monthly_usd": (sum(ALONE.values()) - SAVED) * MONTH}
KIND_ROWS = [(kind, {"policies": 1, "monthly_saving_usd": s * MONTH, "annual_saving_usd": s * YEAR,
                     "share_of_spend_pct": 100 * s / (CHAT + REPORT), "share_of_saving_pct": 100 * s / SAVED})
             for kind, s in sorted(ATTRIBUTED.items())]
FEATURE_ROWS = [
    ("chat", {"baseline_monthly_cost_usd": CHAT * MONTH, "policies": 2, "monthly_saving_usd": CHAT_SAVED * MONTH,
              "annual_saving_usd": CHAT_SAVED * YEAR, "share_of_spend_pct": 100 * CHAT_SAVED / CHAT,
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
    """The store holding EVENTS; returns a dispatcher over it."""
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


def test_the_kind_totals_add_up_to_the_joint_saving(planted):
    result = summarize(planted)
    kinds = sum(r["monthly_saving_usd"] for r in result.rows if r["table"] == "kind")
    assert kinds == approx(result.value("monthly_saving_usd"))


def test_a_policy_that_cannot_apply_adds_nothing_and_is_noted(planted):
    result = summarize(planted, policies=[*POLICIES, policy("batch_api", "absent")])
    assert result.value("monthly_saving_usd") == approx(SAVED * MONTH)
    assert result.notes == ["batch_api:absent:gpt-4o: not applied: no events of this (feature, model) in scope"]


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
