"""Human in the loop with the JS `@langchain/langgraph-sdk` (Studio's and agent-chat-ui's client) against `netra serve`.

tests/js/interrupt.mjs, signed in as Studio signs in (the token as `apiKey`, sent as
`x-api-key`), streams the optimisation question with `interruptBefore:
["actions_to_meet_goals"]`, reads the paused thread (status `interrupted`, its interrupts by
task, found by a search for `interrupted`), sends a decision naming an unknown
recommendation, continues the thread with `command: {resume: {drop: [first]}}`, then sends
one more decision. The server is
the module's `netra serve` of test_js_sdk (its fixture, `mixed` 5,000 events, dev sign-in).
Without Node or tests/js/node_modules the test skips (under CI it fails).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_js_sdk import ran, served  # noqa: F401  (the served fixture)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def interrupted(served) -> Any:  # noqa: F811  (the imported fixture)
    """What tests/js/interrupt.mjs saw."""
    return ran(served, "interrupt.mjs")


def test_a_stream_with_interrupt_before_pauses_before_the_actions_agent(interrupted):
    assert interrupted["paused"][0] == "metadata" and "error" not in interrupted["paused"]
    assert interrupted["pausedEnd"]["status"] == "interrupted" and interrupted["offered"]
    assert interrupted["next"] == ["actions_to_meet_goals"]


def test_the_paused_thread_reads_interrupted_with_its_interrupt_by_task(interrupted):
    (task,), paused = interrupted["tasks"], interrupted["pausedThread"]
    assert (paused["status"], paused["interruptedFound"], list(paused["interrupts"])) == ("interrupted", True, [task["id"]])
    assert paused["interrupts"][task["id"]] == task["interrupts"]
    assert task["interrupts"][0]["value"]["kind"] == "approve_recommendations"
    assert interrupted["resumedThread"] == {"status": "idle", "interrupts": {}, "interruptedFound": False}


def test_a_resume_command_continues_without_the_dropped_recommendation(interrupted):
    dropped, kept = interrupted["offered"][0], interrupted["offered"][1:]
    assert interrupted["resumedEnd"]["status"] == "success" and interrupted["actions"] == kept
    assert dropped not in interrupted["report"] and interrupted["report"].startswith("# Netra report")


def test_bad_decisions_are_refused_and_the_runs_read_as_the_server_ran_them(interrupted):
    assert (interrupted["unknown"], interrupted["again"]) == (400, 409)
    assert interrupted["runs"] == ["success", "interrupted"]
