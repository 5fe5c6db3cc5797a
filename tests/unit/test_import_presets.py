"""Preset importers (Azure, BurstGPT, Mooncake, TraceLab): sniffing, exact rows, rejections, chunking."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from netra.workloads.importers import ImportOptions, detect
from netra.workloads.importers import _preset_io
from netra.workloads.importers.presets import IMPORTERS
from netra.workloads.importers.validate import finalize

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "presets"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
UTC = timezone.utc
BURST0, MOON0 = datetime(2023, 5, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)
AZURE_SAMPLE = "AzureLLMInferenceTrace_conv_sample.csv"

SAMPLES = {"azure": AZURE_SAMPLE, "burstgpt": "burstgpt_sample.csv", "mooncake": "mooncake_sample.jsonl",
           "tracelab": "tracelab_sample.jsonl", None: "generic_events.csv"}


def shared(name: str) -> Path:
    """Return a file of ../shared/data; skip without it (fail under CI=true, whose copy has it)."""
    path = SHARED / name
    if not path.exists() and os.environ.get("CI") == "true":
        pytest.fail(f"{path} is missing (CI=true: the shared data is required)")
    if not path.exists():
        pytest.skip(f"shared data file {path} is not here; put ../shared/data next to the repo to run this test")
    return path


def imported(path: Path, fmt: str, **options) -> tuple[list[dict], list[tuple[int, str]]]:
    """Read and validate a file with one preset; return its rows (with `row`) and (row, reason) rejections."""
    opts, rows, rejections = ImportOptions(**options), [], []
    for batch in IMPORTERS[fmt].batches(path, opts):
        table, numbers, rejected = finalize(batch, opts)
        rows += [{"row": int(n), **r} for n, r in zip(numbers, table.to_pylist())]
        rejections += [(r.row, r.reason) for r in rejected]
    return rows, rejections


def pick(rows: list[dict], names: tuple[str, ...]) -> list[tuple]:
    """Return the named columns of each row as a tuple."""
    return [tuple(row[n] for n in names) for row in rows]


def written(tmp_path: Path, name: str, content: bytes) -> Path:
    """Write `content` to a file named `name` in tmp_path."""
    path = tmp_path / name
    path.write_bytes(content)
    return path


# ---- sniffing -------------------------------------------------------------------------------

@pytest.mark.parametrize("expected", list(SAMPLES))
def test_each_fixture_is_sniffed_by_its_preset_only(expected):
    path = FIXTURES / SAMPLES[expected]
    accepted = {name for name, preset in IMPORTERS.items() if preset.sniff(path.read_bytes(), path)}
    assert accepted == ({expected} if expected else set())


@pytest.mark.parametrize("head, expected", [
    (b"TIMESTAMP,ContextTokens,GeneratedTokens\r\n1,2,3\r\n", "azure"),
    (b"\xef\xbb\xbfTIMESTAMP,ContextTokens,GeneratedTokens\n", "azure"),
    (b"TIMESTAMP,ContextTokens,GeneratedTokens,Extra\n", None),
    (b"timestamp,contexttokens,generatedtokens\n", None),
    (b"Timestamp,Session ID,Model,Request tokens,Response tokens,Total tokens,Log Type\n", "burstgpt"),
    (b"Timestamp,Model,Request tokens,Response tokens\n", None),
    (b'{"timestamp": 1, "input_length": 5, "output_length": 1, "hash_ids": []}\n', "mooncake"),
    (b'{"timestamp": 1, "input_length": 5, "output_length": 1}\n', None),
    (b'{"timestamp": 1, "attributes": {"hash_ids": [1], "input_length": 5}}\n', None),
    (b'{"input_tokens_total": 5, "round_index": 0, "session_id": "s"}\n', "tracelab"),
    (b'{"input_tokens_total": 5, "session_id": "s"}\n', None),
    (b'["input_tokens_total", "round_id"]\n', None),
])
def test_sniffing_is_precise(head, expected):
    accepted = {name for name, preset in IMPORTERS.items() if preset.sniff(head, Path("trace.txt"))}
    assert accepted == ({expected} if expected else set())


@pytest.mark.parametrize("fmt", ["azure", "burstgpt", "mooncake", "tracelab"])
def test_detect_finds_each_preset(fmt):
    assert detect(FIXTURES / SAMPLES[fmt]) == fmt


@pytest.mark.parametrize("name", ["generic_events.csv", "generic_events.jsonl"])
def test_detect_leaves_generic_files_to_the_generic_formats(name):
    assert detect(FIXTURES / name) in ("csv", "jsonl")


# ---- exact rows -----------------------------------------------------------------------------

def burst(seconds: float, model: str, feature: str, tokens: tuple[int, int]) -> tuple:
    """One expected BurstGPT row; 0 response tokens is a failure."""
    failed = tokens[1] == 0
    outcome = ("error", "failed", "error") if failed else ("ok", "", "stop")
    return (BURST0 + timedelta(seconds=seconds), model, feature, *tokens, *outcome)


BURST_COLUMNS = ("row", "timestamp", "model", "feature", "input_tokens", "output_tokens", "status",
                 "error_type", "finish_reason")
BURST_ROWS = [(2, *burst(5, "gpt-3.5-turbo", "conversation", (472, 18))),
              (3, *burst(45, "gpt-3.5-turbo", "conversation", (1087, 0))),
              (4, *burst(118, "gpt-4", "api", (417, 217))),
              (5, *burst(118, "gpt-3.5-turbo", "api", (2201, 412))),
              (6, *burst(303.5, "gpt-4", "conversation", (1530, 0))),
              (7, *burst(1024, "gpt-3.5-turbo", "conversation", (88, 161)))]

MOON_COLUMNS = ("row", "timestamp", "input_tokens", "output_tokens", "prefix_hashes", "block_size")
MOON_ROWS = [(n, MOON0 + timedelta(milliseconds=ms), i, o, h, 512) for n, ms, i, o, h in [
    (1, 0, 1200, 50, [1, 2, 3]), (2, 1000, 1536, 120, [1, 2, 4]), (3, 1000, 1100, 30, [1, 5, 6]),
    (4, 2000, 2048, 200, [1, 2, 4, 7]), (5, 2000, 1024, 64, [8, 9]), (6, 2000, 600, 12, [8, 10]),
    (7, 3500, 1024, 64, [8, 9]), (8, 5000, 300, 5, [2**64 - 1]), (9, 4000, 3000, 400, [1, 2, 4, 7, 11, 12]),
    (10, 6000, 1536, 80, [1, 5, 14]), (11, 6000, 2600, 90, [1, 2, 4, 7, 11, 15]), (12, 7000, 100, 20, [])]]

LAB_COLUMNS = ("row", "timestamp", "provider", "feature", "model", "session_id", "thread_id", "request_id",
               "run_id", "input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens",
               "reasoning_tokens", "latency_ms", "ttft_ms")
CLAUDE, CODEX = ("anthropic", "claude", "claude-sonnet-4-5"), ("openai", "codex", "gpt-5")
LAB_ROWS = [
    (1, datetime(2026, 6, 1, 10, 0, 0, tzinfo=UTC), *CLAUDE, "claude:s-a", "claude:s-a", "msg_a0", "",
     12000, 8000, 3500, 640, 0, 4250, 2500),
    (2, datetime(2026, 6, 1, 10, 0, 9, tzinfo=UTC), *CLAUDE, "claude:s-a", "claude:s-a", "msg_a1", "",
     13000, 12000, 998, 210, 0, 1200, 1200),
    (3, datetime(2026, 6, 1, 11, 0, 0, tzinfo=UTC), *CODEX, "codex:s-b", "codex:s-b", "turn-1:0", "turn-1",
     9324, 6912, 0, 444, 199, 2100, 1000),
    (4, datetime(2026, 6, 1, 11, 0, 3, tzinfo=UTC), *CODEX, "codex:s-b", "codex:s-b", "turn-1:1", "turn-1",
     9917, 9600, 0, 94, 11, 2600, 2500)]

AZURE_COLUMNS = ("row", "timestamp", "feature", "model", "input_tokens", "output_tokens")
AZURE_ROWS = [(n, datetime(2023, 11, 16, 18, 15, s, us, tzinfo=UTC), "conv", "", i, o) for n, s, us, i, o in [
    (2, 46, 680000, 374, 44), (3, 50, 995000, 396, 109), (4, 51, 222000, 879, 55), (5, 52, 0, 91, 16),
    (6, 52, 999000, 1, 0)]]


@pytest.mark.parametrize("fmt, name, columns, expected", [
    ("burstgpt", "burstgpt_sample.csv", BURST_COLUMNS, BURST_ROWS),
    ("mooncake", "mooncake_sample.jsonl", MOON_COLUMNS, MOON_ROWS),
    ("tracelab", "tracelab_sample.jsonl", LAB_COLUMNS, LAB_ROWS),
    ("azure", AZURE_SAMPLE, AZURE_COLUMNS, AZURE_ROWS),
])
def test_fixture_rows_are_exact(fmt, name, columns, expected):
    rows, rejections = imported(FIXTURES / name, fmt)
    assert (pick(rows, columns), rejections) == (expected, [])


@pytest.mark.parametrize("fmt, name, options, column, expected", [
    ("burstgpt", "burstgpt_sample.csv", {"start": datetime(2024, 1, 1)}, "timestamp",
     datetime(2024, 1, 1, 0, 0, 5, tzinfo=UTC)),
    ("mooncake", "mooncake_sample.jsonl", {"start": datetime(2025, 1, 1, tzinfo=UTC)}, "timestamp",
     datetime(2025, 1, 1, tzinfo=UTC)),
    ("azure", AZURE_SAMPLE, {"feature": "chat"}, "feature", "chat"),
    ("azure", AZURE_SAMPLE, {"model": "gpt-4o"}, "model", "gpt-4o"),
    ("mooncake", "mooncake_sample.jsonl", {"model": "gpt-4o", "feature": "kimi"}, "feature", "kimi"),
    ("tracelab", "tracelab_sample.jsonl", {"feature": "agents"}, "feature", "agents"),
    ("burstgpt", "burstgpt_sample.csv", {"feature": "campus"}, "feature", "conversation"),
])
def test_options_fill_in_or_override_derived_values(fmt, name, options, column, expected):
    rows, _ = imported(FIXTURES / name, fmt, **options)
    assert rows[0][column] == expected


# ---- rejections -----------------------------------------------------------------------------

BURST_HEADER = b"Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
MOON_OK = b'{"timestamp": %d, "input_length": 600, "output_length": 5, "hash_ids": [1, 2]}\n'
LAB_LINE = (b'{"provider": "claude", "round_id": "r%d", "input_tokens_total": 10, "output_tokens": 2, '
            b'"timing_events": [{"event_type": "user_message", "timestamp": "%s"}]}\n')

DIRTY = [  # fmt, file content, options, accepted lines, rejected (line, reason)
    ("burstgpt", BURST_HEADER + b"5,ChatGPT,472,18,490,Conversation log\n45,ChatGPT,1087\n\n"
     b"soon,GPT-4,417,217,634,API log\n118,GPT-4,-3,217,214,API log\n118,GPT-\xff4,1,2,3,API log\n"
     b"7,ChatGPT,1,x,1,API log\r\n,ChatGPT,1,1,2,API log\n9,ChatGPT,5,6,11,API log", {}, [2, 10],
     [(3, "malformed_row"), (5, "bad_timestamp"), (6, "negative_tokens"), (7, "invalid_utf8"),
      (8, "non_numeric_tokens"), (9, "missing_column")]),
    ("burstgpt", BURST_HEADER + b"1,GPT-4,1,1,2,API log\n2,GPT-4,1,1,2," + b"x" * 120 + b"\n3,GPT-4,1,1,2,API\n",
     {"max_line_bytes": 80}, [2, 4], [(3, "oversized_line")]),
    ("mooncake", MOON_OK % 0 + b"null\n" + b'{"timestamp": 10, "input_length": 600\n[1, 2]\n'
     b'{"timestamp": 20, "input_length": "600", "output_length": 5}\n'
     b'{"timestamp": 30, "input_length": 600, "output_length": 5, "hash_ids": [1, null]}\n'
     b'{"timestamp": 40, "input_length": 600, "output_length": 5} {"timestamp": 50}\n'
     b'{"timestamp": 60, "input_length": 600, "output_length": 5, "hash_ids": [-1]}\n'
     b'{"timestamp": 70, "input_length": 600, "output_length": 5, "hash_ids": [1], "note": "caf\xc3\xa9"}\n'
     b'{"timestamp": 80, "input_length": 600, "output_length": 5, "note": "\xff"}\n'
     b'{"input_length": 600, "output_length": 5, "hash_ids": [1]}\n'
     b'{"timestamp": 90, "input_length": 600, "output_length": -5}\n   \n'
     b'{"timestamp": 100, "input_length": 512, "output_length": 1, "hash_ids": null}', {}, [1, 9, 14],
     [(2, "malformed_row"), (3, "malformed_row"), (4, "malformed_row"), (5, "malformed_row"),
      (6, "malformed_row"), (7, "malformed_row"), (8, "malformed_row"), (10, "invalid_utf8"),
      (11, "missing_column"), (12, "negative_tokens"), (13, "malformed_row")]),
    ("mooncake", MOON_OK % 0 + b'{"timestamp": 1, "hash_ids": [' + b"7, " * 40 + b'7]}\n' + MOON_OK % 2,
     {"max_line_bytes": 100}, [1, 3], [(2, "oversized_line")]),
    ("tracelab", LAB_LINE % (1, b"2026-06-01T10:00:00Z") + LAB_LINE % (2, b"yesterday")
     + b'{"round_id": "r3", "input_tokens_total": 10, "output_tokens": 2}\n{"round_id": \n',
     {}, [1], [(2, "bad_timestamp"), (3, "missing_column"), (4, "malformed_row")]),
    ("azure", b"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 25:00:00.0000000,1,2\n"
     b"2023-11-16 18:15:46.6805900,abc,2\n2023-11-16 18:15:46.6805900,1,2,3\n2023-11-16 18:15:47,5,6\n",
     {}, [5], [(2, "bad_timestamp"), (3, "non_numeric_tokens"), (4, "malformed_row")]),
]


@pytest.mark.parametrize("fmt, content, options, accepted, rejected", DIRTY)
def test_bad_lines_are_rejected_with_their_line_and_reason(tmp_path, fmt, content, options, accepted, rejected):
    rows, rejections = imported(written(tmp_path, f"dirty.{fmt}", content), fmt, **options)
    assert ([r["row"] for r in rows], sorted(rejections)) == (accepted, rejected)


@pytest.mark.parametrize("chunk_bytes, batch_rows", [(7, 2), (64, 1), (1 << 20, 3)])
@pytest.mark.parametrize("case", range(len(DIRTY)))
def test_chunk_and_batch_sizes_do_not_change_the_result(tmp_path, monkeypatch, chunk_bytes, batch_rows, case):
    fmt, content, options, accepted, rejected = DIRTY[case]
    monkeypatch.setattr(_preset_io, "CHUNK_BYTES", chunk_bytes)
    rows, rejections = imported(written(tmp_path, "f", content), fmt, batch_rows=batch_rows, **options)
    assert ([r["row"] for r in rows], sorted(rejections)) == (accepted, rejected)


def test_an_empty_file_yields_nothing(tmp_path):
    assert imported(written(tmp_path, "empty.jsonl", b""), "mooncake") == ([], [])


# ---- real TraceLab example ------------------------------------------------------------------

def test_tracelab_input_total_includes_cache_reads_and_writes():
    rounds = [json.loads(line) for line in shared("tracelab_example_sanitized_round_trace.jsonl").open()]
    claude = [r for r in rounds if r["provider"] == "claude"]
    parts = [r["claude_uncached_input_tokens"] + r["claude_cache_creation_input_tokens"]
             + r["claude_cache_read_input_tokens"] for r in claude]
    assert (len(claude), parts[0]) == (10, 32272) and parts == [r["input_tokens_total"] for r in claude]


def test_tracelab_example_imports_every_round_with_its_tokens():
    path = shared("tracelab_example_sanitized_round_trace.jsonl")
    rounds = [json.loads(line) for line in path.open()]
    rows, rejections = imported(path, "tracelab")
    expected = [(r["input_tokens_total"], r["claude_cache_read_input_tokens"] or r["prefix_tokens"],
                 r["claude_cache_creation_input_tokens"] or 0, r["output_tokens"]) for r in rounds]
    assert (pick(rows, ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens")),
            rejections) == (expected, [])
