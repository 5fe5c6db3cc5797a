"""Preset importers of published LLM workload traces: Azure, BurstGPT, Mooncake, TraceLab.

Each is sniffed precisely (auto-detection asks them before the generic formats): Azure by
its exact header, BurstGPT by a header holding its six columns, Mooncake by a first JSON
line with `hash_ids` and `input_length`, TraceLab by one with `input_tokens_total` and
`round_id` (or `round_index`). Their mappings are described in each module and in
`docs/ingest_presets.md`.
"""

from __future__ import annotations

from netra.workloads.importers._azure import AZURE
from netra.workloads.importers._burstgpt import BURSTGPT
from netra.workloads.importers._mooncake import MOONCAKE
from netra.workloads.importers._preset_base import Preset
from netra.workloads.importers._tracelab import TRACELAB

IMPORTERS: dict[str, Preset] = {preset.name: preset for preset in (AZURE, BURSTGPT, MOONCAKE, TRACELAB)}
