"""Model tiers: which cheaper model of the same provider can take a premium model's simple tasks.

`CHEAPER_SIBLING` maps a premium model's catalog name to a smaller, cheaper model of the same
provider. A model name is matched through the catalog's own resolution, then without its
provider prefix and date suffix, so `openai/gpt-4o-2024-08-06` maps like `gpt-4o`.
"""

from __future__ import annotations

import re

from netra.workloads.catalog import PriceCatalog

# premium model -> cheaper same-provider model for simple tasks (all keys in the catalog)
CHEAPER_SIBLING: dict[str, str] = {
    "gpt-4": "gpt-4o-mini",
    "gpt-4-turbo": "gpt-4o-mini",
    "gpt-4o": "gpt-4o-mini",
    "gpt-4.1": "gpt-4.1-mini",
    "gpt-5": "gpt-5-mini",
    "gpt-5.1": "gpt-5-mini",
    "gpt-5.4": "gpt-5.4-mini",
    "o1": "o4-mini",
    "o3": "o4-mini",
    "claude-opus-4-5": "claude-sonnet-4-5",
    "claude-opus-4-6": "claude-sonnet-4-6",
    "claude-sonnet-4-5": "claude-haiku-4-5",
    "claude-sonnet-4-6": "claude-haiku-4-5",
    "gemini-2.5-pro": "gemini-2.5-flash",
}

_DATE_SUFFIX = re.compile(r"(-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|-\d{4})$")


def _names(key: str) -> list[str]:
    """Return `key`, then without provider prefix, then also without date suffix."""
    bare = key.split("/", 1)[1] if "/" in key else key
    return list(dict.fromkeys([key, bare, _DATE_SUFFIX.sub("", bare)]))


def cheaper_sibling(catalog: PriceCatalog, model: str) -> str | None:
    """Return the cheaper same-provider model for `model`, or None when none is known.

    Args:
        catalog: The price catalog used to resolve `model` to a catalog name.
        model: A model name as logged (may carry a provider prefix or a date).

    Returns:
        The sibling's catalog name, or None if `model` is unknown or has no sibling.
    """
    key = catalog.resolve(model)
    if key is None:
        return None
    found = (CHEAPER_SIBLING[n] for n in _names(key) if n in CHEAPER_SIBLING)
    return next((s for s in found if catalog.resolve(s) is not None), None)


__all__ = ["CHEAPER_SIBLING", "cheaper_sibling"]
