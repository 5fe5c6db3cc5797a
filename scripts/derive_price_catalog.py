"""Derive Netra's price catalog from the litellm price file (chat models with prices).

Usage: python scripts/derive_price_catalog.py [SOURCE_JSON] [OUT_JSON]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "shared/data/litellm_model_prices_and_context_window_v1.110.2.json"
OUT = Path(__file__).resolve().parents[1] / "netra/workloads/data/price_catalog.json"
FIELDS = {
    "input": "input_cost_per_token",
    "output": "output_cost_per_token",
    "cache_read": "cache_read_input_token_cost",
    "cache_write": "cache_creation_input_token_cost",
    "reasoning": "output_cost_per_reasoning_token",
    "input_batch": "input_cost_per_token_batches",
    "output_batch": "output_cost_per_token_batches",
    "cache_read_batch": "cache_read_input_token_cost_batches",
    "cache_write_batch": "cache_creation_input_token_cost_batches",
}
LIMITS = {"provider": "litellm_provider", "max_input_tokens": "max_input_tokens",
          "max_output_tokens": "max_output_tokens", "deprecation_date": "deprecation_date"}


def is_priced_chat(entry: object) -> bool:
    """Keep chat models that have both an input and an output price."""
    if not isinstance(entry, dict) or entry.get("mode") != "chat":
        return False
    return all(isinstance(entry.get(k), (int, float)) for k in (FIELDS["input"], FIELDS["output"]))


def derive_entry(entry: dict) -> dict:
    """Keep the per-token prices (USD) and the limits Netra uses."""
    out = {k: float(entry[v]) for k, v in FIELDS.items() if isinstance(entry.get(v), (int, float))}
    out.update({k: entry[v] for k, v in LIMITS.items() if entry.get(v) is not None})
    out["supports_prompt_caching"] = bool(entry.get("supports_prompt_caching", False))
    return out


def derive(source: Path) -> dict:
    """Build the catalog document, with its provenance."""
    raw = json.loads(source.read_text())
    models = {name: derive_entry(e) for name, e in sorted(raw.items()) if is_priced_chat(e)}
    return {"source": "litellm model_prices_and_context_window_backup.json (litellm wheel)",
            "version": "1.110.2", "licence": "MIT (litellm)", "unit": "USD per token",
            "models": models}


def main(argv: list[str]) -> int:
    """Write the derived catalog."""
    source = Path(argv[1]) if len(argv) > 1 else SOURCE
    out = Path(argv[2]) if len(argv) > 2 else OUT
    doc = derive(source)
    out.write_text(json.dumps(doc, indent=0, sort_keys=True) + "\n")
    print(f"{len(doc['models'])} chat models -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
