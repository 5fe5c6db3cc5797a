"""Validate raw batches: coerce each column, reject bad rows with their reason, fill defaults."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from netra.workloads.events import events_from_columns
from netra.workloads.importers.base import ImportOptions, RawBatch, Rejection, RejectReason

REQUIRED = ("timestamp", "input_tokens", "output_tokens")
TOKEN_COLUMNS = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens",
                 "reasoning_tokens", "max_tokens")
NUMBER = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$"
# epoch magnitude -> unit, largest first: a number is read in the first unit it exceeds
EPOCH_UNITS = ((1e17, "ns"), (1e14, "us"), (1e11, "ms"), (0, "s"))
OPTION_COLUMNS = {"user_id": "user", "feature": "feature", "model": "model"}


def numeric(values: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (float values, is-missing mask, is-non-numeric mask) of a column of any type."""
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type) or pa.types.is_boolean(values.type):
        return _as_float(values), _null_mask(values), np.zeros(len(values), bool)
    text = pc.cast(values, pa.string())
    ok = pc.fill_null(pc.match_substring_regex(text, NUMBER), True).to_numpy(zero_copy_only=False)
    cleaned = pc.if_else(pa.array(ok), pc.utf8_trim_whitespace(text), pa.scalar(None, pa.string()))
    return _as_float(pc.cast(cleaned, pa.float64())), _null_mask(values), ~ok


def _as_float(values: pa.Array) -> np.ndarray:
    return pc.fill_null(pc.cast(values, pa.float64(), safe=False), np.nan).to_numpy(zero_copy_only=False)


def _null_mask(values: pa.Array) -> np.ndarray:
    return values.is_null().to_numpy(zero_copy_only=False)


def timestamps(values: pa.Array) -> np.ndarray:
    """Parse epoch numbers (s/ms/us/ns by magnitude) or date strings; NaT where unparseable."""
    if pa.types.is_timestamp(values.type):
        return pc.cast(values, pa.timestamp("ms", tz="UTC"), safe=False).to_numpy(zero_copy_only=False).astype("datetime64[ms]")
    number, missing, bad = numeric(values)
    if not (bad & ~missing).any():
        return _from_epoch(number)
    parsed = pd.to_datetime(pd.Series(values.to_pylist(), dtype=object), errors="coerce", utc=True, format="mixed")
    return parsed.dt.tz_convert(None).to_numpy().astype("datetime64[ms]")


def _from_epoch(number: np.ndarray) -> np.ndarray:
    scale = next(unit for floor, unit in EPOCH_UNITS if np.nanmax(np.abs(number), initial=0) > floor)
    out = np.full(len(number), np.datetime64("NaT"), "datetime64[ms]")
    ok = np.isfinite(number)
    out[ok] = (number[ok].astype(np.int64)).astype(f"datetime64[{scale}]").astype("datetime64[ms]")
    return out


class Checker:
    """Collects, per row, the first reason it is rejected."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows, self.reason = rows, np.full(len(rows), "", dtype=object)
        self.detail = np.full(len(rows), "", dtype=object)

    def flag(self, mask: np.ndarray, reason: RejectReason, detail: str) -> None:
        """Reject rows in `mask` that have no reason yet."""
        fresh = mask & (self.reason == "")
        self.reason[fresh], self.detail[fresh] = reason, detail

    @property
    def ok(self) -> np.ndarray:
        """Return the mask of rows still accepted."""
        return self.reason == ""

    def rejections(self) -> list[Rejection]:
        """Return the rejected rows, in source order."""
        bad = np.flatnonzero(~self.ok)
        return [Rejection(int(self.rows[i]), self.reason[i], self.detail[i]) for i in bad]


def _check_required(batch: RawBatch, check: Checker) -> None:
    for name in REQUIRED:
        column = batch.columns.get(name)
        missing = np.ones(batch.size, bool) if column is None else _null_mask(column)
        check.flag(missing, "missing_column", f"{name} is missing")


def _check_tokens(batch: RawBatch, check: Checker) -> dict[str, np.ndarray]:
    parsed = {}
    for name in [c for c in TOKEN_COLUMNS if c in batch.columns]:
        number, _, bad = numeric(batch.columns[name])
        check.flag(bad, "non_numeric_tokens", f"{name} is not a number")
        check.flag(number < 0, "negative_tokens", f"{name} is negative")
        parsed[name] = np.nan_to_num(number, nan=0.0)
    return parsed


def _check_time(batch: RawBatch, check: Checker) -> np.ndarray:
    if "timestamp" not in batch.columns:
        return np.full(batch.size, np.datetime64("NaT"), "datetime64[ms]")
    stamps = timestamps(batch.columns["timestamp"])
    check.flag(np.isnat(stamps), "bad_timestamp", "timestamp could not be parsed")
    return stamps


# column -> how to coerce its raw values (rows still to be filtered)
COERCE: dict[str, Callable[[pa.Array], pa.Array]] = {
    "latency_ms": lambda a: pa.array(np.clip(np.nan_to_num(numeric(a)[0]), 0, 2**32 - 1), pa.uint32()),
    "ttft_ms": lambda a: pa.array(np.clip(np.nan_to_num(numeric(a)[0]), 0, 2**32 - 1), pa.uint32()),
    "is_batch": lambda a: pa.array(np.nan_to_num(numeric(a)[0]) > 0, pa.bool_()).cast(pa.uint8()),
    "logged_cost_usd": lambda a: pa.array(numeric(a)[0], pa.float64(), from_pandas=True),
    "quality_score": lambda a: pa.array(numeric(a)[0], pa.float32(), from_pandas=True),
    "block_size": lambda a: pa.array(np.nan_to_num(numeric(a)[0]), pa.uint16()),
}


def _text(values: pa.Array) -> pa.Array:
    return pc.fill_null(pc.cast(values, pa.string()), "")


def _options(columns: dict[str, pa.Array], options: ImportOptions, n: int) -> dict[str, pa.Array]:
    out = {}
    for column, option in OPTION_COLUMNS.items():
        value = getattr(options, option)
        base = _text(columns[column]) if column in columns else pa.array([""] * n, pa.string())
        out[column] = pc.if_else(pc.equal(base, ""), value or "", base) if value else base
    return out


def finalize(batch: RawBatch, options: ImportOptions) -> tuple[pa.Table, np.ndarray, list[Rejection]]:
    """Validate a raw batch; return (events table of accepted rows, their row numbers, rejections)."""
    check = Checker(batch.rows)
    _check_required(batch, check)
    tokens, stamps = _check_tokens(batch, check), _check_time(batch, check)
    columns = _assemble(batch, options, tokens, stamps)
    keep = check.ok
    table = events_from_columns({k: v.filter(pa.array(keep)) for k, v in columns.items()}, int(keep.sum()))
    return table, batch.rows[keep], batch.rejections + check.rejections()


def _assemble(batch: RawBatch, options: ImportOptions, tokens: dict, stamps: np.ndarray) -> dict[str, pa.Array]:
    raw = batch.columns
    columns = {k: pa.array(np.clip(np.rint(v), 0, 2**32 - 1), pa.uint32()) for k, v in tokens.items()}
    columns["timestamp"] = pa.array(stamps, pa.timestamp("ms")).cast(pa.timestamp("ms", tz="UTC"))
    columns |= {k: f(raw[k]) for k, f in COERCE.items() if k in raw}
    columns |= {k: v for k, v in raw.items() if k in ("prefix_hashes", "attributes") and v is not None}
    columns |= {k: _text(v) for k, v in raw.items() if k not in columns and pa.types.is_string(_text(v).type)}
    return columns | _options(raw, options, batch.size)
