"""The SSE wire format of the LangGraph Agent Server API, and plain JSON of anything the graph streams.

    frame("values", {"messages": []}, 7)   # b'event: values\r\ndata: {"messages":[]}\r\nid: 7\r\n\r\n'
    frame_json("values", text, 7)           # the same from JSON text already encoded (`dumps`)
    HEARTBEAT                               # b': heartbeat\r\n\r\n' (a comment: clients skip it)
    dumps(state); jsonable(state)           # JSON text / plain data: messages as their dicts, NaN as null

Every event is `event:`, one `data:` line of compact UTF-8 JSON (JSON escapes newlines, so
the line never breaks) and `id:`, each line ended by CRLF and the event by an empty line:
the bytes langgraph-api sends. JSON has no NaN or infinity: they become null. Encoding is
orjson's (what langgraph-sdk decodes with); a value it refuses (an integer beyond 64 bits)
falls back to the standard library's encoder.
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable
from uuid import UUID

import orjson

HEARTBEAT = b": heartbeat\r\n\r\n"
MEDIA_TYPE = "text/event-stream"
# a type the JSON encoder does not know -> how it is written
CONVERSIONS: tuple[tuple[Any, Callable[[Any], Any]], ...] = (
    (BaseException, lambda exc: {"error": type(exc).__name__, "message": str(exc)}),
    ((set, frozenset), list),
    ((datetime, date, time), lambda moment: moment.isoformat()),
    (timedelta, lambda span: span.total_seconds()),
    ((UUID, Decimal, Path), str),
)
METHODS = ("model_dump", "tolist", "_asdict")  # pydantic models (messages), numpy values, named tuples
OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _default(value: Any) -> Any:
    """Return a JSON-able stand-in for `value` (the encoder's `default`)."""
    for kind, convert in CONVERSIONS:
        if isinstance(value, kind):
            return convert(value)
    method = next((getattr(value, name) for name in METHODS if callable(getattr(value, name, None))), None)
    if method is not None and not isinstance(value, type):
        return method()
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) and not isinstance(value, type) else str(value)


_STRICT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_default)
_LENIENT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=_default)


def finite(value: Any) -> Any:
    """Return plain JSON data with every NaN or infinity replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    return [finite(item) for item in value] if isinstance(value, list) else value


def _standard(value: Any) -> str:
    """Return `value` as compact JSON text with the standard library (NaN and infinities as null)."""
    try:
        return _STRICT.encode(value)
    except ValueError:  # a NaN or an infinity somewhere
        return _STRICT.encode(finite(json.loads(_LENIENT.encode(value))))


def dumps(value: Any) -> str:
    """Return `value` as compact JSON text (NaN and infinities as null)."""
    try:
        return orjson.dumps(value, default=_default, option=OPTIONS).decode()
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits
        return _standard(value)


def jsonable(value: Any) -> Any:
    """Return `value` as plain JSON data (dicts, lists, strings, numbers, booleans, None)."""
    return orjson.loads(dumps(value))


def _field(text: str) -> str:
    """Return `text` without line breaks (an event name or id must stay on its line)."""
    return text.replace("\r", "").replace("\n", "")


def frame_json(event: str, text: str, event_id: int | str | None = None) -> bytes:
    """Return one SSE event: `event:`, `data:` (`text`, JSON already encoded) and, when given, `id:`."""
    tail = "" if event_id is None else f"id: {_field(str(event_id))}\r\n"
    return f"event: {_field(event)}\r\ndata: {_field(text)}\r\n{tail}\r\n".encode()


def frame(event: str, data: Any, event_id: int | str | None = None) -> bytes:
    """Return one SSE event: `event:`, `data:` (`data` as JSON) and, when given, `id:`."""
    return frame_json(event, dumps(data), event_id)
