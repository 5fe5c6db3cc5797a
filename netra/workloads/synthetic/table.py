"""Cut rows [start, stop) of a plan into an Arrow events table (unpriced).

Labels are taken from small tables by code, ids are hex strings of counter-based hashes,
prefix hashes are built as one flat array with offsets: no per-row Python objects.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from netra.workloads.catalog import PriceCatalog
from netra.workloads.events import events_from_columns
from netra.workloads.schema import ARROW_SCHEMA, DEFAULT_BLOCK_SIZE
from netra.workloads.synthetic import specs
from netra.workloads.synthetic.ids import hex_ids, keyed, prefix_hashes
from netra.workloads.synthetic.plan import Plan
from netra.workloads.synthetic.rows import Columns

_MODELS = [spec.model for spec in specs.FEATURES.values()]
_RETRYING = np.array([spec.retry.share > 0 for spec in specs.FEATURES.values()])
# features whose callers do not wait for the answer log it, as a team would (`interactive=false`)
_OFFLINE = np.array([not spec.interactive for spec in specs.FEATURES.values()])
_UINT32 = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens",
           "reasoning_tokens", "max_tokens", "latency_ms", "ttft_ms")
# schema column -> (label table, plan code column)
_LABELS = {"user_id": (specs.USERS, "user"), "feature": (specs.FEATURE_NAMES, "feature"),
           "model": (_MODELS, "feature"), "finish_reason": (specs.FINISH, "finish"),
           "status": (specs.STATUS, "status"), "error_type": (specs.ERRORS, "error")}


def _labels(c: Columns, rows: np.ndarray, seed: int, catalog: PriceCatalog) -> dict[str, pa.Array]:
    out = {name: pc.take(pa.array(list(labels), pa.string()), pa.array(c[col]))
           for name, (labels, col) in _LABELS.items()}
    providers = [catalog.lookup(model).provider for model in _MODELS]
    out["provider"] = pc.take(pa.array(providers, pa.string()), pa.array(c["feature"]))
    return out


def _ids(c: Columns, rows: np.ndarray, seed: int, catalog: PriceCatalog) -> dict[str, pa.Array]:
    prompt = c["prompt_hash"]
    return {"request_id": hex_ids(keyed(seed, "request", rows), "req_"),
            "trace_id": hex_ids(keyed(seed, "trace", prompt), "trc_"),
            "run_id": hex_ids(keyed(seed, "run", prompt), "run_", _RETRYING[c["feature"]]),
            "session_id": hex_ids(keyed(seed, "session", c["session_key"]), "ses_", c["session_key"] > 0),
            "thread_id": hex_ids(keyed(seed, "thread", c["thread_key"]), "thr_", c["thread_key"] > 0)}


def _numbers(c: Columns, rows: np.ndarray, seed: int, catalog: PriceCatalog) -> dict[str, pa.Array]:
    out = {name: pa.array(c[name].astype(np.uint32)) for name in _UINT32}
    out["timestamp"] = pa.array(c["ts"] + specs.START_MS, pa.timestamp("ms", tz="UTC"))
    out["prompt_hash"] = pa.array(c["prompt_hash"])
    out["quality_score"] = pa.array(c["quality_score"], mask=np.isnan(c["quality_score"]))
    out["block_size"] = pa.array(np.full(len(rows), DEFAULT_BLOCK_SIZE, np.uint16))
    out["is_batch"] = pa.array(np.zeros(len(rows), np.uint8))
    return out


def _blocks(c: Columns, rows: np.ndarray, seed: int, catalog: PriceCatalog) -> dict[str, pa.Array]:
    blocks = c["input_tokens"] // DEFAULT_BLOCK_SIZE
    hashes = prefix_hashes(seed, rows, blocks, c["prompt"], c["shared_blocks"])
    return {"prefix_hashes": hashes, "attributes": _attributes(_OFFLINE[c["feature"]])}


def _attributes(offline: np.ndarray) -> pa.Array:
    """Return each row's attributes: `interactive=false` on offline features' rows, else none."""
    offsets = np.concatenate([[0], np.cumsum(offline)]).astype(np.int32)
    n = int(offline.sum())
    keys, values = pa.array(["interactive"] * n, pa.string()), pa.array(["false"] * n, pa.string())
    return pa.MapArray.from_arrays(offsets, keys, values).cast(ARROW_SCHEMA.field("attributes").type)


BUILDERS: tuple[Callable[..., dict[str, pa.Array]], ...] = (_labels, _ids, _numbers, _blocks)


def chunk_table(plan: Plan, start: int, stop: int, catalog: PriceCatalog) -> pa.Table:
    """Return events [start, stop) of `plan` as an unpriced Arrow table of all columns."""
    c = {k: v[start:stop] for k, v in plan.columns.items()}
    rows = np.arange(start, stop, dtype=np.int64)
    arrays: dict[str, pa.Array] = {}
    for build in BUILDERS:
        arrays.update(build(c, rows, plan.seed, catalog))
    return events_from_columns(arrays, stop - start)
