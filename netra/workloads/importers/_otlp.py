"""OTLP/JSON traces: decode attributes, walk spans with their resource, map a model-call span to an event.

The mapping follows the OpenTelemetry GenAI semantic conventions, their older names and
OpenInference's: for each event column a tuple of attribute keys, the first present wins
(docs/ingest_api.md lists the table with its sources). A column none of whose keys the span
carries stays missing (not in the telemetry), never 0. Token counts follow the conventions
too: input includes cache reads and writes, output includes reasoning. Protobuf exports
(OTLP/HTTP protobuf, OTLP/gRPC) reach this module as the same document (`_otlp_proto`).
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from netra.errors import UserInputError

# event column -> span attribute keys, first present wins
SPAN_ALIASES: dict[str, tuple[str, ...]] = {
    "provider": ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"),
    "model": ("gen_ai.response.model", "gen_ai.request.model", "llm.model_name"),
    "input_tokens": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.token_count.prompt"),
    "output_tokens": ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens",
                      "llm.token_count.completion"),
    "cached_input_tokens": ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens",
                            "llm.token_count.prompt_details.cache_read"),
    "cache_write_tokens": ("gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_write.input_tokens",
                           "gen_ai.usage.cache_creation_input_tokens", "llm.token_count.prompt_details.cache_write"),
    "reasoning_tokens": ("gen_ai.usage.reasoning.output_tokens", "llm.token_count.completion_details.reasoning"),
    "max_tokens": ("gen_ai.request.max_tokens",),
    "finish_reason": ("gen_ai.response.finish_reasons",),
    "thread_id": ("gen_ai.conversation.id", "session.id"),
    "session_id": ("session.id", "gen_ai.conversation.id"),
    "user_id": ("user.id", "enduser.id"),
    "feature": ("netra.feature",),
    "error_type": ("error.type",),
    # the tier that served the call (what it is billed at), else the tier requested: OpenAI
    # attributes of the GenAI conventions (`openai.*`, formerly `gen_ai.openai.*`)
    "service_tier": ("openai.response.service_tier", "gen_ai.openai.response.service_tier",
                     "openai.request.service_tier", "gen_ai.openai.request.service_tier"),
}
# event column -> (span attribute keys, first present wins; the factor from the attribute's unit to the column's)
SCALED_ALIASES: dict[str, tuple[tuple[str, ...], int]] = {
    "ttft_ms": (("gen_ai.response.time_to_first_chunk",), 1000),  # seconds, streamed calls only
}
# event column -> resource attribute keys, used when the span has none of the column's own
RESOURCE_ALIASES: dict[str, tuple[str, ...]] = {
    "user_id": ("user.id", "enduser.id"),
    "feature": ("netra.feature", "service.name"),
}
# a span is a model call when it has one of these and no operation or kind that says otherwise
LLM_MARKERS = SPAN_ALIASES["model"] + SPAN_ALIASES["input_tokens"] + SPAN_ALIASES["output_tokens"]
MODEL_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "embeddings"})
OPENINFERENCE_KINDS = frozenset({"LLM", "EMBEDDING"})
# provider finish reasons (lower-cased) -> the names the event table uses
FINISH_REASONS = {"max_tokens": "length", "max_output_tokens": "length", "end_turn": "stop",
                  "stop_sequence": "stop"}
ERROR_CODES = (2, "2", "STATUS_CODE_ERROR")
REQUIRED_TOKENS = ("input_tokens", "output_tokens")
# span attributes kept in the event's `attributes` map
KEPT_ATTRIBUTES = ("gen_ai.operation.name", "gen_ai.response.id")


def _int(raw: Any) -> Any:
    """Return an int64 (a JSON string in OTLP/JSON) as int; keep what does not parse for `finalize`."""
    try:
        return int(raw)
    except (TypeError, ValueError):
        return raw


def _values(raw: Any) -> list:
    values = raw.get("values") if isinstance(raw, dict) else None
    return values if isinstance(values, list) else []


# AnyValue field -> its Python value
DECODERS: dict[str, Callable[[Any], Any]] = {
    "stringValue": lambda raw: raw,
    "intValue": _int,
    "doubleValue": lambda raw: raw,
    "boolValue": lambda raw: raw,
    "bytesValue": lambda raw: raw,
    "arrayValue": lambda raw: [any_value(v) for v in _values(raw)],
    "kvlistValue": lambda raw: attributes(_values(raw)),
}


def any_value(value: Any) -> Any:
    """Return the Python value of an OTLP/JSON AnyValue (`{"intValue": "3"}` -> 3); None when empty."""
    if not isinstance(value, dict) or not value:
        return None
    kind, raw = next(iter(value.items()))
    return DECODERS[kind](raw) if kind in DECODERS else None


def attributes(items: Any) -> dict[str, Any]:
    """Return OTLP/JSON key-value attributes as a dict."""
    pairs = items if isinstance(items, list) else []
    return {p["key"]: any_value(p.get("value")) for p in pairs if isinstance(p, dict) and isinstance(p.get("key"), str)}


def is_export(document: Any) -> bool:
    """Return whether `document` is an OTLP/JSON traces export (`{}` is an empty one)."""
    return isinstance(document, dict) and (not document or isinstance(document.get("resourceSpans"), list))


def check_export(document: Any) -> dict:
    """Return `document` if it is an OTLP/JSON traces export; raise UserInputError otherwise."""
    if not is_export(document):
        raise UserInputError("not an OTLP/JSON traces export: expected an object with a resourceSpans array")
    return document


def _list(parent: dict, key: str) -> list:
    value = parent.get(key)
    return value if isinstance(value, list) else []


def _objects(parent: dict, key: str) -> list[dict]:
    return [item for item in _list(parent, key) if isinstance(item, dict)]


def spans(document: dict) -> Iterator[tuple[dict, Any]]:
    """Yield (resource attributes, span) for every span of an export, in order (spans may be malformed)."""
    for resource_spans in _objects(document, "resourceSpans"):
        resource = resource_spans.get("resource")
        resource_attributes = attributes(resource.get("attributes") if isinstance(resource, dict) else None)
        for scope_spans in _objects(resource_spans, "scopeSpans"):
            yield from ((resource_attributes, span) for span in _list(scope_spans, "spans"))


def is_model_call(span_attributes: dict) -> bool:
    """Return whether a span describes one model call (not an agent, tool, HTTP or other span)."""
    if all(span_attributes.get(key) is None for key in LLM_MARKERS):
        return False
    operation, kind = span_attributes.get("gen_ai.operation.name"), span_attributes.get("openinference.span.kind")
    return ((operation is None or operation in MODEL_OPERATIONS)
            and (kind is None or str(kind).upper() in OPENINFERENCE_KINDS))


def _first(found: dict, keys: tuple[str, ...]) -> Any:
    return next((found[key] for key in keys if found.get(key) is not None), None)


def span_record(span: dict, resource: dict) -> dict | None:
    """Return the event record (event column -> value) of a model-call span; None for other spans."""
    found = attributes(span.get("attributes"))
    if not is_model_call(found):
        return None
    record = {column: _first(found, keys) for column, keys in SPAN_ALIASES.items()}
    record |= {column: _first(resource, keys) for column, keys in RESOURCE_ALIASES.items() if record[column] is None}
    record |= _timing(span, found) | _ids(span) | _kept(span, found)
    return _outcome(record, span)


def _scaled(value: Any, factor: int) -> Any:
    """Return a number in the column's unit, rounded; None stays None, what is not a number is kept for `finalize`."""
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    return round(value * factor) if numeric else value


def _nanos(value: Any) -> int | None:
    try:
        nanos = int(value)
    except (TypeError, ValueError):
        return None
    return nanos if nanos > 0 else None


def _timing(span: dict, found: dict) -> dict[str, Any]:
    """Return the start, the duration from the span's times, and the timings its attributes give (TTFT)."""
    start, end = _nanos(span.get("startTimeUnixNano")), _nanos(span.get("endTimeUnixNano"))
    latency = round((end - start) / 1e6) if start and end and end >= start else None  # uint32 ms
    given = {column: _scaled(_first(found, keys), factor) for column, (keys, factor) in SCALED_ALIASES.items()}
    return {"timestamp": start, "latency_ms": latency} | given


def _hex(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) and value else None


def _ids(span: dict) -> dict[str, Any]:
    return {"request_id": _hex(span.get("spanId")), "trace_id": _hex(span.get("traceId"))}


def _kept(span: dict, found: dict) -> dict[str, Any]:
    kept = {key: found[key] for key in KEPT_ATTRIBUTES if found.get(key) is not None}
    name = span.get("name")
    return {"attributes": kept | ({"otel.span.name": name} if isinstance(name, str) and name else {})}


def _status_code(span: dict) -> Any:
    status = span.get("status")
    return status.get("code") if isinstance(status, dict) else None


def _outcome(record: dict, span: dict) -> dict:
    """Set status and finish reason; a failed call without usage counts as 0 tokens, finish reason `error`."""
    failed = _status_code(span) in ERROR_CODES or record["error_type"] is not None
    record["status"] = "error" if failed else "ok"
    record["finish_reason"] = _finish(record["finish_reason"]) or ("error" if failed else None)
    record |= {k: 0 for k in REQUIRED_TOKENS if failed and record[k] is None}
    record["input_tokens"] = _inclusive_input(record)
    return record


def _finish(value: Any) -> str | None:
    first = value[0] if isinstance(value, list) and value else value
    return FINISH_REASONS.get(first.lower(), first.lower()) if isinstance(first, str) and first else None


def _inclusive_input(record: dict) -> Any:
    """Return input tokens including cache reads and writes when the span reported them apart.

    The conventions count cache reads and writes inside input tokens; an instrumentation that
    reports fewer input tokens than cached ones evidently counted them apart, so they are added.
    """
    total, cached = record["input_tokens"], [record["cached_input_tokens"] or 0, record["cache_write_tokens"] or 0]
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in [total, *cached])
    return total + sum(cached) if numbers and sum(cached) > total else total
