"""The price catalog: per-class prices, batch prices, fallbacks, name matching, provenance."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from netra.errors import UnknownModelError
from netra.workloads.catalog import ModelPrice, PriceCatalog, TokenCounts, _model_price

DERIVE = Path(__file__).resolve().parents[2] / "scripts" / "derive_price_catalog.py"
N = 1_000  # tokens priced in the one-class tests

# token class -> a request holding `n` tokens of that class and nothing else billable
ALONE = {
    "input": lambda n: TokenCounts(input=n),
    "cache_read": lambda n: TokenCounts(input=n, cache_read=n),
    "cache_write": lambda n: TokenCounts(input=n, cache_write=n),
    "output": lambda n: TokenCounts(output=n),
    "reasoning": lambda n: TokenCounts(output=n, reasoning=n),
}

# model, token class, batch, USD per token (from the litellm catalog, by hand)
PER_CLASS = [
    ("claude-sonnet-4-5", "input", False, 3e-6),
    ("claude-sonnet-4-5", "cache_read", False, 3e-7),
    ("claude-sonnet-4-5", "cache_write", False, 3.75e-6),
    ("claude-sonnet-4-5", "output", False, 1.5e-5),
    ("claude-sonnet-4-5", "reasoning", False, 1.5e-5),  # no reasoning price: output's
    ("claude-sonnet-4-5", "input", True, 1.5e-6),
    ("claude-sonnet-4-5", "cache_read", True, 1.5e-7),
    ("claude-sonnet-4-5", "cache_write", True, 1.875e-6),
    ("claude-sonnet-4-5", "output", True, 7.5e-6),
    ("gpt-4o", "input", False, 2.5e-6),
    ("gpt-4o", "cache_read", False, 1.25e-6),
    ("gpt-4o", "cache_write", False, 2.5e-6),  # no cache-write price: input's
    ("gpt-4o", "output", False, 1e-5),
    ("gpt-4o", "reasoning", False, 1e-5),
    ("gpt-4o", "input", True, 1.25e-6),
    ("gpt-4o", "output", True, 5e-6),
    ("gpt-4o", "cache_write", True, 1.25e-6),  # falls back to the batch input price
    ("gpt-4o", "cache_read", True, 1.25e-6),  # no batch cache-read price: the standard one
    ("gpt-4.1", "input", False, 2e-6),
    ("gpt-4.1", "output", False, 8e-6),
    ("gpt-4.1", "input", True, 1e-6),
    ("gpt-4.1", "output", True, 4e-6),
    ("claude-haiku-4-5", "cache_write", False, 1.25e-6),
    ("dashscope/qwen-plus-2025-04-28", "reasoning", False, 4e-6),  # its own reasoning price
    ("dashscope/qwen-plus-2025-04-28", "output", False, 1.2e-6),
    ("dashscope/qwen-plus-2025-04-28", "cache_read", False, 4e-7),  # no read price: input's
    ("dashscope/qwen-plus-2025-04-28", "input", True, 4e-7),  # no batch prices at all
]


@pytest.mark.parametrize(("model", "token_class", "batch", "price"), PER_CLASS)
def test_each_token_class_alone_costs_its_own_price(catalog: PriceCatalog, model: str,
                                                    token_class: str, batch: bool, price: float):
    """Price N tokens of one class and nothing else."""
    tokens = ALONE[token_class](N)
    assert catalog.cost(model, tokens, batch) == pytest.approx(N * price, rel=1e-12)
    assert catalog.unit_prices(model, batch)[token_class] == pytest.approx(price, rel=1e-12)


@pytest.mark.parametrize(("tokens", "billable"), [
    (TokenCounts(), dict(input=0, cache_read=0, cache_write=0, output=0, reasoning=0)),
    (TokenCounts(input=100), dict(input=100, cache_read=0, cache_write=0, output=0, reasoning=0)),
    (TokenCounts(input=100, cache_read=60, cache_write=30, output=50, reasoning=20),
     dict(input=10, cache_read=60, cache_write=30, output=30, reasoning=20)),
    (TokenCounts(input=10, cache_read=100, output=5, reasoning=9),  # inconsistent: clamp at 0
     dict(input=0, cache_read=100, cache_write=0, output=0, reasoning=9)),
])
def test_billable_splits_counts_into_disjoint_classes(tokens: TokenCounts, billable: dict[str, int]):
    """Take cache reads and writes out of input, and reasoning out of output."""
    assert tokens.billable() == billable


@pytest.mark.parametrize(("model", "tokens", "batch", "usd"), [
    # 2000*3e-6 + 6000*3e-7 + 2000*3.75e-6 + 1500*1.5e-5 = 0.006 + 0.0018 + 0.0075 + 0.0225
    ("claude-sonnet-4-5", TokenCounts(input=10_000, cache_read=6_000, cache_write=2_000, output=1_500),
     False, 0.0378),
    # 1000*1.25e-6 + 500*5e-6
    ("gpt-4o", TokenCounts(input=1_000, output=500), True, 0.00375),
    # 4000*1e-6 + 1000*4e-6
    ("gpt-4.1", TokenCounts(input=4_000, output=1_000), True, 0.008),
    ("gpt-4o", TokenCounts(), False, 0.0),
])
def test_whole_request_cost_by_hand(catalog: PriceCatalog, model: str, tokens: TokenCounts,
                                    batch: bool, usd: float):
    """Sum every class at its own price."""
    assert catalog.cost(model, tokens, batch) == pytest.approx(usd, rel=1e-12)


BARE = PriceCatalog({"bare": ModelPrice("bare", "acme", {"input": 1.0, "output": 4.0}, {"input": 0.5})})


@pytest.mark.parametrize(("token_class", "batch", "price"), [
    ("input", False, 1.0), ("cache_read", False, 1.0), ("cache_write", False, 1.0),
    ("output", False, 4.0), ("reasoning", False, 4.0),
    ("input", True, 0.5), ("cache_read", True, 0.5), ("cache_write", True, 0.5),
    ("output", True, 4.0), ("reasoning", True, 4.0),
])
def test_class_without_a_price_falls_back(token_class: str, batch: bool, price: float):
    """Price cache tokens as input and reasoning as output; batch only where known."""
    assert BARE.lookup("bare").per_token(token_class, batch) == price
    assert BARE.cost("bare", ALONE[token_class](3), batch) == 3 * price


@pytest.mark.parametrize(("name", "key"), [
    ("gpt-4o", "gpt-4o"),
    ("openai/gpt-4o", "gpt-4o"),
    ("anthropic/claude-haiku-4-5", "claude-haiku-4-5"),
    ("azure_ai/claude-haiku-4-5", "azure_ai/claude-haiku-4-5"),  # a prefixed key of its own
    ("gpt-4.1-2099-01-01", "gpt-4.1"),
    ("openai/gpt-4.1-2099-01-01", "gpt-4.1"),
    ("GPT-4.1-2099-01-01", "gpt-4.1"),
    ("gpt-4o-2024-08-06", "gpt-4o-2024-08-06"),  # an exact dated key wins
    ("claude-haiku-4-5-20991231", "claude-haiku-4-5"),
    ("claude-haiku-4-5@20991231", "claude-haiku-4-5"),
    ("GPT-4o", "gpt-4o"),
    ("  gpt-4o\n", "gpt-4o"),
])
def test_names_match_with_fallbacks(catalog: PriceCatalog, name: str, key: str):
    """Match exactly, then without provider prefix, in lower case, then undated."""
    assert catalog.resolve(name) == key
    assert catalog.lookup(name) is catalog.models[key]
    assert catalog.cost(name, TokenCounts(input=7, output=3)) == catalog.cost(key, TokenCounts(input=7, output=3))


UNKNOWN_CALLS = {
    "lookup": lambda catalog, name: catalog.lookup(name),
    "cost": lambda catalog, name: catalog.cost(name, TokenCounts(input=1)),
    "unit_prices": lambda catalog, name: catalog.unit_prices(name, batch=True),
}


@pytest.mark.parametrize("call", UNKNOWN_CALLS)
@pytest.mark.parametrize("name", ["no-such-model", "openai/no-such-model-2099-01-01", "", "gpt-4o-ultra"])
def test_unknown_model_raises_and_never_prices_as_zero(catalog: PriceCatalog, name: str, call: str):
    """Raise UnknownModelError, naming the model, from lookup, cost and unit_prices."""
    assert catalog.resolve(name) is None
    with pytest.raises(UnknownModelError, match="not in the price catalog") as raised:
        UNKNOWN_CALLS[call](catalog, name)
    assert repr(name) in str(raised.value)


def test_catalog_keeps_its_provenance(catalog: PriceCatalog):
    """Keep the source, version and licence of the prices."""
    assert (catalog.version, catalog.licence) == ("1.110.2", "MIT (litellm)")
    assert "litellm" in catalog.source


def test_packaged_models_are_complete(catalog: PriceCatalog):
    """Require input and output prices of every packaged model; strip the batch suffix."""
    sonnet = catalog.lookup("claude-sonnet-4-5")
    assert all({"input", "output"} <= set(m.prices) for m in catalog.models.values())
    limits = (sonnet.provider, sonnet.max_output_tokens, sonnet.supports_prompt_caching)
    assert limits == ("anthropic", 64000, True)
    assert set(sonnet.batch) == {"input", "output", "cache_read", "cache_write"}


LITELLM = {
    "sample_spec": {"mode": "one of: chat, embedding, completion", "input_cost_per_token": 0.0,
                    "output_cost_per_token": 0.0},
    "acme/chat-full": {"mode": "chat", "litellm_provider": "acme", "input_cost_per_token": 1e-6,
                       "output_cost_per_token": 2e-6, "cache_read_input_token_cost": 1e-7,
                       "cache_creation_input_token_cost": 1.25e-6, "input_cost_per_token_batches": 5e-7,
                       "output_cost_per_token_batches": 1e-6, "max_input_tokens": 1000,
                       "max_output_tokens": 100, "supports_prompt_caching": True,
                       "deprecation_date": "2099-01-01", "supports_vision": True},
    "free-chat": {"mode": "chat", "input_cost_per_token": 0, "output_cost_per_token": 0,
                  "max_output_tokens": None},
    "chat-no-output": {"mode": "chat", "input_cost_per_token": 1e-6},
    "chat-text-price": {"mode": "chat", "input_cost_per_token": "1e-6", "output_cost_per_token": 2e-6},
    "embedder": {"mode": "embedding", "input_cost_per_token": 1e-7, "output_cost_per_token": 0.0},
    "no-mode": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6},
    "not-a-dict": ["chat"],
}

DERIVED_FULL = {"provider": "acme", "input": 1e-6, "output": 2e-6, "cache_read": 1e-7,
                "cache_write": 1.25e-6, "input_batch": 5e-7, "output_batch": 1e-6,
                "max_input_tokens": 1000, "max_output_tokens": 100,
                "deprecation_date": "2099-01-01", "supports_prompt_caching": True}


@pytest.fixture
def derived(tmp_path: Path) -> tuple[dict, str]:
    """Run the derive script on a tiny litellm-style file; return its document and stdout."""
    source, out = tmp_path / "litellm.json", tmp_path / "catalog.json"
    source.write_text(json.dumps(LITELLM))
    run = subprocess.run([sys.executable, str(DERIVE), str(source), str(out)],
                         capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.read_text()), run.stdout


@pytest.mark.slow
def test_derive_keeps_only_priced_chat_models(derived: tuple[dict, str]):
    """Keep chat entries with numeric input and output prices, and only the fields used."""
    doc, stdout = derived
    assert sorted(doc["models"]) == ["acme/chat-full", "free-chat"]
    assert doc["models"]["acme/chat-full"] == DERIVED_FULL
    assert doc["models"]["free-chat"] == {"input": 0.0, "output": 0.0, "supports_prompt_caching": False}
    assert stdout.startswith("2 chat models -> ")


@pytest.mark.slow
def test_derived_document_loads_as_a_catalog(derived: tuple[dict, str]):
    """Carry provenance, and price the derived models through the catalog."""
    doc, _ = derived
    assert {"source", "version", "licence", "unit"} <= set(doc)
    models = {name: _model_price(name, row) for name, row in doc["models"].items()}
    catalog = PriceCatalog(models, doc["source"], doc["version"], doc["licence"])
    assert catalog.cost("acme/chat-full", TokenCounts(input=1_000, output=100), batch=True) == pytest.approx(6e-4)
