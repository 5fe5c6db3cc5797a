"""Parquet files into raw batches: the selected columns, read batch by batch with pyarrow.

Row numbers count rows from 1 in file order. Parquet columns carry their types, so no
row is rejected here; nested columns (`prefix_hashes`, `attributes`) are taken when their
type converts to the event column's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from netra.errors import UserInputError
from netra.workloads.importers.base import ImportOptions, RawBatch
from netra.workloads.importers.generic import Piece, Selection, open_source, rebatch


def batches(path: Path, options: ImportOptions) -> Iterator[RawBatch]:
    """Yield the raw batches of a Parquet file."""
    with open_source(path) as handle:
        parquet = _open(handle, path)
        selection = Selection.of(parquet.schema_arrow.names, options, path.name)
        yield from rebatch(_pieces(parquet, selection, options.batch_rows), options.batch_rows, selection)


def _open(handle, path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(handle)
    except (pa.ArrowException, OSError) as exc:
        raise UserInputError(f"{path.name}: not a readable Parquet file ({exc})") from exc


def _pieces(parquet: pq.ParquetFile, selection: Selection, size: int) -> Iterator[Piece]:
    done = 0
    for batch in parquet.iter_batches(batch_size=size, columns=selection.sources):
        yield Piece(pa.Table.from_batches([batch]), np.arange(done + 1, done + 1 + batch.num_rows))
        done += batch.num_rows
