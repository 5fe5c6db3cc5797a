"""The production prompt-cache replay agrees with the plain-Python reference, event by event.

Random small workloads (tests/property/workloads.py) and the hand-written edges of
tests/property/cases.py go into the real chDB store; `replay_scope` and the reference must
agree on every event's eligibility, reads, writes and costs, under both TTL options.
"""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings

from tests.property import cases
from tests.property.replay_check import check_replay
from tests.property.workloads import workloads

CHOICES = ("5m", "1h")
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(workload=workloads())
@example(workload=cases.TTL_EXPIRED)
@example(workload=cases.TTL_FRESH)
@example(workload=cases.SAME_MS)
@example(workload=cases.BELOW_MINIMUM)
@example(workload=cases.CROSS_MODEL)
@example(workload=cases.FAILED)
@example(workload=cases.LONG_CONTEXT)
@example(workload=cases.OPENAI_EXPIRED)
@example(workload=cases.CATALOG_RULES)
@example(workload=cases.LONE)
@example(workload=cases.UNHASHED)
def test_engine_replay_matches_the_reference(plant, reference_catalog, workload):
    ctx = plant(workload)
    for choice in CHOICES:
        check_replay(ctx, reference_catalog, workload, choice)
