"""The evidence table (one row per policy kind, the same in code and in docs/tools.md) and the confidence formula."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from netra.tools._schedule import HourGrid
from netra.tools.evidence import EVIDENCE, SAMPLES, DailySavings, confidence, stability, to_log
from netra.tools.findings import PolicyKind
from netra.tools.policies import FINDERS

DOCS = (Path(__file__).resolve().parents[3] / "docs" / "tools.md").read_text()
SECTION = DOCS[DOCS.index("## Evidence each policy needs"):].split("\n## ", 1)[0]
SIGNALS = [(kind, s) for kind, req in EVIDENCE.items() for s in req.signals]


def test_every_policy_kind_states_its_evidence():
    assert set(EVIDENCE) == set(PolicyKind.__args__) == set(FINDERS)
    assert all(EVIDENCE[kind].checked_by == FINDERS[kind] for kind in EVIDENCE)


@pytest.mark.parametrize(("kind", "signal"), SIGNALS, ids=[f"{k}:{s.name}" for k, s in SIGNALS])
def test_every_signal_says_how_it_is_read_what_to_log_and_its_source(kind, signal):
    assert signal.reads and signal.log and signal.source
    assert re.search(rf"\| `{kind}` \|[^\n]*`{signal.name}`", SECTION), f"{kind}/{signal.name} not in docs/tools.md"


@pytest.mark.parametrize(("kind", "missing", "log"), [
    ("batch_api", ["schedule", "declared"], "attributes.interactive=false (or batch_eligible=true) on the requests "
                                            "nobody waits for; user_id on user-facing requests, and two or more days "
                                            "of traffic"),
    ("route_model", ["quality_scores"], "quality_score on a sample of the feature's requests on both models (a shadow "
                                        "run of the target)"),
    ("batch_api", [], ""),
])
def test_to_log_lists_the_missing_signals_in_table_order(kind, missing, log):
    assert to_log(kind, missing) == log


# per-day savings -> the share of day-resamples whose sum stays above 0
STABILITY = [
    (np.array([1.0, 2.0, 3.0]), 1.0),   # every resample saves
    (np.array([-1.0, -2.0]), 0.0),      # none does
    (np.array([5.0]), 1.0),             # one day: one possible resample
    (np.array([]), 0.0),                # no days: nothing shown
    (np.array([-1.0, 2.0]), 0.75),      # draws (-1,-1) lose, (-1,2), (2,-1), (2,2) save: 3 of 4
]


@pytest.mark.parametrize(("per_day", "share"), STABILITY)
def test_stability_is_the_share_of_day_resamples_that_still_save(per_day, share):
    tolerance = 3 * (share * (1 - share) / SAMPLES) ** 0.5  # three standard errors of the estimate
    assert stability(per_day) == pytest.approx(share, abs=tolerance + 1e-12)


def test_confidence_is_stability_times_the_evidence_factor():
    assert confidence(np.array([1.0, 2.0]), 0.4) == 0.4
    assert confidence(np.array([-1.0, 2.0]), 0.5) == round(stability(np.array([-1.0, 2.0])) * 0.5, 6)
    assert stability(np.array([-1.0, 2.0])) == stability(np.array([-1.0, 2.0]))  # a fixed seed


def test_daily_savings_sum_rows_per_pair_and_day_in_day_order():
    rows = [{"feature": "f", "model": "m", "day": d} for d in ("2026-03-03", "2026-03-02", "2026-03-03")]
    savings = DailySavings(rows, [1.0, 2.0, 4.0])
    assert savings.series(("f", "m")).tolist() == [2.0, 5.0] and savings.series(("g", "m")).tolist() == []


def hours(feature: str, days: range, at: tuple[int, ...], users: int = 0) -> list[dict]:
    """HOURS_SQL rows: one request of `feature` at each hour of `at` on each day."""
    return [{"feature": feature, "day": f"2026-03-0{d + 2}", "hour": h, "requests": 1, "with_user": users}
            for d in days for h in at]


def test_a_schedule_factor_is_the_rest_of_the_workload_outside_its_hours():
    """Nightly at 01 and 02 on three days; the app at 01, 12 and 13 with user ids: 3 of its 9 requests inside."""
    grid = HourGrid(hours("nightly", range(3), (1, 2)) + hours("app", range(3), (1, 12, 13), users=1))
    found = grid.check("nightly")
    assert (found.found, found.factor, found.absent) == (True, pytest.approx(6 / 9), False)
    assert not grid.check("app").found and "carry a user_id" in grid.check("app").text
