"""`netra eval` end to end: subprocesses with their own NETRA_HOME (and so their own chDB path)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support import cli

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
SMOKE = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "smoke"
UNPLANTED = {"id": "broken", "seed": 5, "events": "planted:sparse_cache", "question": "Cut the cost of weekly_digest",
             "intent": "optimize", "scope": {"feature": "weekly_digest"},
             "expected": {"findings": ["prompt_cache@weekly_digest"]}}


def netra(home: Path, *args: str) -> subprocess.CompletedProcess:
    """Run `netra ARGS` (forked: tests.support.cli) with NETRA_HOME=home and no model keys; return the process."""
    return cli.netra(home, *args, columns=200, timeout=500)


def flat(text: str) -> str:
    """Return `text` with line wrapping undone (every run of whitespace as one space)."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """Run the smoke dataset once in a fresh home; return (home, out folder, finished process)."""
    home = tmp_path_factory.mktemp("home")
    return home, home / "run", netra(home, "eval", "--dataset", str(SMOKE), "--out", str(home / "run"))


def test_eval_runs_the_smoke_set_and_exits_0(smoke_run):
    home, out, done = smoke_run
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "[5/5] unlogged-interactive-optimize ✓" in done.stdout and "5/5 passed (offline" in flat(done.stdout)
    assert json.loads((out / "results.json").read_text())["aggregates"]["finding_recall_micro"] == 1.0
    assert (out / "report.md").read_text().startswith("# Netra evaluation: smoke")
    assert (home / "eval-analytics").is_dir() and not (home / "analytics").exists()


def test_compare_with_itself_exits_0(smoke_run):
    home, out, _ = smoke_run
    done = netra(home, "eval", "compare", str(out), str(out / "results.json"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "finding_recall_micro" in done.stdout and "no regression" in done.stdout


def test_compare_with_a_doctored_copy_exits_1(smoke_run, tmp_path):
    home, out, _ = smoke_run
    doc = json.loads((out / "results.json").read_text())
    doc["cases"][0]["passed"], doc["aggregates"]["finding_recall_micro"] = False, 0.9
    (tmp_path / "results.json").write_text(json.dumps(doc))
    done = netra(home, "eval", "compare", str(out), str(tmp_path))
    assert done.returncode == 1 and "REGRESSION: finding_recall_micro worsened by 0.100" in flat(done.stdout)
    assert f"case {doc['cases'][0]['id']} passed in A and fails in B" in flat(done.stdout)


def test_a_failing_case_exits_1_with_a_summary(tmp_path):
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "cases.jsonl").write_text(json.dumps(UNPLANTED) + "\n")
    done = netra(tmp_path, "eval", "--dataset", str(tmp_path / "ds"), "--out", str(tmp_path / "out"))
    assert done.returncode == 1 and "0/1 passed" in flat(done.stdout) and "failed: broken" in flat(done.stdout)
    assert "crashed: CaseError" in (tmp_path / "out" / "report.md").read_text()


@pytest.mark.parametrize(("args", "message"), [
    (["eval", "--dataset", "{tmp}/nowhere"], "no dataset at"),
    (["eval", "--dataset", "{tmp}/bad"], "cases.jsonl:2: not valid JSON"),
    (["eval", "--dataset", str(SMOKE), "--case", "ghost"], "no case with id ghost"),
    (["eval", "compare", "{tmp}/nowhere", "{tmp}/nowhere"], "no evaluation results at"),
], ids=["missing-dataset", "malformed-line", "unknown-case", "missing-results"])
def test_bad_input_exits_2_with_one_clear_line(tmp_path, args, message):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "cases.jsonl").write_text(json.dumps(UNPLANTED) + "\n{oops\n")
    done = netra(tmp_path, *(a.replace("{tmp}", str(tmp_path)) for a in args))
    assert done.returncode == 2 and message in flat(done.stderr) and "Traceback" not in done.stderr
