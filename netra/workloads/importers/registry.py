"""Which importer reads which format, and auto-detection from a file's first bytes."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from netra.errors import UserInputError
from netra.workloads.importers.base import Importer

# format name -> module that defines IMPORTERS (a dict of name -> Importer) for it
MODULES: dict[str, str] = {
    "csv": "generic", "jsonl": "generic", "parquet": "generic",
    "azure": "presets", "burstgpt": "presets", "mooncake": "presets", "tracelab": "presets",
    "otel": "otel",
    "litellm": "exports", "langfuse": "exports",
}
# auto-detection asks the specific formats first, the generic ones last
DETECTION_ORDER = ("otel", "litellm", "langfuse", "azure", "burstgpt", "mooncake", "tracelab", "parquet", "jsonl", "csv")
HEAD_BYTES = 64 * 1024


class UnknownFormatError(UserInputError):
    """The format is not one Netra reads, or auto-detection could not tell."""


def importer(name: str) -> Importer:
    """Return the importer of format `name`."""
    if name not in MODULES:
        raise UnknownFormatError(f"unknown format {name!r}; known: auto, {', '.join(MODULES)}")
    return import_module(f"netra.workloads.importers.{MODULES[name]}").IMPORTERS[name]


def detect(path: Path) -> str:
    """Return the format of `path` from its first bytes and name."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    found = next((name for name in DETECTION_ORDER if importer(name).sniff(head, path)), None)
    if found is None:
        raise UnknownFormatError(f"{path}: cannot tell its format; pass --format ({', '.join(MODULES)})")
    return found
