"""Derive Netra's price catalog from a litellm-style price file (chat models with prices).

Used by `scripts/derive_price_catalog.py` (the packaged catalog) and `netra catalog update`
(a newer file into NETRA_HOME), so both follow the same rules:

* keep entries with `mode == "chat"` and numeric input and output prices;
* keep, per token class, the first litellm field of `FIELDS` the entry has (USD per token);
* drop a zero cache-write price on a model whose input price is positive: litellm writes
  0.0 where a provider charges no write premium (DeepSeek), and such writes cost input;
* version: a top-level string field named as in `VERSION_KEYS` if the file has one, else
  `vX.Y.Z` in the file name, else `<mtime date>-<first 12 hex digits of its sha256>`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from netra.errors import UserInputError

LICENCE = "MIT (litellm)"
UNIT = "USD per token"
# Netra token class -> litellm base fields, first present wins
_BASE: dict[str, tuple[str, ...]] = {
    "input": ("input_cost_per_token",),
    "output": ("output_cost_per_token",),
    "cache_read": ("cache_read_input_token_cost", "input_cost_per_token_cache_hit"),
    "cache_write": ("cache_creation_input_token_cost",),
    "cache_write_1h": ("cache_creation_input_token_cost_above_1hr",),
    "reasoning": ("output_cost_per_reasoning_token",),
}
# Netra key suffix -> litellm field suffix: price modes (batch, OpenAI/Gemini priority and flex
# service tiers) and long-context tiers (litellm `*_above_{N}k_tokens`, tier before mode)
_MODES = {"": "", "_batch": "_batches", "_priority": "_priority", "_flex": "_flex"}
_TIERS = {"": "", "_above_128k": "_above_128k_tokens", "_above_200k": "_above_200k_tokens",
          "_above_272k": "_above_272k_tokens"}
# Netra price key -> litellm fields (`input_batch_above_200k` <- `input_cost_per_token_above_200k_tokens_batches`)
FIELDS: dict[str, tuple[str, ...]] = {
    cls + mode + tier: tuple(base + lt_tier + lt_mode for base in bases)
    for cls, bases in _BASE.items() for mode, lt_mode in _MODES.items() for tier, lt_tier in _TIERS.items()}
LIMITS = {"provider": "litellm_provider", "max_input_tokens": "max_input_tokens",
          "max_output_tokens": "max_output_tokens", "deprecation_date": "deprecation_date"}
# write prices litellm may give as 0.0 meaning "no premium" (the write then costs input)
WRITE_KEYS = tuple(k for k in FIELDS if k.startswith("cache_write"))
VERSION_KEYS = ("version", "_version", "litellm_version")
_NAMED_VERSION = re.compile(r"[_-]v(\d+(?:\.\d+)+)")
_MAX_VERSION = 64


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_priced_chat(entry: object) -> bool:
    """Keep chat models that have both an input and an output price."""
    if not isinstance(entry, dict) or entry.get("mode") != "chat":
        return False
    return all(_number(entry.get(FIELDS[k][0])) for k in ("input", "output"))


def _price(entry: dict, names: tuple[str, ...]) -> float | None:
    return next((float(entry[n]) for n in names if _number(entry.get(n))), None)


def derive_entry(entry: dict) -> dict:
    """Keep the per-token prices (USD) and the limits Netra uses."""
    found = {k: _price(entry, names) for k, names in FIELDS.items()}
    out = {k: v for k, v in found.items() if v is not None and not _free_write(k, v, found)}
    out.update({k: entry[v] for k, v in LIMITS.items() if entry.get(v) is not None})
    out["supports_prompt_caching"] = bool(entry.get("supports_prompt_caching", False))
    return out


def _free_write(key: str, price: float, found: dict[str, float | None]) -> bool:
    """Whether `key` is a 0.0 write price on a model whose input costs something."""
    return key in WRITE_KEYS and price == 0.0 and (found["input"] or 0.0) > 0.0


def read_price_file(source: Path) -> tuple[bytes, dict[str, Any]]:
    """Return the file's bytes and its JSON object; raise `UserInputError` if it is not one."""
    data, raw = _read_json(source)
    if not isinstance(raw, dict):
        raise UserInputError(f"price file {source} must hold a JSON object of model -> prices")
    return data, raw


def _read_json(source: Path) -> tuple[bytes, Any]:
    try:
        data = source.read_bytes()
        return data, json.loads(data)
    except (OSError, ValueError) as exc:
        raise UserInputError(f"cannot read price file {source}: {getattr(exc, 'strerror', None) or exc}") from exc


def source_version(source: Path, raw: dict[str, Any], data: bytes) -> str:
    """Return the file's version: its version field, else `vX.Y.Z` in its name, else date-sha."""
    field = next((raw[k].strip() for k in VERSION_KEYS if isinstance(raw.get(k), str) and raw[k].strip()), "")
    named = _NAMED_VERSION.search(source.name)
    return (field or (named.group(1) if named else "") or _stamp(source, data))[:_MAX_VERSION]


def _stamp(source: Path, data: bytes) -> str:
    day = datetime.fromtimestamp(source.stat().st_mtime, timezone.utc).strftime("%Y-%m-%d")
    return f"{day}-{hashlib.sha256(data).hexdigest()[:12]}"


def derive(source: Path) -> dict:
    """Build the catalog document from a litellm-style file, with its provenance.

    Raises:
        UserInputError: the file is unreadable, not a JSON object, or has no priced chat model.
    """
    data, raw = read_price_file(source)
    models = {name: derive_entry(e) for name, e in sorted(raw.items()) if is_priced_chat(e)}
    if not models:
        raise UserInputError(f"price file {source} has no chat model with input and output prices")
    return {"source": f"litellm price file {source.name}", "version": source_version(source, raw, data),
            "licence": LICENCE, "unit": UNIT, "sha256": hashlib.sha256(data).hexdigest(), "models": models}


def write_catalog(doc: dict, out: Path) -> None:
    """Write a catalog document atomically (a temporary file, then a rename)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_text(json.dumps(doc, indent=0, sort_keys=True) + "\n")
    os.replace(partial, out)
