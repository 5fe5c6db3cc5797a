"""The `netra` command end to end, as a newcomer runs it (subprocesses, own NETRA_HOME)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import cli

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
PROGRESS_LINES = ("▶ triage", "▶ data", "▶ optimizations_core", "⚙ policy_simulator", "▶ reporting")


def netra(home: Path, *args: str, forked: bool = True) -> subprocess.CompletedProcess:
    """Run `netra ARGS` (forked: tests.support.cli) with NETRA_HOME=home and no model keys; return the process."""
    return cli.netra(home, *args, columns=120, timeout=500, forked=forked)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Run `netra demo` once on an empty home, as the real console script."""
    home = tmp_path_factory.mktemp("home")
    return home, netra(home, "demo", "--events", "20000", forked=False)


def test_demo_generates_runs_and_writes_the_report(demo):
    home, done = demo
    assert done.returncode == 0, done.stderr[-2000:]
    assert "store is empty" in done.stdout and "Recommendations" in done.stdout
    assert all(line in done.stdout for line in PROGRESS_LINES)
    reports = list((home / "reports").glob("*.md"))
    assert len(reports) == 1 and reports[0].read_text().startswith("# Netra report")
    assert json.loads(reports[0].with_suffix(".json").read_text())["report"]["grounded"] is True


def test_demo_on_a_loaded_store_does_not_regenerate(demo):
    home, _ = demo
    again = netra(home, "demo")
    assert again.returncode == 0 and "store is empty" not in again.stdout


def test_ask_answers_a_plain_question(demo):
    home, _ = demo
    done = netra(home, "ask", "What was the p95 latency of gpt-4o last week?")
    assert done.returncode == 0 and "95th percentile" in done.stdout
    assert "optimizations_core" not in done.stdout


def test_tools_list_names_every_tool(demo):
    home, _ = demo
    listed = netra(home, "tools", "list").stdout
    for name in ("cost_analyzer", "kv_cache_finder", "policy_simulator", "final_report_generator"):
        assert name in listed


def test_tools_run_prints_json(demo):
    home, _ = demo
    done = netra(home, "tools", "run", "cost_analyzer", "--args", '{"feature": "support_bot"}')
    result = json.loads(done.stdout)
    assert result["tool"] == "cost_analyzer" and result["figures"]["requests"]["value"] == 2800
    assert result["evidence"][0]["params"]["feature"] == "support_bot"


@pytest.mark.parametrize(("args", "message"), [
    (["tools", "run", "no_such_tool"], "no tool named 'no_such_tool'"),
    (["tools", "run", "cost_analyzer", "--args", "{bad"], "--args is not valid JSON"),
    (["tools", "run", "cost_analyzer", "--args", '{"dimension": 3}'], "invalid arguments for cost_analyzer"),
    (["generate", "--scenario", "nope", "--events", "10"], "nope"),
])
def test_user_mistakes_exit_2_with_one_clear_line(demo, args, message):
    home, _ = demo
    done = netra(home, *args)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert "requests" in netra(home, "tools", "run", "cost_analyzer").stdout, "a mistake lost the data"


def test_a_store_held_by_another_process_is_one_clear_line(demo):
    home, _ = demo
    with holding_store(home):
        done = netra(home, "tools", "run", "cost_analyzer")
    assert done.returncode == 1 and "cannot open the analytics store" in done.stderr
    assert "Traceback" not in done.stderr


@contextlib.contextmanager
def holding_store(home: Path):
    """Keep the embedded store of `home` open in another process while the block runs."""
    holder = _holder(home)
    try:
        assert holder.stdout.readline().strip() == "holding"
        yield
    finally:
        holder.kill()
        holder.wait()


def _holder(home: Path) -> subprocess.Popen:
    env = {**os.environ, "NETRA_HOME": str(home)}
    return subprocess.Popen([sys.executable, "-c", HOLD_STORE], env=env, stdout=subprocess.PIPE, text=True)


HOLD_STORE = """
import time
from netra.config import get_settings
from netra.persistence.analytics import open_store
open_store(get_settings().resolved_clickhouse_url())
print("holding", flush=True)
time.sleep(60)
"""
