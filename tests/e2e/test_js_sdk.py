"""The JS `@langchain/langgraph-sdk` (the client of LangGraph Studio and agent-chat-ui) against `netra serve`.

One `netra serve` subprocess for the module, on a NETRA_HOME of its own holding `mixed`
(5,000 events, seed 7) and its SQLite records, dev sign-in on; one user of `local` whose
bearer token the scripts of tests/js send. Each script prints one JSON line the tests
assert on. Without Node or tests/js/node_modules the tests skip (under CI they fail).

Human in the loop (the last tests): tests/js/interrupt.mjs, signed in as Studio signs in
(the token as `apiKey`, sent as `x-api-key`), streams the optimisation question with
`interruptBefore: ["actions_to_meet_goals"]`, reads the paused thread (status `interrupted`,
its interrupts by task, found by a search for `interrupted`), sends a decision naming an
unknown recommendation, continues the thread with `command: {resume: {drop: [first]}}`, then
sends one more decision. Every script works on threads of its own, so all share the one server.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from netra.config import Settings
from netra.graph.topology import NODES
from tests.e2e._js_sdk import js_sdk
from tests.e2e.test_live_runs_processes import Process, free_port, ready, stopped_after
from tests.support import cli
from tests.support.tenants import LOCAL_WORKSPACE, add_to_workspace

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
NETRA = str(Path(sys.executable).with_name("netra"))
AGENTS = {"triage", "data", "optimizations_core", "actions_to_meet_goals", "reporting"}


def _env(home: Path) -> dict[str, str]:
    env = cli.base_environment()
    return {**env, "NETRA_HOME": str(home), "NETRA_AUTH_MODE": "dev", "NETRA_LOG_JSON": "false",
            "NETRA_RATE_LIMIT_PER_MINUTE": "0"}


@contextlib.contextmanager
def serving(home: Path) -> Iterator[Process]:
    """Run `netra serve` with NETRA_HOME=home on a free port until the block ends; yield it once ready."""
    url, log = f"http://127.0.0.1:{free_port()}", home / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen([NETRA, "serve", "--port", url.rsplit(":", 1)[1]], env=_env(home),
                                stdout=sink, stderr=subprocess.STDOUT)
        with stopped_after(proc):
            yield ready(Process(url, proc=proc, output=log))


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """A `netra serve` over a generated home; its URL and a token of a user of `local`."""
    js_sdk()
    home = tmp_path_factory.mktemp("js") / "home"
    subprocess.run([NETRA, "generate", "--events", "5000", "--seed", "7"], env=_env(home), check=True,
                   capture_output=True, timeout=300)
    with serving(home) as server:
        yield server.url, _token(server.url, home)


def _token(url: str, home: Path) -> str:
    email = "js-sdk@example.com"
    token = httpx.post(f"{url}/auth/dev-login", json={"email": email}).json()["access_token"]
    add_to_workspace(Settings(_env_file=None, home=home), email)
    return token


def ran(served: tuple[str, str], script: str) -> Any:
    """Run a script of tests/js against the served Netra, acting in `local`."""
    return js_sdk().run(script, *served, workspace=LOCAL_WORKSPACE)


@pytest.fixture(scope="module")
def assistants(served) -> Any:
    return ran(served, "assistants.mjs")


@pytest.fixture(scope="module")
def threads(served) -> Any:
    return ran(served, "threads.mjs")


@pytest.fixture(scope="module")
def runs(served) -> Any:
    return ran(served, "runs.mjs")


def test_assistants_search_get_graph_and_schemas(assistants):
    assert [a["assistant_id"] for a in assistants["search"]] == ["netra"] and assistants["get"]["graph_id"] == "netra"
    assert {node["id"] for node in assistants["graph"]["nodes"]} == set(NODES) | {"__start__", "__end__"}
    assert assistants["xray"] == assistants["graph"] == assistants["depth"]
    assert assistants["schemas"]["state_schema"]["properties"]["question"] == {"type": "string"}
    assert assistants["subgraphs"] == {} and assistants["namespaced"] == {}


def test_threads_are_created_found_and_updated(threads):
    assert threads["joined"]["report"]["markdown"].startswith("# Netra report")
    assert threads["updated"]["metadata"]["stage"] == "review" and threads["got"]["metadata"]["team"] == "finops"
    assert threads["thread"]["thread_id"] in [t["thread_id"] for t in threads["found"]]


def test_threads_copy_fork_and_delete(threads):
    assert threads["copy"]["thread_id"] != threads["thread"]["thread_id"]
    assert threads["historyLength"] + 1 == threads["sourceHistoryLength"]  # the source has its fork on top
    assert threads["copyState"]["values"]["plan"] == ["data"] and threads["copyState"]["next"] == ["supervisor"]
    assert threads["forkState"]["parent_checkpoint_id"] == threads["earlier"]
    assert threads["forkState"]["values"]["question"] == "What did gpt-4o cost?"
    assert (threads["afterDelete"], threads["stateAfterDelete"]) == (404, 404)


def test_a_run_streams_every_mode_and_ends(runs):
    assert runs["events"][0] == "metadata" and runs["last"] == {"event": "end",
                                                                "data": {"run_id": runs["runId"], "status": "success"}}
    assert {"values", "updates", "custom", "debug", "messages"} <= set(runs["events"])
    assert runs["values"]["report"]["markdown"].startswith("# Netra report") and AGENTS <= set(runs["updates"])
    assert {"checkpoint", "task", "task_result"} <= set(runs["debug"])
    assert {"messages/metadata", "messages/complete", "messages"} <= set(runs["messages"])


def test_events_mode_streams_the_runs_callbacks_and_joins_them_again(runs):
    seen = runs["callbacks"]
    assert seen[0] == ["on_chain_start", "LangGraph"] and seen[-1] == ["on_chain_end", "LangGraph"]
    assert {("on_chain_start", node) for node in AGENTS} <= set(map(tuple, seen)) and "events" in runs["events"]
    assert runs["joinedEvents"] == len(seen) and runs["noKey"] == 401


def test_runs_join_list_get_and_cancel(runs):
    assert runs["rejoined"][0] == "metadata" and set(runs["rejoined"][1:-1]) == {"updates"}
    assert runs["first"]["status"] == "pending" and runs["joined"]["report"]["markdown"]
    assert runs["cancelled"] == 200 and runs["queuedAfter"]["status"] == "interrupted"
    assert runs["got"]["status"] == "success" and runs["endedCancel"] == 409 and runs["badMode"] == 422
    assert {run_id for run_id, _ in runs["list"]} == {runs["runId"], runs["first"]["run_id"], runs["queued"]["run_id"]}


@pytest.fixture(scope="module")
def interrupted(served) -> Any:
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
