"""`netra ask --netra-usage` end to end: Netra's own model calls, analysed like any team's.

In a fresh NETRA_HOME, `netra generate` loads the team's workload; two `netra ask` runs in
model mode (subprocesses whose agents call the scripted OpenAI-compatible server through
the real `ChatOpenAI` client) record their model calls as Netra's own events. Then
`netra ask --netra-usage` (offline) asks what one of Netra's features used and cost: its
figures must be the sums of what the two runs' reports recorded for that agent, read from
the usage workspace `local/netra` only.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from netra.llm.accounting import FEATURES
from tests.browser.test_usage_panel import answer
from tests.support import cli
from tests.support.llm_server import Reply, ScriptedLLM
from tests.support.servers import serving

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
QUESTIONS = ["How can we cut our LLM spend by 30% without hurting quality?",
             "What was the p95 latency of gpt-4o last week?"]
REPLIES = 40  # more than two runs ask for
ASKED = "How many tokens did the {feature} feature use, and what did it cost?"
# figure of the answer -> the usage total it sums over the model-mode runs
TOKEN_FIGURES = {"input_tokens": "input_tokens", "cached_input_tokens": "cached_input_tokens",
                 "output_tokens": "output_tokens", "requests": "sent"}


def netra(home: Path, *args: str, model: str = "") -> subprocess.CompletedProcess:
    """Run `netra ARGS` with NETRA_HOME=home (forked), offline unless `model` is the base URL of a model server."""
    env = {"NETRA_LLM_BASE_URL": model, "NETRA_LLM_MAX_RETRIES": "0"} if model else {}
    done = cli.netra(home, *args, columns=160, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def newest_report(home: Path) -> dict[str, Any]:
    """The structured twin of the newest report written under NETRA_HOME/reports.

    By modification time: two runs may start in the same second, and a report's name is its start second and an id.
    """
    return json.loads(max((home / "reports").glob("*.json"), key=lambda path: path.stat().st_mtime_ns).read_text())


def model_runs(home: Path) -> list[dict[str, Any]]:
    """Ask QUESTIONS in model mode, against a scripted server; return each run's usage as its report recorded it."""
    llm = ScriptedLLM()
    llm.script(*(Reply(make=answer) for _ in range(REPLIES)))
    with serving(llm.app):
        return [asked_with(home, question, llm.base_url) for question in QUESTIONS]


def asked_with(home: Path, question: str, model: str) -> dict[str, Any]:
    """Ask one question in model mode; return the usage of its report."""
    netra(home, "ask", question, model=model)
    return newest_report(home)["report"]["usage"]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> tuple[Path, list[dict[str, Any]]]:
    """A home with the team's workload and two model-mode runs; return it and the runs' usage."""
    home = tmp_path_factory.mktemp("home")
    netra(home, "generate", "--events", "2000")
    return home, model_runs(home)


def summed(usages: list[dict[str, Any]], agent: str, key: str) -> float:
    """The sum of one agent's usage total over the runs."""
    return sum(usage["agents"][agent][key] for usage in usages)


def figures(report: dict[str, Any], tool: str) -> dict[str, Any]:
    """The figures (name -> value) of the run's call of `tool`."""
    call = next(call for call in report["tool_calls"] if call["tool"] == tool)
    return {name: figure["value"] for name, figure in call["figures"].items()}


def workspaces_read(report: dict[str, Any]) -> set[str]:
    """Every workspace the run's queries were scoped to."""
    return {e["params"]["workspace_id"] for call in report["tool_calls"] for e in call.get("evidence", [])}


def assert_sums_of_the_runs(report: dict[str, Any], usages: list[dict[str, Any]], agent: str) -> None:
    """The answer's token figures and cost are the sums of what the runs recorded for `agent`."""
    tokens, cost = figures(report, "token_usage_analyzer"), figures(report, "cost_analyzer")
    assert {name: tokens[name] for name in TOKEN_FIGURES} == {
        name: summed(usages, agent, key) for name, key in TOKEN_FIGURES.items()}
    assert cost["total_cost_usd"] == pytest.approx(summed(usages, agent, "cost_usd"), abs=1e-6)  # 6 decimals


@pytest.mark.parametrize("agent", ["triage", "reporting"])
def test_netra_usage_answers_with_the_runs_own_usage(recorded, agent):
    home, usages = recorded
    done = netra(home, "ask", "--netra-usage", ASKED.format(feature=FEATURES[agent]))
    report = newest_report(home)
    assert_sums_of_the_runs(report, usages, agent)
    assert workspaces_read(report) == {"local/netra"} and report["request"]["filters"] == {"feature": FEATURES[agent]}
    assert f"(including cached reads and writes) (tokens): {summed(usages, agent, 'input_tokens'):,}" in done.stdout
    assert report["report"].get("usage") is None  # asked offline: no model call, no usage, no $0


def test_the_teams_answer_never_counts_netras_calls(recorded):
    home, usages = recorded
    netra(home, "ask", "How many tokens did we use, and what did it cost?")
    report = newest_report(home)
    assert workspaces_read(report) == {"local"} and figures(report, "token_usage_analyzer")["requests"] == 2000
    assert all(usage["total"]["sent"] > 0 for usage in usages)  # the runs did call the model
