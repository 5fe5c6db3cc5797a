"""response_cache_estimator on planted duplicate prompts, with served requests worked out by hand."""

from __future__ import annotations

from typing import Any

import pytest

from netra.errors import ToolArgumentsError
from netra.tools import ToolDispatcher
from netra.tools._sql import EMPTY_NOTE
from netra.tools.response_cache import FIGURES
from tests.support.factories import at, bound_params, load

TOOL = "response_cache_estimator"
COST = 1000 * 2.5e-6 + 100 * 1e-5  # one gpt-4o request: 1,000 input and 100 output tokens
K, F, T = 0x11, 0x22, 0x33


def event(name: str, minutes: float, prompt_hash: int, feature: str = "chat", model: str = "gpt-4o",
          status: str = "ok") -> dict[str, Any]:
    """One request named `name` (its request_id) at `minutes` past T0."""
    return {"timestamp": at(seconds=60 * minutes), "request_id": name, "feature": feature, "model": model,
            "prompt_hash": prompt_hash, "status": status, "input_tokens": 1000, "output_tokens": 100}


EVENTS = [
    # K: stored at 0; served at 10 and 50 min; expired at 70 (>= 60) and stored again; served at 80
    event("k1", 0, K), event("k2", 10, K), event("k3", 50, K), event("k4", 70, K),
    event("k5", 80, K, feature="other"),
    # F: a failure stores nothing; its retry (1 s later) stores; the next, 1 s after that, is served
    event("f1", 0, F, status="error"), event("f2", 1 / 60, F), event("f3", 2 / 60, F),
    # T: two at the same instant both miss
    event("t1", 30, T), event("t2", 30, T),
    # the same prompt on another model is another key
    event("m1", 5, K, model="gpt-4o-mini"),
    # no prompt hash: never considered
    event("u1", 0, 0), event("u2", 1, 0),
]
DAYS = 80 / 1440

# ttl_s -> served request ids
SERVED = {
    1: [],
    2: ["f3"],
    3600: ["k2", "k3", "k5", "f3"],
    7200: ["k2", "k3", "k4", "k5", "f3"],
}
# feature -> (requests, unhashed, served) with the default TTL of an hour
FEATURES = {"chat": (12, 2, 3), "other": (1, 0, 1)}


def run(ctx, catalog, args: dict[str, Any] | None = None, events: list[dict] | None = None):
    """Load the planted events and run the estimator."""
    load(ctx.store, catalog, EVENTS if events is None else events)
    return ToolDispatcher(ctx).run(TOOL, args or {})


@pytest.mark.parametrize(("ttl", "served"), sorted(SERVED.items()))
def test_ttl_decides_which_duplicates_are_served(ctx, catalog, ttl, served):
    result = run(ctx, catalog, {"ttl_s": ttl})
    assert (result.value("cacheable_requests"), result.value("saving_usd")) == \
        pytest.approx((len(served), len(served) * COST), abs=1e-9)


@pytest.mark.parametrize(("feature", "expected"), sorted(FEATURES.items()))
def test_feature_rows(ctx, catalog, feature, expected):
    row = next(r for r in run(ctx, catalog).rows if r["feature"] == feature)
    requests, unhashed, served = expected
    assert (row["requests"], row["unhashed_requests"], row["cacheable_requests"], row["cacheable_share"],
            row["saving_usd"], row["monthly_saving_usd"]) == \
        pytest.approx((requests, unhashed, served, served / requests, served * COST, served * COST * 30 / DAYS))


@pytest.mark.parametrize(("name", "value"), sorted({
    "requests": 13, "unhashed_requests": 2, "cacheable_requests": 4, "cacheable_share": 4 / 13,
    "saving_usd": 4 * COST, "monthly_saving_usd": 4 * COST * 30 / DAYS}.items()))
def test_figures(ctx, catalog, name, value):
    assert run(ctx, catalog).value(name) == pytest.approx(value, abs=1e-6)


def test_unhashed_requests_are_noted(ctx, catalog):
    assert run(ctx, catalog).notes == ["2 requests have no prompt_hash (0) and were not considered"]


@pytest.mark.parametrize(("scope", "served"), [({"feature": "other"}, 0), ({"model": "gpt-4o"}, 4)])
def test_scope_filters_are_bound_parameters(ctx, catalog, scope, served):
    result = run(ctx, catalog, scope)
    assert result.value("cacheable_requests") == served
    assert all(bound_params(scope, e.sql).items() <= e.params.items() for e in result.evidence)
    assert not any(v in e.sql for e in result.evidence for v in scope.values())


def test_empty_scope_gives_zeros_and_a_note(ctx, catalog):
    result = run(ctx, catalog, {"feature": "nothing"})
    assert ({k: f.value for k, f in result.figures.items()}, result.rows, result.notes) == \
        (dict.fromkeys(FIGURES, 0.0), [], [EMPTY_NOTE])


@pytest.mark.parametrize(("args", "field"), [({"ttl_s": 0}, "ttl_s"), ({"ttl_s": "an hour"}, "ttl_s"),
                                             ({"model": ["a"]}, "model")])
def test_bad_arguments_name_the_field(ctx, args, field):
    with pytest.raises(ToolArgumentsError, match=field):
        ToolDispatcher(ctx).run(TOOL, args)
