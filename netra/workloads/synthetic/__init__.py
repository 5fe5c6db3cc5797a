"""Synthetic LLM workloads with planted inefficiencies and their ground-truth savings.

See `docs/scenarios.md` for the scenarios, features and saving formulas.
"""

from __future__ import annotations

from netra.workloads.synthetic.generate import (
    Workload,
    check_arguments,
    generate,
    generate_and_load,
    write_manifest,
)
from netra.workloads.synthetic.specs import FEATURES, SCENARIOS

__all__ = ["FEATURES", "SCENARIOS", "Workload", "check_arguments", "generate", "generate_and_load",
           "write_manifest"]
