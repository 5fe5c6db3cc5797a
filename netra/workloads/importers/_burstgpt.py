"""BurstGPT (Azure OpenAI usage at a campus, HPMLL/BurstGPT) CSV traces.

Columns `Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type` (extra
columns of later releases are ignored). `Timestamp` is seconds from the trace start: the
event time is `options.start` (default `DEFAULT_START`, 2023-05-01T00:00:00Z; the trace
publishes no start date) plus those seconds. `Model` is mapped by `MODELS`
(`ChatGPT` -> `gpt-3.5-turbo`, `GPT-4` -> `gpt-4`; other names are kept). A row with
`Response tokens` 0 is a failed request: status `error`, error_type `failed`,
finish_reason `error`. The feature is the log type by `LOG_TYPES`
(`Conversation log` -> `conversation`, `API log` -> `api`; others kept as written).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa

from netra.workloads.importers._preset_base import Columns, CsvParser, Preset, file_header, header_names
from netra.workloads.importers._preset_columns import choose, column, drop, offset_timestamps, recode, start_ms
from netra.workloads.importers.base import ImportOptions, Rejection
from netra.workloads.importers.validate import numeric

HEADER = ("Timestamp", "Model", "Request tokens", "Response tokens", "Total tokens", "Log Type")
DEFAULT_START = datetime(2023, 5, 1, tzinfo=timezone.utc)
MODELS = {"ChatGPT": "gpt-3.5-turbo", "GPT-4": "gpt-4"}
LOG_TYPES = {"Conversation log": "conversation", "API log": "api"}
# event column -> (value of a failed row, value of a served row)
FAILURE = {"status": ("error", "ok"), "error_type": ("failed", ""), "finish_reason": ("error", "stop")}


def accepts(line: str, path: Path) -> bool:
    """Return whether `line` is a header holding every BurstGPT column."""
    return set(HEADER) <= set(header_names(line))


def parser(path: Path, options: ImportOptions) -> CsvParser:
    """Return the CSV parser for the file's header."""
    return CsvParser(file_header(path, options), HEADER)


def _outcome(output: pa.Array) -> Columns:
    """Return status, error_type and finish_reason: a row with 0 response tokens failed."""
    failed = numeric(output)[0] == 0
    return {name: choose(failed, bad, good) for name, (bad, good) in FAILURE.items()}


def transform(table: pa.Table, rows: np.ndarray, options: ImportOptions,
              path: Path) -> tuple[Columns, np.ndarray, list[Rejection]]:
    """Name the trace columns after event columns; reject rows whose Timestamp is not a number."""
    stamps, bad = offset_timestamps(column(table, "Timestamp"), start_ms(options, DEFAULT_START), 1000.0)
    output = column(table, "Response tokens")
    columns = {"timestamp": stamps, "model": recode(column(table, "Model"), MODELS),
               "input_tokens": column(table, "Request tokens"), "output_tokens": output,
               "feature": recode(column(table, "Log Type"), LOG_TYPES), **_outcome(output)}
    return drop(columns, rows, bad, "bad_timestamp", "Timestamp is not a number of seconds")


BURSTGPT = Preset("burstgpt", accepts, parser, transform, header=True)
