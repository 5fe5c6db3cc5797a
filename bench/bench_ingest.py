"""Benchmark the generic importers end to end: file -> validate -> price -> stage -> move, into chDB.

Usage: python bench/bench_ingest.py [--events N] [--jsonl-events M] [--seed S]

Writes the `mixed` synthetic workload as Parquet (with its list/map columns, and without
them: the CSV's columns) and CSV (N events), and JSONL (M events), into a temporary
folder; imports each into one temporary chDB store (chDB opens one path per process, so
the store is emptied between runs), then imports the same file again (every row a
duplicate). Prints events per second per format, and as a same-run baseline
the time pandas takes only to parse the same file. Never asserts timings.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from netra.persistence.analytics import AnalyticsStore, open_store  # noqa: E402
from netra.workloads.catalog import PriceCatalog, load_catalog  # noqa: E402
from netra.workloads.importers import ingest_file  # noqa: E402
from netra.workloads.synthetic import generate  # noqa: E402

# file -> (its format, how pandas parses it: the baseline, parsing only)
FILES = {"events.parquet": ("parquet", pd.read_parquet), "flat.parquet": ("parquet", pd.read_parquet),
         "events.csv": ("csv", pd.read_csv), "events.jsonl": ("jsonl", lambda p: pd.read_json(p, lines=True))}


def _parser() -> argparse.ArgumentParser:
    """Build the command-line parser."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the Parquet and CSV files")
    parser.add_argument("--jsonl-events", type=int, default=200_000, help="events in the JSONL file")
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    return parser


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    """Run `fn` and return (seconds taken, its result)."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def flat(table: pa.Table) -> pa.Table:
    """Drop the list and map columns (CSV and JSONL writers here take flat columns only)."""
    nested = [f.name for f in table.schema if pa.types.is_list(f.type) or pa.types.is_map(f.type)]
    return table.drop_columns(nested)


def write_files(folder: Path, events: int, jsonl_events: int, seed: int) -> list[Path]:
    """Write the files (Parquet with and without the list/map columns, CSV, JSONL); return them."""
    table = generate("mixed", events, seed).table
    pq.write_table(table, folder / "events.parquet")
    pq.write_table(flat(table), folder / "flat.parquet")
    pcsv.write_csv(flat(table), folder / "events.csv")
    small = flat(generate("mixed", jsonl_events, seed).table).to_pandas()
    small.to_json(folder / "events.jsonl", orient="records", lines=True, date_format="iso", date_unit="ms")
    return [folder / name for name in FILES]


def bench_file(store: AnalyticsStore, catalog: PriceCatalog, path: Path) -> None:
    """Import one file twice into an empty store and parse it with pandas; print the rates."""
    fmt, pandas_read = FILES[path.name]
    store.truncate()
    seconds, summary = timed(ingest_file, store, catalog, path, fmt)
    again, repeat = timed(ingest_file, store, catalog, path, fmt)
    parse, _ = timed(pandas_read, path)
    print(_line(path.name, summary, seconds, (again, repeat.duplicates), parse))


def _line(name: str, summary, seconds: float, again: tuple[float, int], parse: float) -> str:
    """Return one result line."""
    return (f"{name:14} {summary.read:>9,} events {seconds:6.2f} s = {summary.read / seconds:>9,.0f} events/s "
            f"(accepted {summary.accepted:,}, rejected {sum(summary.rejected.values()):,}); "
            f"again {again[0]:5.2f} s ({again[1]:,} duplicates); "
            f"pandas parse only {parse:5.2f} s -> import takes {seconds / parse:4.1f}x pandas parse")


def bench_all(folder: Path, paths: list[Path]) -> None:
    """Benchmark each file into one temporary chDB store under `folder`."""
    store, catalog = open_store(f"chdb://{folder}/analytics"), load_catalog()
    for path in paths:
        bench_file(store, catalog, path)
    store.close()


def main(argv: list[str] | None = None) -> int:
    """Write the files, then benchmark each."""
    args = _parser().parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        bench_all(Path(tmp), write_files(Path(tmp), args.events, args.jsonl_events, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
