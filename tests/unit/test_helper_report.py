"""The single-use helper report, run over small planted source trees."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "helper_report.py"
_SPEC = importlib.util.spec_from_file_location("helper_report", SCRIPT)
helper_report = sys.modules.setdefault("helper_report", importlib.util.module_from_spec(_SPEC))
_SPEC.loader.exec_module(helper_report)  # registered first: dataclasses look their module up

# public `run` calls `_once` (single-use) and `_twice` twice; `_chain` is handed three parameters
MODULE = '''\
def run(a, b, c):
    _once()
    _twice()
    _twice()
    return _chain(a, b, c)


def _once():
    return __name__


def _twice():
    return 2


def _chain(a, b, c):
    return _end(a, b, c)


def _end(a, b, c):
    return a + b + c


class Thing:
    def __init__(self):
        self.x = self._made()

    def _made(self):
        return 1

    def _unused(self):
        return 0
'''


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Plant `root/pkg/mod.py` (MODULE) and `root/top.py` (one private helper used twice)."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(MODULE)
    (tmp_path / "top.py").write_text("from pkg.mod import _twice\n\ndef _own():\n    return _own, _own\n")
    return tmp_path


def test_rows_count_single_use_private_helpers_per_package(tree: Path):
    rows = {r.package: r for r in helper_report.Census.of(tree).rows()}
    pkg, top = rows[f"{tree.name}/pkg"], rows[tree.name]
    # functions: run _once _twice _chain _end __init__ _made _unused; private: all but run and __init__
    assert (pkg.functions, pkg.private, pkg.single_use) == (8, 6, 4)
    assert (top.functions, top.private, top.single_use) == (1, 1, 0)
    assert rows[f"{tree.name} (all)"].share == pytest.approx(4 / 9)


@pytest.mark.parametrize(("name", "private"), [("_x", True), ("__init__", False), ("__x", False), ("x", False)])
def test_private_means_one_leading_underscore(name: str, private: bool):
    assert helper_report.is_private(name) is private


def test_chains_follow_helpers_handed_three_parameters(tree: Path):
    chains = helper_report.Chains(helper_report.Census.of(tree)).ranked()
    assert [[d.name for d in chain] for chain in chains] == [["run", "_chain", "_end"]]


def test_chains_count_self_attributes_as_the_callers_state(tmp_path: Path):
    source = ("class A:\n    def go(self):\n        return _h(self.a, self.b, self.c)\n\n\n"
              "def _h(a, b, c):\n    return a\n")
    (tmp_path / "m.py").write_text(source)
    chains = helper_report.Chains(helper_report.Census.of(tmp_path)).ranked()
    assert [[d.name for d in chain] for chain in chains] == [["go", "_h"]]


def test_report_prints_the_table_and_the_chains(tree: Path):
    lines = helper_report.report(tree, shared=3)
    assert lines[0].split() == ["package", "functions", "private", "single-use", "share", "of", "private"]
    assert any(line.startswith(f"{tree.name} (all)") and "44.4%" in line for line in lines)
    assert lines[-1].endswith("run -> _chain -> _end")
