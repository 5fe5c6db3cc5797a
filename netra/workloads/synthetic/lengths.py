"""Draw token lengths: inverse-CDF over the Azure trace quantiles, uniform or lognormal.

The Azure quantiles (`data/azure_lengths.json`, CC-BY-4.0, from the Splitwise ISCA'24
traces) are derived by `scripts/derive_azure_lengths.py`; the CSVs are not needed here.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Callable

import numpy as np

from netra.workloads.synthetic.specs import Length


@lru_cache(maxsize=1)
def azure_quantiles() -> dict:
    """Load the packaged Azure length quantiles (cached)."""
    text = resources.files("netra.workloads").joinpath("data/azure_lengths.json").read_text()
    return json.loads(text)


def _azure(rng: np.random.Generator, n: int, service: str, column: str) -> np.ndarray:
    doc = azure_quantiles()
    values = np.interp(rng.random(n), doc["levels"], doc["services"][service][column])
    return np.rint(values)


def _uniform(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    return rng.integers(low, high, n, endpoint=True).astype(np.float64)


def _lognormal(rng: np.random.Generator, n: int, median: float, sigma: float, low: int,
               high: int) -> np.ndarray:
    return np.clip(np.rint(median * np.exp(sigma * rng.standard_normal(n))), low, high)


SAMPLERS: dict[str, Callable[..., np.ndarray]] = {
    "azure": _azure, "uniform": _uniform, "lognormal": _lognormal}


def sample_lengths(rng: np.random.Generator, length: Length, n: int) -> np.ndarray:
    """Draw `n` token lengths (int64, at least 1) as `length` describes."""
    values = SAMPLERS[length.kind](rng, n, *length.args)
    return np.maximum(values, 1).astype(np.int64)
