"""`netra tools run --args`: the JSON object of a tool's arguments, parsed before any tool is loaded."""

from __future__ import annotations

import json

from netra.errors import UserInputError


def json_args(text: str) -> dict:
    """Parse `--args`: a JSON object, else `UserInputError` (exit 2)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserInputError(f"--args is not valid JSON: {exc.msg} at position {exc.pos}") from exc
    if not isinstance(value, dict):
        raise UserInputError("--args must be a JSON object, e.g. '{\"feature\": \"chat\"}'")
    return value
