"""Importers of the exports of tools teams already run: LiteLLM spend logs, Langfuse observations.

Each is sniffed by the field names of its first bytes (asked before the generic formats);
the mappings are described in `_litellm` and `_langfuse` and in `docs/ingest.md`.
"""

from __future__ import annotations

from netra.workloads.importers._export import ExportFormat
from netra.workloads.importers._langfuse import LANGFUSE
from netra.workloads.importers._litellm import LITELLM

IMPORTERS: dict[str, ExportFormat] = {LITELLM.name: LITELLM, LANGFUSE.name: LANGFUSE}
