"""`netra ingest --format litellm|langfuse`: the export files of LiteLLM and Langfuse, through the CLI.

Each fixture (tests/fixtures/litellm/, tests/fixtures/langfuse/) is imported by a `netra`
subprocess into a fresh NETRA_HOME; the events are read back by another process (embedded
chDB opens one store a process) and compared field by field with what the rows say: model,
provider, tokens, timestamps, latency, time to first token, cache tokens, status, the
source's own cost, and which fields stay missing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from netra.workloads.schema import FIELD_BITS
from tests.support import cli

pytestmark = pytest.mark.timeout(600)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
COLUMNS = ("request_id", "timestamp", "model", "provider", "feature", "user_id", "session_id", "trace_id",
           "input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens",
           "latency_ms", "ttft_ms", "status", "error_type", "max_tokens", "logged_cost_usd", "cost_usd",
           "missing_fields", "attributes")
DUMP = ("import json, sys; from netra.config import get_settings; from netra.persistence.analytics import open_store; "
        "store = open_store(get_settings().resolved_clickhouse_url()); "
        f"rows = store.rows('SELECT {', '.join(COLUMNS)} FROM workload_events ORDER BY request_id'); "
        "print(json.dumps(rows, default=str))")


def ingest(home: Path, path: Path, *options: str) -> subprocess.CompletedProcess:
    """Run `netra ingest PATH OPTIONS...` into `home` (forked, see tests.support.cli)."""
    return cli.netra(home, "ingest", str(path), *options, columns=200, timeout=300)


def events(home: Path) -> dict[str, dict[str, Any]]:
    """Return the events of `home` by request id, read by another (forked) process."""
    done = cli.run([sys.executable, "-c", DUMP], cli.environment(home, 200), timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return {row["request_id"]: row for row in json.loads(done.stdout)}


def imported(tmp_path: Path, name: str, fmt: str) -> dict[str, dict[str, Any]]:
    """Import fixture `name` with `--format fmt`; return the events (the import must succeed)."""
    done = ingest(tmp_path, FIXTURES / name, "--format", fmt)
    assert done.returncode == 0, done.stderr[-2000:]
    return events(tmp_path)


def missing(event: dict[str, Any]) -> set[str]:
    """Return the fields the event's source did not carry."""
    return {name for name, bit in FIELD_BITS.items() if event["missing_fields"] & bit}


# request id -> the fields of its event, as the fixture's spend-log row gives them
LITELLM = {
    "chatcmpl-7a1f0c2e": {"model": "gpt-4o", "provider": "openai", "feature": "support_bot", "user_id": "cust-1",
                          "session_id": "sess-1", "timestamp": "2026-03-02 10:00:00", "input_tokens": 1200,
                          "cached_input_tokens": 1024, "cache_write_tokens": 0, "output_tokens": 300,
                          "latency_ms": 2100, "ttft_ms": 350, "status": "ok", "logged_cost_usd": 0.0045975},
    "msg_01XyZ": {"model": "claude-sonnet-4-5-20250929", "provider": "anthropic", "feature": "code_review",
                  "input_tokens": 3000, "cached_input_tokens": 2000, "cache_write_tokens": 500, "output_tokens": 400,
                  "latency_ms": 4000, "ttft_ms": 0, "status": "ok", "logged_cost_usd": 0.0123},
    "fail-3c9d": {"status": "error", "error_type": "RateLimitError", "latency_ms": 250, "input_tokens": 0,
                  "user_id": "cust-2"},
    "chatcmpl-old-1": {"model": "gpt-4o-mini", "user_id": "alice", "timestamp": "2026-03-02 10:15:00",
                       "latency_ms": 1500, "input_tokens": 500, "output_tokens": 100},
}
# request id -> the fields its source lacks (beyond the prefix hashes, quality, max tokens, finish reason)
LITELLM_MISSING = {"chatcmpl-7a1f0c2e": set(), "msg_01XyZ": {"session_id"},
                   "fail-3c9d": {"session_id", "cached_input_tokens", "ttft_ms"},
                   "chatcmpl-old-1": {"session_id", "cached_input_tokens", "ttft_ms", "status"}}
NEVER_IN_LITELLM = {"prefix_hashes", "quality_score", "max_tokens", "finish_reason"}


def assert_events(found: dict[str, dict[str, Any]], expected: dict[str, dict[str, Any]],
                  lacking: dict[str, set[str]]) -> None:
    """Assert the events are exactly those expected: their fields, and the fields their source lacks."""
    assert set(found) == set(expected)
    for request_id, fields in expected.items():
        assert {key: found[request_id][key] for key in fields} == pytest.approx(fields), request_id
        assert missing(found[request_id]) == lacking[request_id], request_id


@pytest.mark.parametrize("name", ["spend_logs.csv", "spend_logs.json"])
def test_litellm_spend_logs(tmp_path, name: str):
    found = imported(tmp_path, f"litellm/{name}", "litellm")
    assert_events(found, LITELLM, {key: fields | NEVER_IN_LITELLM for key, fields in LITELLM_MISSING.items()})
    gpt4o = found["chatcmpl-7a1f0c2e"]
    assert gpt4o["cost_usd"] == pytest.approx(176 * 2.5e-6 + 1024 * 1.25e-6 + 300 * 1e-5)  # Netra's own pricing
    assert gpt4o["attributes"]["litellm.team_id"] == "team-support"
    assert "88dc28d0" not in json.dumps(found) and "10.0.0.7" not in json.dumps(found)  # key hash, caller IP


LANGFUSE = {
    "gen-1": {"model": "gpt-4o-mini", "feature": "summarise", "trace_id": "trace-a", "timestamp": "2026-03-02 11:00:00",
              "input_tokens": 2000, "cached_input_tokens": 1200, "cache_write_tokens": 0, "output_tokens": 200,
              "reasoning_tokens": 50, "latency_ms": 1500, "ttft_ms": 400, "status": "ok", "max_tokens": 512,
              "logged_cost_usd": 0.00033},
    "gen-2": {"model": "claude-sonnet-4-5-20250929", "feature": "review", "input_tokens": 3500,
              "cached_input_tokens": 3000, "cache_write_tokens": 400, "output_tokens": 250, "latency_ms": 6000,
              "status": "error", "max_tokens": 4096, "logged_cost_usd": 0.00663},
    "gen-3": {"model": "gpt-4o", "feature": "classify", "input_tokens": 50, "output_tokens": 10},
}
NEVER_IN_LANGFUSE = {"user_id", "session_id", "prefix_hashes", "quality_score", "finish_reason"}
LANGFUSE_MISSING = {"gen-1": set(), "gen-2": {"ttft_ms"},
                    "gen-3": {"ttft_ms", "latency_ms", "status", "cached_input_tokens", "max_tokens"}}


@pytest.mark.parametrize("name", ["observations.jsonl", "observations_page.json", "observations_page_line.json",
                                  "observations.csv"])
def test_langfuse_observations(tmp_path, name: str):
    found = imported(tmp_path, f"langfuse/{name}", "langfuse")  # the SPAN is no model call: not an event
    assert_events(found, LANGFUSE, {key: fields | NEVER_IN_LANGFUSE for key, fields in LANGFUSE_MISSING.items()})
    assert found["gen-1"]["cost_usd"] == pytest.approx(800 * 1.5e-7 + 1200 * 7.5e-8 + 200 * 6e-7)
    assert found["gen-3"]["logged_cost_usd"] is None and found["gen-1"]["attributes"]["langfuse.prompt_name"] == "summary"


# fixture, format, the rows of the summary's rejection table
BAD = [("litellm/spend_logs_bad.jsonl", "litellm",
        ["2 │ malformed_row │ line 2 is not valid JSON", "3 │ non_numeric_tokens │ prompt_tokens is not a number: 'lots'",
         "4 │ bad_timestamp │ startTime is not an ISO date and time: 'yesterday'",
         "5 │ malformed_row │ metadata is not valid JSON"]),
       ("langfuse/observations_bad.jsonl", "langfuse",
        ["2 │ malformed_row │ line 2 is not valid JSON", "3 │ non_numeric_tokens │ usage input is not a number: 'many'",
         "4 │ bad_timestamp │ startTime is not an ISO date and time: '2026-13-45'",
         "5 │ malformed_row │ row 5 is not a JSON object"])]


@pytest.mark.parametrize(("name", "fmt", "lines"), BAD, ids=["litellm", "langfuse"])
def test_bad_rows_are_rejected_by_number_and_reason(tmp_path, name: str, fmt: str, lines: list[str]):
    done = ingest(tmp_path, FIXTURES / name, "--format", fmt)
    shown = " ".join(done.stdout.split())
    assert done.returncode == 0 and "│ accepted │ 1 │" in shown and "│ rejected │ 4 │" in shown, done.stdout
    assert all(" ".join(line.split()) in shown for line in lines), done.stdout


@pytest.mark.parametrize(("content", "fmt", "message"), [
    ('[{"request_id": "a", ', "litellm", "not valid JSON"),
    ('{\n  "meta": {"page": 1}\n}\n', "langfuse", "a JSON object without a `data` array of rows"),
    ('{"data": [\n  {"id": "gen-1",\n', "langfuse", "not valid JSON"),
], ids=["truncated-array", "page-without-data", "broken-page"])
def test_an_unreadable_file_exits_2_naming_it(tmp_path, content: str, fmt: str, message: str):
    path = tmp_path / "export.json"
    path.write_text(content)
    done = ingest(tmp_path / "home", path, "--format", fmt)
    assert done.returncode == 2 and "export.json" in done.stderr and message in done.stderr, done.stderr[-2000:]


@pytest.mark.parametrize(("name", "count"), [("litellm/spend_logs.csv", 4), ("langfuse/observations.jsonl", 3)])
def test_auto_detection_knows_both_formats(tmp_path, name: str, count: int):
    done = ingest(tmp_path, FIXTURES / name)
    assert done.returncode == 0 and len(events(tmp_path)) == count, done.stderr[-2000:]
