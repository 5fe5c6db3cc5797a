"""Each planted workload, stored and read back, holds what the core cases built on it state."""

from __future__ import annotations

from pathlib import Path

import pytest

from netra.evals.dataset import load_dataset
from netra.evals.planted import PLANTED, build
from netra.evals.truth import check_case, scope_truth
from netra.evals.workloads import load_workload, read_events, reference_catalog

CORE = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "core"
CASES = [c for c in load_dataset(CORE) if c.source[0] == "planted"]


def test_every_planted_workload_has_a_core_case():
    assert {c.source[1] for c in CASES} == set(PLANTED)


def test_a_seed_gives_the_same_events():
    assert build("overlapping", 3) == build("overlapping", 3) != build("overlapping", 4)


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_the_stored_workload_holds_what_its_cases_state(store, catalog, name):
    cases = [c for c in CASES if c.source[1] == name]
    load_workload(store, catalog, cases[0])
    events, reference = read_events(store), reference_catalog(catalog)
    assert len(events) == len(build(name, cases[0].seed))
    for case in cases:
        check_case(case, scope_truth(case, events, reference))
