"""Azure LLM inference traces (Splitwise, AzurePublicDataset): `TIMESTAMP,ContextTokens,GeneratedTokens`.

`TIMESTAMP` is a UTC date and time with seven fractional digits
(`2023-11-16 18:17:03.9799600`), floored to the millisecond. `ContextTokens` becomes
`input_tokens` and `GeneratedTokens` `output_tokens`. The trace names no model: rows take
`options.model`, or none (the loader then reports them as unpriced). The feature is
`options.feature` when given, else the service in the file name
(`AzureLLMInferenceTrace_conv.csv` -> `conv`, `..._code_1week.csv` -> `code`).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyarrow as pa

from netra.workloads.importers._preset_base import Columns, CsvParser, Preset, file_header, header_names
from netra.workloads.importers._preset_columns import column, constant, drop, iso_timestamps
from netra.workloads.importers.base import ImportOptions, Rejection

HEADER = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")
# event column -> trace column
FIELDS = {"input_tokens": "ContextTokens", "output_tokens": "GeneratedTokens"}
_SERVICE = re.compile(r"AzureLLMInferenceTrace_([A-Za-z]+)")


def accepts(line: str, path: Path) -> bool:
    """Return whether `line` is exactly the Azure trace header."""
    return header_names(line) == list(HEADER)


def parser(path: Path, options: ImportOptions) -> CsvParser:
    """Return the CSV parser for the file's header."""
    return CsvParser(file_header(path, options), HEADER)


def feature(path: Path, options: ImportOptions) -> str:
    """Return the file's feature: the service named in the file name ("" if none)."""
    found = _SERVICE.search(path.name)
    return found.group(1).lower() if found and not options.feature else ""


def transform(table: pa.Table, rows: np.ndarray, options: ImportOptions,
              path: Path) -> tuple[Columns, np.ndarray, list[Rejection]]:
    """Name the trace columns after event columns; reject rows whose TIMESTAMP is not a time."""
    stamps, bad = iso_timestamps(column(table, "TIMESTAMP"))
    columns = {"timestamp": stamps, **{name: column(table, source) for name, source in FIELDS.items()}}
    columns["feature"] = constant(feature(path, options), table.num_rows, pa.string())
    return drop(columns, rows, bad, "bad_timestamp", "TIMESTAMP is not a date and time")


AZURE = Preset("azure", accepts, parser, transform, header=True)
