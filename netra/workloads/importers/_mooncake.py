"""Mooncake (Kimi serving, kvcache-ai/Mooncake) JSON Lines traces.

One request a line: `{"timestamp": ms from the trace start, "input_length": n,
"output_length": n, "hash_ids": [...]}`. The event time is `options.start` (default
`DEFAULT_START`, 2024-06-01T00:00:00Z; the trace publishes no start date) plus the
milliseconds. `hash_ids` are chained hashes of consecutive 512-token prompt blocks: they
become `prefix_hashes` (a missing list is empty) with `block_size` 512, which is what
`kv_cache_finder` replays. Model and feature come from the options.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netra.workloads.importers._preset_base import Columns, JsonParser, Preset, json_keys
from netra.workloads.importers._preset_columns import column, constant, drop, offset_timestamps, start_ms
from netra.workloads.importers.base import ImportOptions, Rejection

BLOCK_SIZE = 512
DEFAULT_START = datetime(2024, 6, 1, tzinfo=timezone.utc)
HASHES = pa.list_(pa.uint64())
SCHEMA = pa.schema([("timestamp", pa.float64()), ("input_length", pa.float64()),
                    ("output_length", pa.float64()), ("hash_ids", HASHES)])
# event column -> trace field
FIELDS = {"input_tokens": "input_length", "output_tokens": "output_length"}
SIGNATURE = {"hash_ids", "input_length"}


def accepts(line: str, path: Path) -> bool:
    """Return whether the first line is a JSON object with `hash_ids` and `input_length`."""
    return SIGNATURE <= json_keys(line)


def parser(path: Path, options: ImportOptions) -> JsonParser:
    """Return the JSON Lines parser of the trace fields."""
    return JsonParser(SCHEMA)


def _hashes(values: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Return the hash lists (null -> empty) and which hold a null id."""
    parents = pc.list_parent_indices(values).to_numpy()
    holes = np.zeros(len(values), bool)
    holes[parents[pc.list_flatten(values).is_null().to_numpy(zero_copy_only=False)]] = True
    return pc.if_else(pc.is_null(values), pa.scalar([], HASHES), values), holes


def transform(table: pa.Table, rows: np.ndarray, options: ImportOptions,
              path: Path) -> tuple[Columns, np.ndarray, list[Rejection]]:
    """Name the trace fields after event columns; reject rows whose hash_ids hold a null."""
    stamps, _ = offset_timestamps(column(table, "timestamp", pa.float64()), start_ms(options, DEFAULT_START), 1.0)
    hashes, holes = _hashes(column(table, "hash_ids", HASHES))
    columns = {"timestamp": stamps, "prefix_hashes": hashes,
               "block_size": constant(BLOCK_SIZE, table.num_rows, pa.uint16()),
               **{name: column(table, source, pa.float64()) for name, source in FIELDS.items()}}
    return drop(columns, rows, holes, "malformed_row", "hash_ids holds a null")


MOONCAKE = Preset("mooncake", accepts, parser, transform)
