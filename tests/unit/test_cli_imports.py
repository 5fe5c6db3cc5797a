"""The `netra` command imports only what the command needs (no timing is asserted).

Each case runs a fresh interpreter that imports some modules and/or runs the real entry point
(`netra.cli.app:main`) with some arguments, then lists `sys.modules`. Help, usage mistakes and
input mistakes refused before any work (a missing file or dataset, a malformed `--map` or
`--args`) must load no heavy module; a command's implementation module must not drag
in the server, the graph or the LLM stack unless the command is about them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import cli

pytestmark = pytest.mark.slow  # every case starts an interpreter

PROBE = """
import json, sys
from importlib import import_module
out, modules, argv = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
for name in modules:
    import_module(name)
code = None
if argv is not None:
    from netra.cli.app import main
    sys.argv = ["netra", *argv]
    try:
        main()
    except SystemExit as exc:
        code = exc.code
with open(out, "w") as fh:
    json.dump({"exit": code, "modules": sorted(sys.modules)}, fh)
"""
# what no light command loads: the server, the graph, the tools, the LLM, web and storage stacks
HEAVY = ("netra.server", "netra.graph", "netra.tools", "netra.evals.runner", "netra.persistence.models",
         "netra.persistence.analytics", "langgraph", "langchain_core", "langchain_openai", "fastapi",
         "sqlalchemy", "chdb", "pandas", "pyarrow")
SERVER_AND_GRAPH = ("netra.server", "netra.graph", "netra.evals.runner", "netra.mcp_server", "langgraph",
                    "langchain_openai", "fastapi", "uvicorn")


@dataclass(frozen=True)
class Loaded:
    """What a probe left behind: the entry point's exit code (None when not run) and every module loaded."""

    exit_code: int | str | None
    modules: frozenset[str]

    def present(self, packages: tuple[str, ...]) -> list[str]:
        """Return the loaded modules that are, or are inside, one of `packages`."""
        return sorted(m for m in self.modules if any(m == p or m.startswith(p + ".") for p in packages))


def probe(tmp_path: Path, modules: list[str], argv: list[str] | None = None) -> Loaded:
    """Import `modules` and run `netra ARGV` (when given) in a fresh interpreter; return what it loaded."""
    out = tmp_path / "loaded.json"
    env = cli.base_environment()
    env.update(NETRA_HOME=str(tmp_path / "home"), COLUMNS="100")
    command = [sys.executable, "-c", PROBE, str(out), json.dumps(modules), json.dumps(argv)]
    subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=True)
    found = json.loads(out.read_text())
    return Loaded(found["exit"], frozenset(found["modules"]))


def test_importing_the_cli_app_loads_no_heavy_module(tmp_path):
    loaded = probe(tmp_path, ["netra.cli.app"])
    assert loaded.present(HEAVY) == []
    assert "typer" in loaded.modules


@pytest.mark.parametrize("argv, code", [
    (["--help"], 0), ([], 2), (["nope"], 2), (["--bogus"], 2), (["ingest", "--help"], 0),
    (["ingest", "--bogus"], 2), (["tools", "--help"], 0), (["keys", "--help"], 0), (["keys", "create"], 2),
    (["users", "role", "a@example.com", "wizard"], 2), (["eval", "compare", "--help"], 0), (["serve", "--help"], 0),
    (["eval", "--dataset", "nowhere"], 2), (["ingest", "missing.csv"], 2), (["ingest", "x.csv", "--map", "oops"], 2),
    (["tools", "run", "cost_analyzer", "--args", "{bad"], 2),
], ids=lambda value: " ".join(value) if isinstance(value, list) else None)
def test_help_and_usage_mistakes_load_no_heavy_module(tmp_path, argv, code):
    loaded = probe(tmp_path, [], argv)
    assert loaded.exit_code == code
    assert loaded.present(HEAVY) == []


@pytest.mark.parametrize("module", ["netra.cli.ingest", "netra.cli.generate", "netra.cli.tools",
                                    "netra.cli.catalog", "netra.cli.db"])
def test_light_commands_do_not_load_the_server_or_the_graph(tmp_path, module):
    assert probe(tmp_path, [module]).present(SERVER_AND_GRAPH) == []


def test_eval_compare_does_not_load_the_runner_or_the_server(tmp_path):
    loaded = probe(tmp_path, ["netra.cli.evals"])
    assert loaded.present(("netra.server", "netra.evals.runner", "netra.graph.runner", "langchain_openai")) == []
    assert loaded.present(("netra.graph", "langgraph", "netra.evals.dataset", "netra.workloads")) == []


def test_key_commands_do_not_load_the_app_or_the_graph(tmp_path):
    loaded = probe(tmp_path, ["netra.cli.keys", "netra.cli.users"])
    assert loaded.present(("netra.server.app", "netra.graph", "langgraph", "langchain_openai")) == []


def test_the_server_package_builds_the_app_on_first_use(tmp_path):
    loaded = probe(tmp_path, ["netra.server"])
    assert loaded.present(("netra.server.app", "fastapi")) == []
    same = "from netra.server import create_app; from netra.server.app import create_app as c; print(create_app is c)"
    done = subprocess.run([sys.executable, "-c", same], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "True"


def test_the_tools_load_langchain_only_when_a_model_binds_them(tmp_path):
    assert probe(tmp_path, ["netra.cli.tools", "netra.tools"]).present(("langchain_core", "langsmith")) == []
