"""Derive Netra's packaged price catalog from the litellm price file (chat models with prices).

The rules live in `netra.workloads.catalog_derive` (shared with `netra catalog update`).

Usage: python scripts/derive_price_catalog.py [SOURCE_JSON] [OUT_JSON]
"""

from __future__ import annotations

import sys
from pathlib import Path

from netra.workloads.catalog_derive import derive, write_catalog

SOURCE = Path(__file__).resolve().parents[2] / "shared/data/litellm_model_prices_and_context_window_v1.110.2.json"
OUT = Path(__file__).resolve().parents[1] / "netra/workloads/data/price_catalog.json"


def main(argv: list[str]) -> int:
    """Write the derived catalog."""
    source = Path(argv[1]) if len(argv) > 1 else SOURCE
    out = Path(argv[2]) if len(argv) > 2 else OUT
    doc = derive(source)
    write_catalog(doc, out)
    print(f"{len(doc['models'])} chat models -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
