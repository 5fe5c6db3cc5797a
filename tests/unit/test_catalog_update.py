"""NETRA_HOME's catalog files: `netra catalog update`, price overrides, `netra catalog show`.

Every test runs on its own NETRA_HOME (the `home` fixture), never the developer's.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from netra.cli.app import main
from netra.cli.catalog import show_model, update_catalog
from netra.config import get_settings
from netra.errors import ConfigError, UserInputError
from netra.workloads.catalog import OVERRIDES_TAG, TokenCounts, catalog_files, load_catalog
from netra.workloads.catalog_derive import FIELDS
from netra.workloads.overrides import KEYS

# the standard and batch keys of every class (the others are priority, flex and long-context keys)
CLASS_KEYS = {k for k, p in KEYS.items() if p.slot[0] != "extra"}

PACKAGED_VERSION = "1.110.2"
LITELLM = {
    "sample_spec": {"mode": "one of: chat, embedding", "input_cost_per_token": 0.0, "output_cost_per_token": 0.0},
    "gpt-4o": {"mode": "chat", "litellm_provider": "openai", "input_cost_per_token": 2e-6,
               "output_cost_per_token": 8e-6, "cache_read_input_token_cost": 5e-7,
               "input_cost_per_token_batches": 1e-6, "output_cost_per_token_batches": 4e-6},
    "claude-sonnet-4-5": {"mode": "chat", "litellm_provider": "anthropic", "input_cost_per_token": 3e-6,
                          "output_cost_per_token": 1.5e-5, "cache_read_input_token_cost": 3e-7,
                          "cache_creation_input_token_cost": 3.75e-6,
                          "cache_creation_input_token_cost_above_1hr": 6e-6},
    "newco/chat-1": {"mode": "chat", "input_cost_per_token": 1e-7, "output_cost_per_token": 2e-7},
    "newco/embed-1": {"mode": "embedding", "input_cost_per_token": 1e-8, "output_cost_per_token": 0.0},
}
MTIME = datetime(2026, 3, 2, 12, tzinfo=timezone.utc).timestamp()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh NETRA_HOME for one test; the settings cache is cleared before and after."""
    monkeypatch.setenv("NETRA_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()


def console() -> Console:
    """A console that records what it prints."""
    return Console(file=io.StringIO(), width=200, highlight=False)


def price_file(folder: Path, name: str = "prices.json", doc: dict | None = None) -> Path:
    """Write a litellm-style price file with a fixed modification time; return its path."""
    path = folder / name
    path.write_text(json.dumps(LITELLM if doc is None else doc))
    os.utime(path, (MTIME, MTIME))
    return path


def overrides(home: Path, doc: object, mtime: float = MTIME) -> None:
    """Write NETRA_HOME/price_overrides.json (`doc` as JSON, or as text when a string)."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "price_overrides.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    os.utime(path, (mtime, mtime))


def test_without_home_files_the_packaged_catalog_is_used_and_cached(home: Path):
    """Use the packaged catalog; return the same object until a file changes."""
    catalog = load_catalog()
    assert (catalog.version, catalog_files().updated) == (PACKAGED_VERSION, False)
    assert load_catalog() is catalog


def test_update_then_load_catalog_reflects_it(home: Path, tmp_path: Path):
    """Derive the file into NETRA_HOME; load_catalog then prices with it alone."""
    update_catalog(out := console(), price_file(tmp_path, doc={**LITELLM, "version": "2099.1"}))
    catalog = load_catalog()
    models = ["claude-sonnet-4-5", "gpt-4o", "newco/chat-1"]
    assert (catalog_files().updated, catalog.version, sorted(catalog.models)) == (True, "2099.1", models)
    assert catalog.cost("gpt-4o", TokenCounts(input=10_000, cache_read=8_000, output=1_000)) == pytest.approx(0.016)
    assert catalog.unit_prices("claude-sonnet-4-5")["cache_write_1h"] == 6e-6 and catalog.resolve("gpt-4.1") is None
    assert f"{PACKAGED_VERSION} -> 2099.1: 3 chat models" in out.file.getvalue()


@pytest.mark.parametrize(("name", "fields", "version"), [
    ("prices.json", {"version": "2099.1"}, "2099.1"),
    ("prices.json", {"_version": " 7.0 "}, "7.0"),
    ("prices.json", {"litellm_version": "1.200.0"}, "1.200.0"),
    ("litellm_model_prices_v1.120.3.json", {}, "1.120.3"),
    ("litellm_model_prices_v1.120.3.json", {"version": "9"}, "9"),  # the field wins over the name
    ("prices.json", {"version": 3}, None),  # not a string: date-sha
    ("prices.json", {}, None),
])
def test_update_version_rules(home: Path, tmp_path: Path, name: str, fields: dict, version: str | None):
    """Take the version field, else vX.Y.Z in the name, else the mtime date and sha256."""
    path = price_file(tmp_path, name, {**LITELLM, **fields})
    update_catalog(console(), path)
    expected = version or f"2026-03-02-{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"
    assert load_catalog().version == expected


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read price file"),
    ("{not json", "cannot read price file"),
    ("[1, 2]", "must hold a JSON object"),
    (json.dumps({"only": {"mode": "embedding", "input_cost_per_token": 1e-8, "output_cost_per_token": 0}}),
     "no chat model"),
])
def test_update_refuses_a_bad_price_file(home: Path, tmp_path: Path, content: str | None, message: str):
    """Raise UserInputError and leave NETRA_HOME without a catalog."""
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UserInputError, match=message):
        update_catalog(console(), path)
    assert not (home / "price_catalog.json").exists()


def test_unusable_updated_catalog_is_a_config_error(home: Path):
    """Name the file when NETRA_HOME's catalog does not parse."""
    home.mkdir(parents=True)
    (home / "price_catalog.json").write_text('{"models": ')
    with pytest.raises(ConfigError, match="price_catalog.json is unusable"):
        load_catalog()


# overrides -> model -> (input price, overridden standard and batch keys, version suffix)
APPLIED = [
    ({"gpt-4o": {"input": 2e-6, "output": 8e-6}},
     {"gpt-4o": (2e-6, {"input", "output", "cache_write", "cache_write_1h", "reasoning"}, OVERRIDES_TAG),
      "gpt-4o-mini": (1.5e-7, set(), "")}),
    ({"openai/GPT-4o": {"input_batch": 1e-6}}, {"gpt-4o": (2.5e-6, {"input_batch", "cache_write_batch",
                                                                    "cache_write_1h_batch"}, OVERRIDES_TAG)}),
    ({"gpt-4o": {"input": 2.5e-6}, "_note": "list price"}, {"gpt-4o": (2.5e-6, set(), "")}),  # unchanged
    ({"my-finetune": {"input": 1e-6, "output": 3e-6}}, {"my-finetune": (1e-6, set(KEYS), OVERRIDES_TAG)}),
]


@pytest.mark.parametrize(("doc", "expected"), APPLIED)
def test_overrides_set_prices_and_mark_the_version(home: Path, doc: dict, expected: dict):
    """Apply overrides on top of the catalog; mark the keys and the version they changed."""
    overrides(home, doc)
    catalog = load_catalog()
    for model, (price, keys, suffix) in expected.items():
        overridden = catalog.lookup(model).overridden & (keys if keys == set(KEYS) else CLASS_KEYS)
        assert (catalog.unit_prices(model)["input"], overridden, catalog.version_of(model)) == (
            price, keys, PACKAGED_VERSION + suffix)
    assert catalog.version == PACKAGED_VERSION


# priority, flex and long-context keys: overrides -> (model, class, mode, tier, USD per token, every key it changed)
MODE_TIER_OVERRIDES = [
    # gemini-2.5-pro prices prompts above 200k; 272k falls back to them; its flex, priority and
    # batch tiers have their own prices, so they do not change
    ({"gemini-2.5-pro": {"input_above_200k": 3e-6}},
     ("gemini-2.5-pro", "input", "standard", 200_000, 3e-6, {"input_above_200k", "input_above_272k"})),
    ({"gpt-4o": {"output_priority": 1.6e-5}},
     ("gpt-4o", "output", "priority", 0, 1.6e-5, {f"{c}_priority{t}" for c in ("output", "reasoning")
                                                   for t in ("", "_above_128k", "_above_200k", "_above_272k")})),
    # gpt-4o has no flex price: the override adds one
    ({"gpt-4o": {"output_flex": 5e-6}},
     ("gpt-4o", "output", "flex", 0, 5e-6, {f"{c}_flex{t}" for c in ("output", "reasoning")
                                            for t in ("", "_above_128k", "_above_200k", "_above_272k")})),
]


@pytest.mark.parametrize(("doc", "expected"), MODE_TIER_OVERRIDES)
def test_overrides_set_mode_and_tier_prices(home: Path, doc: dict, expected: tuple):
    """Accept every key the catalog derivation produces; mark the keys whose price changed."""
    overrides(home, doc)
    model, token_class, mode, tier, usd, changed = expected
    price = load_catalog().lookup(model)
    assert (price.rate(token_class, mode, tier), set(price.overridden)) == (usd, changed)


def test_override_keys_are_the_keys_the_catalog_derives():
    assert set(KEYS) == set(FIELDS)


def test_overrides_reload_when_the_file_changes(home: Path):
    """Key the cache on the files' mtimes: a rewritten or removed file is read again."""
    overrides(home, {"gpt-4o": {"input": 2e-6}})
    assert load_catalog().unit_prices("gpt-4o")["input"] == 2e-6
    overrides(home, {"gpt-4o": {"input": 1e-6}}, MTIME + 1)
    assert load_catalog().unit_prices("gpt-4o")["input"] == 1e-6
    (home / "price_overrides.json").unlink()
    assert load_catalog().unit_prices("gpt-4o")["input"] == 2.5e-6


@pytest.mark.parametrize(("doc", "message"), [
    ("{not json", "price_overrides.json at .* is not valid JSON"),
    ("[1, 2]", "must hold a JSON object"),
    ({"gpt-4o": {"inptu": 1e-6}}, "'gpt-4o' 'inptu' = 1e-06 unknown price key"),
    ({"gpt-4o": {"input_above_100k": 1e-6}}, "'input_above_100k' = 1e-06 unknown price key"),
    ({"gpt-4o": {"input_above_200k_batch": 1e-6}}, "unknown price key .*<class>\\[_batch"),
    ({"gpt-4o": {"input": -1e-6}}, "'gpt-4o' 'input' = -1e-06 is negative"),
    ({"gpt-4o": {"cache_read_batch": "2e-6"}}, "'cache_read_batch' = '2e-6' is not a number"),
    ({"gpt-4o": {"output": True}}, "'output' = True is not a number"),
    ({"gpt-4o": {"output": float("nan")}}, "'output' = nan is not a finite number"),
    ({"gpt-4o": {"input": 2.5}}, "'input' = 2.5 is over .* per 1M tokens"),
    ({"gpt-4o": 2e-6}, "'gpt-4o' must map token classes"),
    ({"gpt-4o": {}}, "'gpt-4o' must map token classes"),
    ({"_note": 3}, "'_note' must be a string"),
    ({"my-finetune": {"input": 1e-6}}, "'my-finetune' is not in the price catalog, so it needs output"),
])
def test_bad_overrides_file_is_a_config_error(home: Path, doc: object, message: str):
    """Refuse the whole file with one line naming the key."""
    overrides(home, doc)
    with pytest.raises(ConfigError, match=message) as raised:
        load_catalog()
    assert "\n" not in str(raised.value)


# model -> what `catalog show` prints, table cells joined by one space (per 1M tokens; * marks an override)
SHOWN = {
    "anthropic/claude-sonnet-4-5-20991231": [
        "-> catalog key claude-sonnet-4-5 (provider anthropic)",
        "cache_read 0.3 0.15 own price; own batch price",
        "cache_write 3.75 1.875 own price; own batch price",
        "cache_write_1h 5* 5* own price; batch: its standard price",
        "reasoning 15 7.5 falls back to output; batch: output's batch price",
        "no priority, flex or long-context prices",
        "packaged catalog: version 1.110.2+overrides, source litellm price file", "licence MIT (litellm)",
        "from overrides (*): cache_write_1h, cache_write_1h_batch (negotiated)"],
    "gpt-4o": ["input 2.5 1.25 own price; own batch price",
               "cache_read 1.25 1.25 own price; batch: its standard price",
               "cache_write 2.5 1.25 falls back to input; batch: input's batch price",
               "cache_write_1h 2.5 1.25 falls back to cache_write; batch: cache_write's batch price",
               "packaged catalog: version 1.110.2,", "from overrides (*): none (negotiated)",
               "input_priority 4.25 input in priority mode", "output_priority 17 output in priority mode"],
    "gemini-2.5-pro": ["input 1.25 0.625 own price; own batch price",
                       "input_above_200k 2.5 input in standard mode, prompts above 200,000 tokens",
                       "output_batch_above_200k 7.5 output in batch mode, prompts above 200,000 tokens",
                       "output_flex 5 output in flex mode", "output_priority_above_200k 27 output in priority mode, "
                       "prompts above 200,000 tokens"],
}


@pytest.mark.parametrize("model", sorted(SHOWN))
def test_show_prints_prices_provenance_and_overrides(home: Path, model: str):
    """Print the resolved key, every class per 1M tokens, batch prices, source and overrides."""
    overrides(home, {"claude-sonnet-4-5": {"cache_write_1h": 5e-6}, "_note": "negotiated"})
    out = console()
    show_model(out, model)
    text = re.sub(r"[\s│]+", " ", out.file.getvalue())
    assert all(line in text for line in SHOWN[model]), text


def run_netra(monkeypatch: pytest.MonkeyPatch, capsys, argv: list[str]) -> tuple[int, Any]:
    """Run `netra ARGV` in this process; return its exit code and what it printed."""
    monkeypatch.setattr(sys, "argv", ["netra", *argv])
    monkeypatch.setenv("COLUMNS", "400")  # Rich wraps at the terminal width
    with pytest.raises(SystemExit) as exited:
        main()
    return exited.value.code, capsys.readouterr()


@pytest.mark.parametrize(("argv", "code", "stream", "text"), [
    (["catalog", "show", "no-such-model"], 2, "err", "'no-such-model' is not in the price catalog 1.110.2"),
    (["catalog", "update", "/no/such/prices.json"], 2, "err", "cannot read price file"),
    (["catalog", "show", "gpt-4o"], 2, "err", "'gpt-4o' 'inptu'"),  # the overrides file is bad
    (["catalog", "show", "claude-haiku-4-5"], 0, "out", "cache_write_1h"),
])
def test_cli_errors_print_one_line_and_exit_2(home: Path, monkeypatch: pytest.MonkeyPatch, capsys,
                                              argv: list[str], code: int, stream: str, text: str):
    """Run `netra catalog ...`: one `error:` line and exit 2 on user errors."""
    if "gpt-4o" in argv:
        overrides(home, {"gpt-4o": {"inptu": 1e-6}})
    exit_code, captured = run_netra(monkeypatch, capsys, argv)
    output = getattr(captured, stream)
    assert (exit_code, text in output) == (code, True)
    assert code == 0 or output.count("\n") == 1
