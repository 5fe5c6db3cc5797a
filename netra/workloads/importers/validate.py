"""Validate raw batches: coerce each column, reject bad rows with their reason, fill defaults.

Each row's `missing_fields` gets the bit of every field (`schema.FIELD_BITS`) none of whose
columns holds a value in that row: not in the batch, null, blank text or an empty list (a
`--user` option gives every row a user). A reader may set more bits itself, in a raw
`missing_fields` column (the records reader does, per key a record lacks).
"""

from __future__ import annotations

from typing import Callable, get_args

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from netra.workloads.events import events_from_columns
from netra.workloads.importers.base import ImportOptions, RawBatch, Rejection, RejectReason
from netra.workloads.schema import ARROW_SCHEMA, DEFAULT_BLOCK_SIZE, FIELD_BITS, FIELD_COLUMNS

REQUIRED = ("timestamp", "input_tokens", "output_tokens")
TOKEN_COLUMNS = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens",
                 "reasoning_tokens", "max_tokens", "cache_write_1h_tokens")
# filled at load from the price catalog: a source's own values are never taken
COMPUTED = ("cost_usd", "priced", "catalog_version")
NUMBER = r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$"
# epoch magnitude -> unit, largest first: a number is read in the first unit it exceeds
EPOCH_UNITS = ((1e17, "ns"), (1e14, "us"), (1e11, "ms"), (0, "s"))
OPTION_COLUMNS = {"user_id": "user", "feature": "feature", "model": "model"}
# text column -> the value an empty or missing cell means
TEXT_DEFAULTS = {"status": "ok", "finish_reason": "stop"}
# text columns compared with fixed names (`priority`, `flex`, `batch` select prices): trimmed, lower-cased
FOLDED = ("service_tier",)
TRUE_WORDS = pa.array(["true", "t", "yes", "y"])
_TOP_HASH = float(np.nextafter(2.0**64, 0))  # the largest float64 below 2**64
_REASONS: tuple[str, ...] = ("", *get_args(RejectReason))


def numeric(values: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (float values, is-missing mask, is-non-numeric mask) of a column of any type.

    NaN and infinities count as non-numeric (a parser may have read `nan` / `inf` text as floats).
    """
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type) or pa.types.is_boolean(values.type):
        number, missing = _as_float(values), _null_mask(values)
        return number, missing, ~np.isfinite(number) & ~missing
    text = pc.cast(values, pa.string())
    ok = pc.fill_null(pc.match_substring_regex(text, NUMBER), True).to_numpy(zero_copy_only=False)
    cleaned = pc.if_else(pa.array(ok), pc.utf8_trim_whitespace(text), pa.scalar(None, pa.string()))
    return _as_float(pc.cast(cleaned, pa.float64())), _null_mask(values), ~ok


def _as_float(values: pa.Array) -> np.ndarray:
    return pc.fill_null(pc.cast(values, pa.float64(), safe=False), np.nan).to_numpy(zero_copy_only=False)


def _null_mask(values: pa.Array) -> np.ndarray:
    return values.is_null().to_numpy(zero_copy_only=False)


def timestamps(values: pa.Array) -> np.ndarray:
    """Parse epoch numbers (s/ms/us/ns by the largest magnitude) and date strings; NaT where unparseable."""
    if pa.types.is_timestamp(values.type) or pa.types.is_date(values.type):
        return pc.cast(values, pa.timestamp("ms", tz="UTC"), safe=False).to_numpy(zero_copy_only=False).astype("datetime64[ms]")
    number, missing, bad = numeric(values)
    out, text = _from_epoch(number), bad & ~missing
    if text.any():
        out[text] = _from_text(values.filter(pa.array(text)))
    return out


def _from_text(values: pa.Array) -> np.ndarray:
    """Parse date strings: ISO 8601 first (fast), then whatever pandas can guess for the rest."""
    text = pc.cast(values, pa.string()).to_pandas()
    parsed = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601")
    retry = parsed.isna().to_numpy()
    if retry.any():  # not ISO 8601: let pandas guess each format (slow, so only for those)
        parsed[retry] = pd.to_datetime(text[retry], errors="coerce", utc=True, format="mixed")
    return parsed.dt.tz_convert(None).to_numpy().astype("datetime64[ms]")


def _from_epoch(number: np.ndarray) -> np.ndarray:
    largest = np.nanmax(np.abs(number), initial=0)
    scale = next((unit for floor, unit in EPOCH_UNITS if largest > floor), "s")
    out = np.full(len(number), np.datetime64("NaT"), "datetime64[ms]")
    ok = np.isfinite(number)
    out[ok] = (number[ok].astype(np.int64)).astype(f"datetime64[{scale}]").astype("datetime64[ms]")
    return out


class Checker:
    """Collects, per row, the first reason it is rejected."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows, self.codes = rows, np.zeros(len(rows), np.int8)
        self.details: list[str] = [""]
        self.detail = np.zeros(len(rows), np.int16)

    def flag(self, mask: np.ndarray, reason: RejectReason, detail: str) -> None:
        """Reject rows in `mask` that have no reason yet."""
        fresh = mask & (self.codes == 0)
        if fresh.any():
            self.codes[fresh], self.detail[fresh] = _REASONS.index(reason), len(self.details)
            self.details.append(detail)

    @property
    def ok(self) -> np.ndarray:
        """Return the mask of rows still accepted."""
        return self.codes == 0

    def rejections(self) -> list[Rejection]:
        """Return the rejected rows, in source order."""
        bad = np.flatnonzero(self.codes)
        return [Rejection(int(self.rows[i]), _REASONS[self.codes[i]], self.details[self.detail[i]]) for i in bad]


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


def _unsigned(kind: pa.DataType, default: float = 0) -> Callable[[pa.Array], pa.Array]:
    top = float(np.iinfo(kind.to_pandas_dtype()).max)
    return lambda a: pa.array(np.clip(np.nan_to_num(numeric(a)[0], nan=default), 0, top), kind)


def _flag(values: pa.Array) -> pa.Array:
    """1 where a value is a positive number or a word like `true` / `yes`."""
    words = pc.is_in(pc.utf8_lower(pc.cast(values, pa.string())), value_set=TRUE_WORDS).to_numpy(zero_copy_only=False)
    return pa.array((np.nan_to_num(numeric(values)[0]) > 0) | words, pa.bool_()).cast(pa.uint8())


def _hash(values: pa.Array) -> pa.Array:
    """Unsigned 64-bit hashes: exact from integers and digit strings, via float from anything else."""
    if pa.types.is_integer(values.type):
        return pc.fill_null(pc.cast(values, pa.uint64(), safe=False), 0)
    try:
        return pc.fill_null(pc.cast(pc.cast(values, pa.string()), pa.uint64()), 0)
    except pa.ArrowInvalid:
        return pa.array(np.clip(np.nan_to_num(numeric(values)[0]), 0, _TOP_HASH).astype(np.uint64), pa.uint64())


# column -> how to coerce its raw values (rows still to be filtered)
COERCE: dict[str, Callable[[pa.Array], pa.Array]] = {
    "latency_ms": _unsigned(pa.uint32()),
    "ttft_ms": _unsigned(pa.uint32()),
    "is_batch": _flag,
    "logged_cost_usd": lambda a: pa.array(numeric(a)[0], pa.float64(), from_pandas=True),
    "quality_score": lambda a: pa.array(numeric(a)[0], pa.float32(), from_pandas=True),
    "block_size": _unsigned(pa.uint16(), DEFAULT_BLOCK_SIZE),
    "prompt_hash": _hash,
}
TEXT_COLUMNS = tuple(f.name for f in ARROW_SCHEMA if pa.types.is_string(f.type) and f.name not in COMPUTED)


def _text(values: pa.Array) -> pa.Array:
    return pc.fill_null(pc.cast(values, pa.string()), "")


def _texts(raw: dict[str, pa.Array]) -> dict[str, pa.Array]:
    out = {k: _text(v) for k, v in raw.items() if k in TEXT_COLUMNS}
    for name in [n for n in FOLDED if n in out]:
        out[name] = pc.utf8_lower(pc.utf8_trim_whitespace(out[name]))
    for name, default in TEXT_DEFAULTS.items():
        out[name] = pc.if_else(pc.equal(out[name], ""), default, out[name]) if name in out else None
    return {k: v for k, v in out.items() if v is not None}


def _options(columns: dict[str, pa.Array], options: ImportOptions, n: int) -> dict[str, pa.Array]:
    out = {}
    for column, option in OPTION_COLUMNS.items():
        value = getattr(options, option)
        base = _text(columns[column]) if column in columns else pa.repeat(pa.scalar("", pa.string()), n)
        out[column] = pc.if_else(pc.equal(base, ""), value or "", base) if value else base
    return out


def finalize(batch: RawBatch, options: ImportOptions) -> tuple[pa.Table, np.ndarray, list[Rejection]]:
    """Validate a raw batch; return (events table of accepted rows, their row numbers, rejections)."""
    check = Checker(batch.rows)
    _check_required(batch, check)
    tokens, stamps = _check_tokens(batch, check), _check_time(batch, check)
    columns, keep = _assemble(batch, options, tokens, stamps), check.ok
    kept = columns if keep.all() else {k: v.filter(pa.array(keep)) for k, v in columns.items()}
    table = events_from_columns(kept, int(keep.sum()))
    return table, batch.rows[keep], batch.rejections + check.rejections()


def _assemble(batch: RawBatch, options: ImportOptions, tokens: dict, stamps: np.ndarray) -> dict[str, pa.Array]:
    raw = batch.columns
    columns = {k: pa.array(np.clip(np.rint(v), 0, 2**32 - 1), pa.uint32()) for k, v in tokens.items()}
    columns["timestamp"] = pa.array(stamps, pa.timestamp("ms")).cast(pa.timestamp("ms", tz="UTC"))
    columns |= {k: f(raw[k]) for k, f in COERCE.items() if k in raw}
    columns |= {k: v for k, v in raw.items() if k in ("prefix_hashes", "attributes") and v is not None}
    columns |= _texts({k: v for k, v in raw.items() if k not in columns})
    return columns | _options(raw, options, batch.size) | {"missing_fields": _missing(raw, options, batch.size)}


# raw type test -> which present values hold nothing all the same (blank text, an empty list)
_EMPTY: tuple[tuple[Callable[[pa.DataType], bool], Callable[[pa.Array], pa.Array]], ...] = (
    (pa.types.is_string, lambda a: pc.equal(pc.utf8_trim_whitespace(a), "")),
    (pa.types.is_list, lambda a: pc.equal(pc.list_value_length(a), 0)),
)


def _absent(values: pa.Array) -> np.ndarray:
    """Return which values hold nothing: null, blank text or an empty list."""
    empty = next((test for kind, test in _EMPTY if kind(values.type)), None)
    blank = pc.fill_null(empty(values), True).to_numpy(zero_copy_only=False) if empty else False
    return _null_mask(values) | blank


def field_lacking(columns: dict[str, pa.Array], names: tuple[str, ...], n: int) -> np.ndarray:
    """Return which of `n` rows hold a value in none of the columns `names`."""
    held = [_absent(columns[c]) for c in names if columns.get(c) is not None]
    return np.logical_and.reduce(held) if held else np.ones(n, bool)


def _stated(raw: dict[str, pa.Array], n: int) -> np.ndarray:
    """Return the `missing_fields` bits the reader (or the source) stated: 0 where none."""
    if "missing_fields" not in raw:
        return np.zeros(n, np.uint32)
    return _unsigned(pa.uint32())(raw["missing_fields"]).to_numpy(zero_copy_only=False).astype(np.uint32)


def _missing(raw: dict[str, pa.Array], options: ImportOptions, n: int) -> pa.Array:
    """Return each row's `missing_fields`: the bits stated, and those of the fields the row holds no value for."""
    named = {c: pa.repeat(pa.scalar("option"), n) for c, option in OPTION_COLUMNS.items() if getattr(options, option)}
    bits = _stated(raw, n)
    for name, bit in FIELD_BITS.items():
        bits[field_lacking(raw | named, FIELD_COLUMNS[name], n)] |= bit
    return pa.array(bits, pa.uint32())
