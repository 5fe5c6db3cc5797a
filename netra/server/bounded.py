"""Caps on the free-form JSON a client sends to be kept: nesting depth and encoded size.

    class ThreadIn(Body):
        metadata: JsonObject = Field(default_factory=dict)   # 422 past the caps, never stored

Thread metadata, run input and config, search filters and tool arguments are JSON objects of
any shape. Unbounded, a 500-deep object is accepted and stored, then breaks every read of it:
pydantic stops serialising at a depth of a few hundred and `json.dumps` at Python's recursion
limit, so the owner's thread list answers 500 for good. So such a value is refused when it
comes in: more than MAX_JSON_DEPTH levels of objects and arrays, more than MAX_JSON_BYTES once
encoded, or a NaN or infinite number (PostgreSQL's JSONB refuses them). Depth is measured
without recursion, before anything else touches the value.

`shown(value)` is the read side: a value stored before the caps existed is replaced, when
shown, by a note saying so, so the list it is in still answers.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator

MAX_JSON_DEPTH = 32
MAX_JSON_BYTES = 64 * 1024
UNREADABLE = {"unreadable": f"the stored value is over the limits ({MAX_JSON_DEPTH} levels, {MAX_JSON_BYTES} "
                            "bytes of JSON): replace it"}


def depth(value: Any) -> int:
    """Return how deeply objects and arrays nest in `value` (a scalar: 0), without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending and deepest <= MAX_JSON_DEPTH:
        item, level = pending.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            pending.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def problem(value: Any) -> str | None:
    """Return what makes `value` unfit to keep (too deep, too large, not JSON), or None."""
    if depth(value) > MAX_JSON_DEPTH:
        return f"nested deeper than {MAX_JSON_DEPTH} levels"
    try:
        size = len(json.dumps(value, allow_nan=False, ensure_ascii=False).encode())
    except (ValueError, TypeError):
        return "holds a value JSON cannot carry (NaN or an infinite number)"
    return f"is {size} bytes of JSON, over the limit of {MAX_JSON_BYTES}" if size > MAX_JSON_BYTES else None


def bounded(value: Any) -> Any:
    """Return `value` when it is within the caps; raise ValueError naming the cap it passes (422)."""
    found = problem(value)
    if found is not None:
        raise ValueError(found)
    return value


def shown(value: Any) -> Any:
    """Return a stored value as it can be shown: itself, or UNREADABLE when it is over the caps."""
    return value if problem(value) is None else dict(UNREADABLE)


JsonObject = Annotated[dict[str, Any], AfterValidator(bounded)]
