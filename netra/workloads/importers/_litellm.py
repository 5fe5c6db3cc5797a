"""LiteLLM proxy spend logs: one workload event per row of `LiteLLM_SpendLogs`.

    netra ingest spend_logs.csv --format litellm     # CSV, a JSON array or JSON Lines of rows

Columns, as LiteLLM defines them (BerriAI/litellm `schema.prisma`, model `LiteLLM_SpendLogs`;
the `metadata` keys: `SpendLogsMetadata` in `litellm/proxy/_types.py`):

| event column | spend-log column |
|---|---|
| request_id | `request_id` |
| timestamp | `startTime` |
| latency_ms | `request_duration_ms`, else `endTime` − `startTime` |
| ttft_ms | `completionStartTime` − `startTime`; 0 when it is `endTime` or later (LiteLLM logs the end for a call that was not streamed) |
| model | `model`, else `model_group` |
| provider | `custom_llm_provider` |
| input_tokens | `prompt_tokens` (LiteLLM counts cache reads and writes in it) |
| output_tokens | `completion_tokens` |
| cached_input_tokens | `metadata.additional_usage_values`: `cache_read_input_tokens`, else `prompt_tokens_details.cached_tokens` |
| cache_write_tokens | `metadata.additional_usage_values.cache_creation_input_tokens` |
| reasoning_tokens | `metadata.additional_usage_values.completion_tokens_details.reasoning_tokens` |
| user_id | `end_user`, else `user` |
| session_id, thread_id | `session_id` |
| feature | the first of `request_tags` |
| status | `status`, else `metadata.status`: `success` → ok, `failure` → error |
| error_type | `metadata.error_information.error_class` |
| logged_cost_usd | `spend` (LiteLLM's own cost; Netra prices the tokens itself into `cost_usd`) |
| attributes | `litellm.call_type`, `litellm.model_group`, `litellm.model_id`, `litellm.team_id`, `litellm.cache_hit` |

Never read: `api_key` (a hash of the caller's key), `messages`, `response`,
`proxy_server_request` (contents), `requester_ip_address`, `cache_key`. A column a row lacks
stays missing (`missing_fields`), never 0.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from netra.workloads.importers._export import ExportFormat, Row, millis, number, texts

SNIFF_KEYS = (b"request_id", b"call_type", b"startTime", b"spend")
# event column -> spend-log columns, the first present wins
TEXTS: dict[str, tuple[str, ...]] = {
    "request_id": ("request_id",), "model": ("model", "model_group"), "provider": ("custom_llm_provider",),
    "user_id": ("end_user", "user"), "session_id": ("session_id",), "thread_id": ("session_id",)}
ATTRIBUTES = {"litellm.call_type": "call_type", "litellm.model_group": "model_group", "litellm.model_id": "model_id",
              "litellm.team_id": "team_id", "litellm.cache_hit": "cache_hit"}
STATUS = {"success": "ok", "failure": "error"}
# event column -> paths into `additional_usage_values`, the first present wins
USAGE_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "cached_input_tokens": (("cache_read_input_tokens",), ("prompt_tokens_details", "cached_tokens")),
    "cache_write_tokens": (("cache_creation_input_tokens",),),
    "reasoning_tokens": (("completion_tokens_details", "reasoning_tokens"),)}


def sniff(head: bytes) -> bool:
    """Return whether the first bytes name the spend-log columns (a CSV header or the first JSON row)."""
    return all(key in head for key in SNIFF_KEYS)


def usage_count(usage: dict[str, Any], paths: tuple[tuple[str, ...], ...]) -> float | None:
    """Return the count at the first of `paths` into the usage values that holds one (None: none does)."""
    for path in paths:
        value: Any = usage
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None:
            return number(value, "additional_usage_values." + ".".join(path))
    return None


def tokens(row: Row, metadata: dict[str, Any]) -> dict[str, float | None]:
    """Return the token columns: prompt and completion, and the cache and reasoning counts of the metadata."""
    usage = metadata.get("additional_usage_values")
    usage = usage if isinstance(usage, dict) else {}
    found = {column: usage_count(usage, paths) for column, paths in USAGE_PATHS.items()}
    return found | {"input_tokens": row.number("prompt_tokens"), "output_tokens": row.number("completion_tokens")}


def ttft(start: datetime | None, first: datetime | None, end: datetime | None) -> int | None:
    """Return ms to the first token; 0 for a call that was not streamed (its first token logged at the end)."""
    if first is not None and end is not None and first >= end:
        return 0
    return millis(start, first)


def timing(row: Row, start: datetime | None) -> dict[str, Any]:
    """Return the timestamp, latency and time to first token of a row."""
    end = row.time("endTime")
    latency = row.number("request_duration_ms") if row.has("request_duration_ms") else millis(start, end)
    return {"timestamp": start.isoformat() if start else None, "latency_ms": latency,
            "ttft_ms": ttft(start, row.time("completionStartTime"), end)}


def first_tag(row: Row) -> str | None:
    """Return the first request tag (a list, or its JSON text in CSV), or None."""
    tags = row.values.get("request_tags")
    if isinstance(tags, str) and tags.strip().startswith("["):
        tags = json.loads(tags) if _is_json(tags) else []
    return str(tags[0]) if isinstance(tags, list) and tags else None


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def outcome(row: Row, metadata: dict[str, Any]) -> dict[str, str | None]:
    """Return the status (None when the row logs none) and the error class of a failed call."""
    status = row.text("status") or metadata.get("status")
    error = metadata.get("error_information")
    error_type = error.get("error_class") if isinstance(error, dict) else None
    return {"status": STATUS.get(str(status)), "error_type": str(error_type) if error_type else None}


def spend_log_event(row: Row) -> dict[str, Any]:
    """Return the event record of one spend-log row."""
    metadata = row.nested("metadata")
    attributes = {name: row.text(source) for name, source in ATTRIBUTES.items() if row.has(source)}
    return {**texts(row, TEXTS), **tokens(row, metadata), **timing(row, row.time("startTime")),
            **outcome(row, metadata), "feature": first_tag(row), "logged_cost_usd": row.number("spend"),
            "attributes": attributes}


LITELLM = ExportFormat("litellm", sniff, spend_log_event)
