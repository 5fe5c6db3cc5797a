"""The price catalog: per-class prices, batch prices, fallbacks, name matching, provenance,
and the worked examples of docs/pricing.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from netra.errors import UnknownModelError
from netra.workloads.catalog import ModelPrice, PriceCatalog, TokenCounts, catalog_from_doc

DERIVE = Path(__file__).resolve().parents[2] / "scripts" / "derive_price_catalog.py"
N = 1_000  # tokens priced in the one-class tests

# token class -> a request holding `n` tokens of that class and nothing else billable
ALONE = {
    "input": lambda n: TokenCounts(input=n),
    "cache_read": lambda n: TokenCounts(input=n, cache_read=n),
    "cache_write": lambda n: TokenCounts(input=n, cache_write=n),
    "cache_write_1h": lambda n: TokenCounts(input=n, cache_write=n, cache_write_1h=n),
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
    ("claude-sonnet-4-5", "cache_write_1h", False, 6e-6),
    ("claude-sonnet-4-5", "cache_write_1h", True, 6e-6),  # no batch 1 h price: the standard one
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
    ("gpt-4o", "cache_write_1h", False, 2.5e-6),  # no 1 h price: the write price, here input's
    ("gpt-4o", "cache_write_1h", True, 1.25e-6),
    ("gpt-4o", "cache_read", True, 1.25e-6),  # no batch cache-read price: the standard one
    ("gpt-4.1", "input", False, 2e-6),
    ("gpt-4.1", "output", False, 8e-6),
    ("gpt-4.1", "input", True, 1e-6),
    ("gpt-4.1", "output", True, 4e-6),
    ("claude-haiku-4-5", "cache_write", False, 1.25e-6),
    ("claude-haiku-4-5", "cache_write_1h", False, 2e-6),
    ("claude-haiku-4-5", "cache_write_1h", True, 2e-6),
    ("claude-haiku-4-5", "cache_write", True, 6.25e-7),
    ("anthropic.claude-3-7-sonnet-20250219-v1:0", "cache_write_1h", False, 3.75e-6),  # no 1 h price: 5 m's
    ("deepseek/deepseek-chat", "cache_write", False, 2.8e-7),  # litellm's 0.0 write: input's
    ("deepseek/deepseek-chat", "cache_read", False, 2.8e-8),
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


def classes(input=0, cache_read=0, cache_write=0, cache_write_1h=0, output=0, reasoning=0) -> dict:
    """Return billable counts with every priced class present."""
    return dict(input=input, cache_read=cache_read, cache_write=cache_write,
                cache_write_1h=cache_write_1h, output=output, reasoning=reasoning)


@pytest.mark.parametrize(("tokens", "billable"), [
    (TokenCounts(), classes()),
    (TokenCounts(input=100), classes(input=100)),
    (TokenCounts(input=100, cache_read=60, cache_write=30, output=50, reasoning=20),
     classes(input=10, cache_read=60, cache_write=30, output=30, reasoning=20)),
    (TokenCounts(input=10, cache_read=100, output=5, reasoning=9),  # inconsistent: clamp at 0
     classes(cache_read=100, reasoning=9)),
    (TokenCounts(input=100, cache_read=20, cache_write=50, cache_write_1h=30),
     classes(input=30, cache_read=20, cache_write=20, cache_write_1h=30)),
    (TokenCounts(input=100, cache_write=50, cache_write_1h=80),  # 1 h part capped at the writes
     classes(input=50, cache_write_1h=50)),
])
def test_billable_splits_counts_into_disjoint_classes(tokens: TokenCounts, billable: dict[str, int]):
    """Take cache reads and writes out of input, 1 h writes out of writes, reasoning out of output."""
    assert tokens.billable() == billable
    assert sum(v for k, v in billable.items() if k not in ("output", "reasoning")) <= max(tokens.input, tokens.cache_read)


@pytest.mark.parametrize(("model", "tokens", "batch", "usd"), [
    # 2000*3e-6 + 6000*3e-7 + 2000*3.75e-6 + 1500*1.5e-5 = 0.006 + 0.0018 + 0.0075 + 0.0225
    ("claude-sonnet-4-5", TokenCounts(input=10_000, cache_read=6_000, cache_write=2_000, output=1_500),
     False, 0.0378),
    # 1000*1.25e-6 + 500*5e-6
    ("gpt-4o", TokenCounts(input=1_000, output=500), True, 0.00375),
    # 4000*1e-6 + 1000*4e-6
    ("gpt-4.1", TokenCounts(input=4_000, output=1_000), True, 0.008),
    ("gpt-4o", TokenCounts(), False, 0.0),
    # 2000*3e-6 + 12000*3e-7 + 2000*3.75e-6 + 4000*6e-6 + 1000*1.5e-5
    ("claude-sonnet-4-5", TokenCounts(input=20_000, cache_read=12_000, cache_write=6_000, output=1_000,
                                      cache_write_1h=4_000), False, 0.0561),
])
def test_whole_request_cost_by_hand(catalog: PriceCatalog, model: str, tokens: TokenCounts,
                                    batch: bool, usd: float):
    """Sum every class at its own price."""
    assert catalog.cost(model, tokens, batch) == pytest.approx(usd, rel=1e-12)


BARE = PriceCatalog({"bare": ModelPrice("bare", "acme", {"input": 1.0, "output": 4.0}, {"input": 0.5}),
                     "writes": ModelPrice("writes", "acme", {"input": 1.0, "cache_write": 1.25, "output": 4.0},
                                          {"input": 0.5, "cache_write": 0.625})})


@pytest.mark.parametrize(("model", "token_class", "batch", "price"), [
    ("bare", "input", False, 1.0), ("bare", "cache_read", False, 1.0), ("bare", "cache_write", False, 1.0),
    ("bare", "cache_write_1h", False, 1.0), ("bare", "output", False, 4.0), ("bare", "reasoning", False, 4.0),
    ("bare", "input", True, 0.5), ("bare", "cache_read", True, 0.5), ("bare", "cache_write", True, 0.5),
    ("bare", "cache_write_1h", True, 0.5), ("bare", "output", True, 4.0), ("bare", "reasoning", True, 4.0),
    ("writes", "cache_write_1h", False, 1.25),  # no 1 h price: the 5-minute write price
    ("writes", "cache_write_1h", True, 0.625),
])
def test_class_without_a_price_falls_back(model: str, token_class: str, batch: bool, price: float):
    """Price cache reads as input, 1 h writes as writes, writes as input, reasoning as output."""
    assert BARE.lookup(model).per_token(token_class, batch) == price
    assert BARE.cost(model, ALONE[token_class](3), batch) == 3 * price


# docs/pricing.md worked examples: (model, tokens, batch, USD) with the sum written out there
DOC_EXAMPLES = {
    "openai cached reads": ("gpt-4.1", TokenCounts(input=10_000, cache_read=8_000, output=1_000), False, 0.016),
    "openai reads billed as input (wrong)": ("gpt-4.1", TokenCounts(input=10_000, output=1_000), False, 0.028),
    "openai write, no premium": ("gpt-4.1", TokenCounts(input=10_000, cache_write=8_000, output=1_000), False, 0.028),
    "openai batch": ("gpt-4.1", TokenCounts(input=10_000, cache_read=8_000, output=1_000), True, 0.010),
    "anthropic 5m write": ("claude-sonnet-4-5", TokenCounts(input=12_000, cache_write=10_000, output=500), False, 0.051),
    "anthropic 1h write": ("claude-sonnet-4-5", TokenCounts(input=12_000, cache_write=10_000, output=500,
                                                            cache_write_1h=10_000), False, 0.0735),
    "anthropic read": ("claude-sonnet-4-5", TokenCounts(input=12_000, cache_read=10_000, output=500), False, 0.0165),
    "anthropic batch 5m write": ("claude-sonnet-4-5", TokenCounts(input=12_000, cache_write=10_000, output=500),
                                 True, 0.0255),
}


@pytest.mark.parametrize("example", sorted(DOC_EXAMPLES))
def test_docs_worked_examples(catalog: PriceCatalog, example: str):
    """Reproduce every worked example of docs/pricing.md to the cent fraction."""
    model, tokens, batch, usd = DOC_EXAMPLES[example]
    assert catalog.cost(model, tokens, batch) == pytest.approx(usd, rel=1e-12)


def test_docs_quote_the_worked_examples():
    """Keep docs/pricing.md in step with the asserted totals."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "pricing.md").read_text()
    assert all(f"${usd:.4f}".rstrip("0") in text for _, _, _, usd in DOC_EXAMPLES.values())


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
                       "cache_creation_input_token_cost_above_1hr": 2e-6,
                       "output_cost_per_token_batches": 1e-6, "max_input_tokens": 1000,
                       "max_output_tokens": 100, "supports_prompt_caching": True,
                       "deprecation_date": "2099-01-01", "supports_vision": True},
    "acme/free-writes": {"mode": "chat", "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
                         "cache_creation_input_token_cost": 0.0, "input_cost_per_token_cache_hit": 1e-7},
    "free-chat": {"mode": "chat", "input_cost_per_token": 0, "output_cost_per_token": 0,
                  "max_output_tokens": None},
    "chat-no-output": {"mode": "chat", "input_cost_per_token": 1e-6},
    "chat-text-price": {"mode": "chat", "input_cost_per_token": "1e-6", "output_cost_per_token": 2e-6},
    "embedder": {"mode": "embedding", "input_cost_per_token": 1e-7, "output_cost_per_token": 0.0},
    "no-mode": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6},
    "not-a-dict": ["chat"],
}

DERIVED_FULL = {"provider": "acme", "input": 1e-6, "output": 2e-6, "cache_read": 1e-7,
                "cache_write": 1.25e-6, "cache_write_1h": 2e-6, "input_batch": 5e-7, "output_batch": 1e-6,
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
    assert sorted(doc["models"]) == ["acme/chat-full", "acme/free-writes", "free-chat"]
    assert doc["models"]["acme/chat-full"] == DERIVED_FULL
    # a 0.0 write price with a paid input means "no premium": dropped, so writes cost input
    assert doc["models"]["acme/free-writes"] == {"input": 1e-6, "output": 2e-6, "cache_read": 1e-7,
                                                 "supports_prompt_caching": False}
    assert doc["models"]["free-chat"] == {"input": 0.0, "output": 0.0, "supports_prompt_caching": False}
    assert stdout.startswith("3 chat models -> ")


@pytest.mark.slow
def test_derived_document_loads_as_a_catalog(derived: tuple[dict, str]):
    """Carry provenance, and price the derived models through the catalog."""
    doc, _ = derived
    assert {"source", "version", "licence", "unit"} <= set(doc)
    catalog = catalog_from_doc(doc)
    assert catalog.cost("acme/chat-full", TokenCounts(input=1_000, output=100), batch=True) == pytest.approx(6e-4)
    assert catalog.unit_prices("acme/chat-full")["cache_write_1h"] == 2e-6
    assert catalog.licence == "MIT (litellm)" and "litellm.json" in catalog.source
