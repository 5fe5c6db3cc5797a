"""`netra ingest` end to end: subprocesses with their own NETRA_HOME, summary on stdout, exit 2 on mistakes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support import cli

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
CSV = ("ts,llm,prompt_tokens,completion_tokens,user_id\n"
       "2026-03-02T00:00:00Z,gpt-4o,1000,100,u1\n"
       "2026-03-02T00:01:00Z,gpt-4o-mini,2000,-5,u2\n"
       "2026-03-02T00:02:00Z,no-such-model,3000,300,u3\n")
MAP = "timestamp=ts,model=llm,input_tokens=prompt_tokens,output_tokens=completion_tokens"
JSONL = '{"timestamp": "2026-03-02T00:00:00Z", "model": "gpt-4o", "input_tokens": 1, "output_tokens": 2}\n'


def netra(home: Path, *args: str) -> subprocess.CompletedProcess:
    """Run `netra ARGS` with NETRA_HOME=home and no inherited NETRA_* settings (forked); return the finished process."""
    return cli.netra(home, *args, columns=200, timeout=300)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Write the sample files once."""
    folder = tmp_path_factory.mktemp("files")
    (folder / "calls.csv").write_text(CSV)
    (folder / "calls.jsonl").write_text(JSONL)
    return {"csv": folder / "calls.csv", "jsonl": folder / "calls.jsonl"}


@pytest.fixture(scope="module")
def imported(tmp_path_factory, files) -> tuple[Path, subprocess.CompletedProcess]:
    """Import the CSV once into a fresh home."""
    home = tmp_path_factory.mktemp("home")
    return home, netra(home, "ingest", str(files["csv"]), "--map", MAP)


def test_ingest_prints_the_summary(imported):
    _, done = imported
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Imported calls.csv" in done.stdout and "│ accepted           │      2 │" in done.stdout
    assert "negative_tokens" in done.stdout and "output_tokens is negative" in done.stdout
    assert "no-such-model (1)" in done.stdout and "--model" in done.stdout


def test_a_second_import_only_skips_duplicates(imported, files):
    home, _ = imported
    again = netra(home, "ingest", str(files["csv"]), "--map", MAP)
    assert again.returncode == 0 and "│ duplicates skipped │      2 │" in again.stdout


def test_ingest_with_an_explicit_format_and_user(tmp_path, files):
    done = netra(tmp_path, "ingest", str(files["jsonl"]), "--format", "jsonl", "--user", "ana")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "│ accepted           │      1 │" in done.stdout
    scoped = json.loads(netra(tmp_path, "tools", "run", "cost_analyzer", "--args", '{"user_id": "ana"}').stdout)
    assert scoped["figures"]["requests"]["value"] == 1


@pytest.mark.parametrize(("args", "message"), [
    (["ingest", "missing.csv"], "missing.csv: no such file"),
    (["ingest", "{csv}", "--map", "timestamp"], "'timestamp' is not field=column; e.g. --map"),
    (["ingest", "{csv}", "--map", "tokens=prompt_tokens"], "tokens is not an event column"),
    (["ingest", "{csv}"], "the required column 'timestamp' is missing; the file has: ts, llm"),
    (["ingest", "{csv}", "--format", "nope"], "unknown format 'nope'"),
    (["ingest", "{csv}", "--map", MAP, "--start", "soon"], "--start: 'soon' is not an ISO time"),
])
def test_mistakes_exit_2_with_one_clear_line(tmp_path, files, args, message):
    done = netra(tmp_path, *[a.format(csv=files["csv"]) for a in args])
    assert done.returncode == 2 and message in " ".join(done.stderr.split()), done.stderr[-2000:]
    assert "Traceback" not in done.stderr
