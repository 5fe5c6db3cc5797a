"""Generic importers (CSV, JSONL, Parquet): exact rows, mapping, batching, rejections, fatal errors."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from netra.cli.ingest import parse_mapping, parse_start
from netra.errors import UserInputError
from netra.workloads.importers import ImportOptions, UnknownFormatError, ingest_file
from netra.workloads.importers import _generic_text
from netra.workloads.importers.generic import IMPORTERS
from netra.workloads.importers.validate import finalize

UTC = timezone.utc
T0, T1 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC), datetime(2026, 3, 2, 0, 1, tzinfo=UTC)
COLUMNS = ("timestamp", "model", "input_tokens", "output_tokens", "user_id", "status")
RENAMED = {"timestamp": "ts", "input_tokens": "prompt_tokens", "output_tokens": "completion_tokens"}
EXPECTED = [(T0, "gpt-4o", 100, 10, "u1", "ok"), (T1, "gpt-4o-mini", 200, 20, "u2", "error")]
SOURCE = [{"ts": "2026-03-02T00:00:00Z", "model": "gpt-4o", "prompt_tokens": 100, "completion_tokens": 10,
           "user_id": "u1", "status": "ok", "prompt": "hi"},
          {"ts": "2026-03-02T00:01:00Z", "model": "gpt-4o-mini", "prompt_tokens": 200, "completion_tokens": 20,
           "user_id": "u2", "status": "error", "prompt": "yo"}]
OK_CSV = "timestamp,input_tokens,output_tokens\n"
OK_JSONL = '{"timestamp": "2026-03-02T00:00:00Z", "input_tokens": 1, "output_tokens": 2}\n'


def write_csv(path: Path, records: list[dict], sep: str = ",") -> Path:
    """Write records as a delimited file with a header."""
    lines = [sep.join(records[0])] + [sep.join(str(v) for v in r.values()) for r in records]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_jsonl(path: Path, records: list[dict]) -> Path:
    """Write records one JSON object per line."""
    import json

    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def write_parquet(path: Path, records: list[dict]) -> Path:
    """Write records as a Parquet file."""
    pq.write_table(pa.Table.from_pylist(records), path)
    return path


WRITERS = {"csv": write_csv, "tsv": lambda p, r: write_csv(p, r, "\t"), "jsonl": write_jsonl,
           "parquet": write_parquet}
FORMATS = {"csv": "csv", "tsv": "csv", "jsonl": "jsonl", "parquet": "parquet"}


def written(tmp_path: Path, name: str, content: bytes | str) -> Path:
    """Write `content` to a file named `name` in tmp_path."""
    path = tmp_path / name
    _ = path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    return path


def imported(path: Path, fmt: str, **options) -> tuple[list[dict], list[tuple[int, str]]]:
    """Read and validate a file; return its rows (with `row`) and (row, reason) rejections in row order."""
    opts, rows, rejections = ImportOptions(**options), [], []
    for batch in IMPORTERS[fmt].batches(path, opts):
        table, numbers, rejected = finalize(batch, opts)
        rows += [{"row": int(n), **r} for n, r in zip(numbers, table.to_pylist())]
        rejections += [(r.row, r.reason) for r in rejected]
    return rows, sorted(rejections)


def pick(rows: list[dict], names: tuple[str, ...] = COLUMNS) -> list[tuple]:
    """Return the named columns of each row as a tuple."""
    return [tuple(row[n] for n in names) for row in rows]


# ---- exact rows, mapping, batching ------------------------------------------------------------

@pytest.mark.parametrize("kind", ["csv", "tsv", "jsonl", "parquet"])
def test_reader_maps_source_columns_onto_events(tmp_path, kind):
    path = WRITERS[kind](tmp_path / f"calls.{kind}", SOURCE)
    batches = list(IMPORTERS[FORMATS[kind]].batches(path, ImportOptions(mapping=RENAMED)))
    assert [sorted(b.columns) for b in batches] == [sorted(COLUMNS)]  # `prompt` is ignored
    rows, rejections = imported(path, FORMATS[kind], mapping=RENAMED)
    assert pick(rows) == EXPECTED and [r["row"] for r in rows] == [1, 2] and rejections == []


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_batches_hold_batch_rows_rows_numbered_from_1(tmp_path, kind):
    records = [dict(SOURCE[0], prompt_tokens=n) for n in range(5)]
    path = WRITERS[kind](tmp_path / f"calls.{kind}", records)
    batches = list(IMPORTERS[kind].batches(path, ImportOptions(mapping=RENAMED, batch_rows=2)))
    assert [b.rows.tolist() for b in batches] == [[1, 2], [3, 4], [5]]
    assert [v for b in batches for v in b.columns["input_tokens"].cast(pa.int64()).to_pylist()] == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(("mapping", "options", "expected"), [
    ({"user_id": "team"}, {}, ["t1", "t2"]),                       # mapped wins over the named column
    ({}, {}, ["u1", "u2"]),                                          # named like the event column: taken
    ({"user_id": "team"}, {"user": "fallback"}, ["t1", "t2"]),     # --user only fills empty values
    ({"feature": "user_id"}, {}, ["", ""]),                          # a mapped source is not also taken as is
])
def test_mapping_and_named_columns(tmp_path, mapping, options, expected):
    records = [dict(r, team=f"t{i}", timestamp=r["ts"], input_tokens=1, output_tokens=1)
               for i, r in enumerate(SOURCE, 1)]
    rows, _ = imported(write_csv(tmp_path / "m.csv", records), "csv", mapping=mapping, **options)
    assert [r["user_id"] for r in rows] == expected


def test_options_fill_rows_that_have_no_user_feature_or_model(tmp_path):
    path = written(tmp_path, "o.csv", OK_CSV + "2026-03-02T00:00:00Z,1,2\n")
    rows, _ = imported(path, "csv", user="ana", feature="chat", model="gpt-4o")
    assert pick(rows, ("user_id", "feature", "model", "status", "finish_reason")) == [
        ("ana", "chat", "gpt-4o", "ok", "stop")]


@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_service_tier_column_is_trimmed_and_lower_cased(tmp_path, kind):
    records = [dict(SOURCE[0], service_tier=tier) for tier in (" Priority ", "flex", "")]
    rows, _ = imported(WRITERS[kind](tmp_path / f"t.{kind}", records), kind, mapping=RENAMED)
    assert [r["service_tier"] for r in rows] == ["priority", "flex", ""]


@pytest.mark.parametrize(("name", "content", "fmt", "expected"), [
    ("quoted.csv", 'timestamp,input_tokens,output_tokens,note\n2026-03-02T00:00:00Z,1,2,"a\nb"\n'
                   "2026-03-02T00:00:00Z,3,4,c\n", "csv", [(1, 1), (2, 3)]),
    ("blank.csv", OK_CSV + "2026-03-02T00:00:00Z,1,2\n\n2026-03-02T00:00:00Z,3,4\n", "csv", [(1, 1), (2, 3)]),
    ("bom.csv", "\ufeff" + OK_CSV + "2026-03-02T00:00:00Z,5,2\r\n", "csv", [(1, 5)]),
    ("dates.csv", OK_CSV + "2026-03-02,1,2\n", "csv", [(1, 1)]),
    ("epoch_ms.csv", OK_CSV + "1772409600000,1,2\n1772409600000,3,4\n", "csv", [(1, 1), (2, 3)]),
    ("epoch_s.jsonl", '{"timestamp": 1772409600, "input_tokens": 1, "output_tokens": 2}\n', "jsonl", [(1, 1)]),
    ("blank.jsonl", OK_JSONL + "\n" + OK_JSONL.replace(": 1,", ": 3,"), "jsonl", [(1, 1), (3, 3)]),
    ("types.jsonl", OK_JSONL + '{"timestamp": "2026-03-02T00:00:00Z", "input_tokens": "3", "output_tokens": 2}\n',
     "jsonl", [(1, 1), (2, 3)]),
])
def test_text_layouts_and_their_row_numbers(tmp_path, name, content, fmt, expected):
    rows, rejections = imported(written(tmp_path, name, content), fmt)
    assert [(r["row"], r["input_tokens"]) for r in rows] == expected and rejections == []
    assert {r["timestamp"] for r in rows} == {T0}


# ---- rejections -------------------------------------------------------------------------------

BAD_CSV = ("2026-03-02T00:00:00Z,1,2\n"             # 1 ok
           ",1,2\n"                                   # 2 missing timestamp
           "2026-03-02T00:00:00Z,-1,2\n"              # 3 negative
           "2026-03-02T00:00:00Z,many,2\n"            # 4 not a number
           "yesterday,1,2\n"                          # 5 bad timestamp
           "2026-03-02T00:00:00Z,1\n"                 # 6 too few fields
           "2026-03-02T00:00:00Z,1,2,3\n").encode() + (  # 7 too many fields
           b"2026-03-02T00:00:00Z,1,\xff\n"          # 8 not UTF-8
           b"2026-03-02T00:00:00Z,1," + b"9" * 300 + b"\n"  # 9 longer than the limit
           b"2026-03-02T00:00:00Z,7,2\n")             # 10 ok
BAD_JSONL = (OK_JSONL                                                                  # 1 ok
             + '{"input_tokens": 1, "output_tokens": 2}\n'                             # 2 missing timestamp
             + OK_JSONL.replace(": 1,", ": -1,")                                       # 3 negative
             + OK_JSONL.replace(": 1,", ': "many",')                                   # 4 not a number
             + OK_JSONL.replace("2026-03-02T00:00:00Z", "yesterday")                   # 5 bad timestamp
             + "[1, 2]\n"                                                              # 6 not an object
             + "{oops\n").encode() + (                                                 # 7 not JSON
             b'{"timestamp": "2026-03-02T00:00:00Z", "input_tokens": 1, "output_tokens": 2, "model": "\xff"}\n'
             + b'{"timestamp": "2026-03-02T00:00:00Z", "input_tokens": 1, "output_tokens": 2, "x": "'
             + b"y" * 300 + b'"}\n'                                                   # 9 longer than the limit
             + OK_JSONL.replace(": 1,", ": 7,").encode())                             # 10 ok
REJECTED = [(2, "missing_column"), (3, "negative_tokens"), (4, "non_numeric_tokens"), (5, "bad_timestamp"),
            (6, "malformed_row"), (7, "malformed_row"), (8, "invalid_utf8"), (9, "oversized_line")]


BAD = [("bad.csv", OK_CSV.encode(), BAD_CSV, "csv"), ("bad.jsonl", b"", BAD_JSONL, "jsonl")]


@pytest.mark.parametrize(("name", "header", "body", "fmt"), BAD)
def test_every_bad_row_is_rejected_with_its_row_and_reason(tmp_path, name, header, body, fmt):
    rows, rejections = imported(written(tmp_path, name, header + body), fmt, max_line_bytes=200)
    assert rejections == REJECTED
    assert [(r["row"], r["input_tokens"]) for r in rows] == [(1, 1), (10, 7)]


@pytest.mark.parametrize(("name", "header", "body", "fmt"), BAD)
def test_small_blocks_read_the_same_rows_as_one_block(tmp_path, monkeypatch, name, header, body, fmt):
    path = written(tmp_path, name, header + body * 3)
    whole = imported(path, fmt, max_line_bytes=200, batch_rows=7)
    monkeypatch.setattr(_generic_text, "BLOCK_BYTES", 40)
    assert imported(path, fmt, max_line_bytes=200, batch_rows=7) == whole
    assert len(whole[0]) == 6 and len(whole[1]) == 24


TYPED = ("timestamp,input_tokens,output_tokens,logged_cost_usd,error_type\n2026-03-02T00:00:00Z,1,2,,\n"
         "2026-03-02 00:00:00,3,4,1.5,x\n2026-03-02T00:00:00Z,5.5,6,,\n1772409600000,7,8,2,\n")


def test_blocks_typed_differently_merge_into_one_batch(tmp_path, monkeypatch):
    path = written(tmp_path, "typed.csv", TYPED)
    monkeypatch.setattr(_generic_text, "BLOCK_BYTES", 20)  # one block per line: each typed on its own
    rows, rejections = imported(path, "csv")
    assert pick(rows, ("row", "input_tokens", "logged_cost_usd", "error_type")) == [
        (1, 1, None, ""), (2, 3, 1.5, "x"), (3, 6, None, ""), (4, 7, 2.0, "")]
    assert rejections == [] and {r["timestamp"] for r in rows} == {T0}


BAD_PARQUET = [{"timestamp": "2026-03-02T00:00:00Z", "input_tokens": 1, "output_tokens": 2},
               {"timestamp": None, "input_tokens": 1, "output_tokens": 2},
               {"timestamp": "2026-03-02T00:00:00Z", "input_tokens": -1, "output_tokens": 2},
               {"timestamp": "yesterday", "input_tokens": 1, "output_tokens": 2},
               {"timestamp": "2026-03-02T00:00:00Z", "input_tokens": 1, "output_tokens": float("nan")}]


def test_parquet_rows_with_bad_values_are_rejected(tmp_path):
    rows, rejections = imported(write_parquet(tmp_path / "p.parquet", BAD_PARQUET), "parquet")
    assert [r["row"] for r in rows] == [1]
    assert rejections == [(2, "missing_column"), (3, "negative_tokens"), (4, "bad_timestamp"),
                          (5, "non_numeric_tokens")]


def test_unknown_format_is_refused(tmp_path, store, catalog):
    path = written(tmp_path, "notes.txt", "just some words\nnothing like telemetry\n")
    with pytest.raises(UnknownFormatError, match="nope"):
        ingest_file(store, catalog, path, "nope")
    with pytest.raises(UnknownFormatError, match="cannot tell its format"):
        ingest_file(store, catalog, path)


# ---- fatal errors: nothing loads --------------------------------------------------------------

@pytest.mark.parametrize(("kind", "mapping", "message"), [
    ("csv", {}, r"required column 'timestamp' is missing; the file has: ts, model"),
    ("jsonl", {}, r"required column 'timestamp' is missing; the file has: ts, model"),
    ("parquet", {}, r"required column 'timestamp' is missing; the file has: ts, model"),
    ("csv", {"timestamp": "ts", "input_tokens": "nope"}, r"--map names nope, not in the file; it has: ts,"),
    ("jsonl", {"timestamp": "ts", "input_tokens": "nope"}, r"--map names nope, which no row has"),
    ("parquet", {"timestamp": "ts", "input_tokens": "nope"}, r"--map names nope, not in the file"),
    ("csv", {"cost_usd": "prompt_tokens"}, r"cost_usd is not an event column it can fill"),
    ("csv", {"prefix_hashes": "prompt"}, r"prefix_hashes is not an event column it can fill"),
])
def test_fatal_column_problems_name_the_columns(tmp_path, kind, mapping, message):
    path = WRITERS[kind](tmp_path / f"calls.{kind}", SOURCE)
    with pytest.raises(UserInputError, match=message):
        list(IMPORTERS[kind].batches(path, ImportOptions(mapping=mapping)))


@pytest.mark.parametrize(("head", "expected"), [
    (b"PAR1\x15\x04", {"parquet"}),
    (b'{"timestamp": 1, "input_tokens": 2}\n', {"jsonl"}),
    (b"\n\n  {\"a\": 1}\n", {"jsonl"}),
    (b"timestamp,model,input_tokens\n2026-03-02,gpt-4o,1\n", {"csv"}),
    (b"\xef\xbb\xbftimestamp\tinput_tokens\n", {"csv"}),
    (b"1,2,3\n4,5,6\n", set()),
    (b"hello\n", set()),
    (b"[1, 2]\n", set()),
])
def test_sniffers(head, expected):
    assert {name for name, reader in IMPORTERS.items() if reader.sniff(head, Path("x"))} == expected


# ---- command-line parsing -------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("", {}),
    ("input_tokens=prompt_tokens", {"input_tokens": "prompt_tokens"}),
    (" input_tokens = prompt tokens , output_tokens=completion_tokens,",
     {"input_tokens": "prompt tokens", "output_tokens": "completion_tokens"}),
])
def test_parse_mapping(text, expected):
    assert parse_mapping(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("input_tokens", "is not field=column; e.g. --map"),
    ("input_tokens=a=b", "is not field=column"),
    ("=prompt_tokens", "is not field=column"),
    ("input_tokens=a,input_tokens=b", "input_tokens mapped more than once"),
    ("tokens=a", "tokens is not an event column"),
])
def test_parse_mapping_refuses_bad_syntax(text, message):
    with pytest.raises(UserInputError, match=message):
        parse_mapping(text)


@pytest.mark.parametrize(("text", "expected"), [
    (None, None),
    ("2026-03-02T00:00:00Z", T0),
    ("2026-03-02 00:01", T1),
    ("2026-03-02T01:01:00+01:00", T1),
])
def test_parse_start(text, expected):
    assert parse_start(text) == expected


def test_parse_start_refuses_what_is_not_iso():
    with pytest.raises(UserInputError, match="not an ISO time"):
        parse_start("last tuesday")
