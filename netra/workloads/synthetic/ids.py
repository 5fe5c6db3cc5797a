"""Counter-based random values: ids, prompt and block hashes as pure functions of a row.

A value is `splitmix64` of (seed, salt, counter), so any slice of the workload can be
built on its own and still equal the same slice of a one-shot build. Ids are hex
strings built straight into Arrow buffers (no per-row Python strings).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)
_MASK64 = (1 << 64) - 1

# one salt per kind of value, so streams never collide
SALTS = {"request": 1, "trace": 2, "run": 3, "session": 4, "thread": 5, "block": 6, "prompt": 7}


def mix64(x: np.ndarray) -> np.ndarray:
    """Apply the splitmix64 finaliser (a bijection) to a uint64 array in place; return it."""
    for shift, factor in ((30, _MIX1), (27, _MIX2)):
        x ^= x >> np.uint64(shift)
        x *= factor
    x ^= x >> np.uint64(31)
    return x


def keyed(seed: int, salt: str, counters: np.ndarray) -> np.ndarray:
    """Return a random-looking uint64 per counter, fixed by (seed, salt, counter)."""
    key = mix64(np.array([(seed * 0x100 + SALTS[salt]) & _MASK64], np.uint64))
    x = np.asarray(counters).astype(np.uint64)
    x *= _GOLDEN
    x += key
    return mix64(x)


def hex_ids(values: np.ndarray, prefix: str, keep: np.ndarray | None = None) -> pa.StringArray:
    """Return `prefix` + 16 hex digits of each uint64 value; "" where `keep` is False."""
    digits = _hex_digits(values, prefix)
    keep = np.ones(len(values), bool) if keep is None else keep
    lengths = np.where(keep, digits.shape[1], 0)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    data = digits[keep].tobytes()
    return pa.StringArray.from_buffers(len(values), pa.py_buffer(offsets), pa.py_buffer(data))


def _hex_digits(values: np.ndarray, prefix: str) -> np.ndarray:
    octets = values.astype(">u8").view(np.uint8).reshape(-1, 8)
    digits = np.empty((len(values), len(prefix) + 16), np.uint8)
    digits[:, : len(prefix)] = np.frombuffer(prefix.encode(), np.uint8)
    digits[:, len(prefix)::2][:, :8] = _HEX[octets >> 4]
    digits[:, len(prefix) + 1::2][:, :8] = _HEX[octets & 15]
    return digits


def prefix_hashes(seed: int, rows: np.ndarray, blocks: np.ndarray, prompt: np.ndarray,
                  shared: np.ndarray) -> pa.ListArray:
    """Return each row's full-block hashes: its prompt's shared blocks, then unique ones.

    Args:
        seed: The workload seed.
        rows: Global row numbers (unique blocks are keyed by row and block index).
        blocks: Full 256-token blocks of each row's input.
        prompt: Global shared-prompt key per row (-1: none).
        shared: How many leading blocks come from the shared prompt.
    """
    offsets = np.concatenate([[0], np.cumsum(blocks)]).astype(np.int64)
    owner = np.repeat(np.arange(len(blocks)), blocks)
    index = np.arange(offsets[-1]) - offsets[owner]
    values = keyed(seed, "block", (rows[owner].astype(np.uint64) << np.uint64(16)) + index)
    _share_prompt_blocks(seed, values, index, prompt[owner], shared[owner])
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pa.array(values, pa.uint64()))


def _share_prompt_blocks(seed: int, values: np.ndarray, index: np.ndarray, prompt: np.ndarray,
                         shared: np.ndarray) -> None:
    """Overwrite the leading blocks of shared prompts with that prompt's fixed hashes."""
    hit = index < shared
    values[hit] = keyed(seed, "prompt", prompt[hit].astype(np.int64) * 4096 + index[hit])
