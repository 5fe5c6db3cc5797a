"""Derive the token-length quantiles of the Azure LLM inference traces (conv and code).

The synthetic generator samples request lengths by inverse-CDF interpolation over these
quantiles, so it ships a small JSON instead of the trace CSVs.

Usage: python scripts/derive_azure_lengths.py [DATA_DIR] [OUT_JSON]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "shared/data"
OUT = Path(__file__).resolve().parents[1] / "netra/workloads/data/azure_lengths.json"
SERVICES = {"conv": "AzureLLMInferenceTrace_conv.csv", "code": "AzureLLMInferenceTrace_code.csv"}
COLUMNS = ("ContextTokens", "GeneratedTokens")
LEVELS = np.linspace(0.0, 1.0, 201)
SOURCE = ("Azure/AzurePublicDataset data/AzureLLMInferenceTrace_{conv,code}.csv "
          "(Splitwise, ISCA'24)")


def read_trace(path: Path) -> dict[str, np.ndarray]:
    """Read the token columns of one trace CSV (TIMESTAMP,ContextTokens,GeneratedTokens)."""
    header = path.read_text().splitlines()[0].split(",")
    rows = np.loadtxt(path, delimiter=",", skiprows=1, usecols=[header.index(c) for c in COLUMNS])
    return {c: rows[:, i] for i, c in enumerate(COLUMNS)}


def service_entry(columns: dict[str, np.ndarray]) -> dict:
    """Return the row count and the 201 quantiles of each token column."""
    quantiles = {c: [round(float(q), 3) for q in np.quantile(v, LEVELS)] for c, v in columns.items()}
    return {"rows": int(len(columns[COLUMNS[0]])), **quantiles}


def derive(data_dir: Path) -> dict:
    """Build the quantile document, with its provenance."""
    services = {name: service_entry(read_trace(data_dir / file)) for name, file in SERVICES.items()}
    return {"source": SOURCE, "licence": "CC-BY-4.0", "levels": [round(float(x), 3) for x in LEVELS],
            "services": services}


def main(argv: list[str]) -> int:
    """Write the derived quantiles."""
    data_dir = Path(argv[1]) if len(argv) > 1 else DATA
    out = Path(argv[2]) if len(argv) > 2 else OUT
    doc = derive(data_dir)
    out.write_text(json.dumps(doc, indent=0) + "\n")
    counts = ", ".join(f"{k}: {v['rows']} rows" for k, v in doc["services"].items())
    print(f"{counts} -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
