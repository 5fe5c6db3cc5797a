"""The `netra` command: demo, ask, generate, tools.

Only typer, rich and the option types are imported here, so that `--help` and a usage mistake
answer at once: each command imports its implementation module inside its function
(`netra.cli.ingest`, `netra.cli.runs`, ...), and loads only what that command needs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from netra.errors import NetraError, UserInputError
from netra.persistence.apikeys import KeyScope
from netra.persistence.roles import Role
from netra.tenancy import LOCAL_WORKSPACE

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Netra: where your LLM money and latency go.")
tools_app = typer.Typer(no_args_is_help=True, help="List and run Apex tools.")
catalog_app = typer.Typer(no_args_is_help=True, help="Inspect and update the price catalog.")
app.add_typer(tools_app, name="tools")
app.add_typer(catalog_app, name="catalog")
console = Console(highlight=False)
DEFAULT_QUESTION = "How can we cut our LLM spend by 30% without hurting quality?"


@app.command()
def demo(events: int = typer.Option(None, help="events to generate when the store is empty"),
         question: str = typer.Option(DEFAULT_QUESTION, help="the question to answer"),
         strategy: str = typer.Option(None, help="sequential | parallel | conditional")) -> None:
    """Generate the `mixed` workload if the store is empty, then answer the question."""
    from netra.cli.generate import ensure_demo_data
    from netra.cli.runs import ask_and_report

    ensure_demo_data(console, events)
    ask_and_report(console, question, strategy)


@app.command()
def ask(question: str, strategy: str = typer.Option(None, help="sequential | parallel | conditional"),
        thread: str = typer.Option(None, help="thread id (new thread when omitted)"),
        netra_usage: bool = typer.Option(False, help="analyse Netra's own model calls instead of the team's")) -> None:
    """Answer one question on the current store."""
    from netra.cli.runs import ask_and_report

    ask_and_report(console, question, strategy, thread, own_usage=netra_usage)


@app.command()
def generate(scenario: str = typer.Option("mixed", help="scenario name"),
             events: int = typer.Option(200_000, help="how many events"),
             seed: int = typer.Option(7, help="random seed"),
             days: float = typer.Option(14.0, help="days the events span"),
             append: bool = typer.Option(False, help="keep existing events")) -> None:
    """Generate a synthetic workload into the store and write its ground-truth manifest."""
    from netra.cli.generate import generate_into_store

    generate_into_store(console, scenario, events, seed, days, append)


FORMATS_HELP = "auto|csv|jsonl|parquet|otel|litellm|langfuse|azure|burstgpt|mooncake|tracelab"


def _fill(field: str):
    """Return the option that fills `field` in imported rows that have none."""
    return typer.Option(None, help=f"{field} for rows that have none")


@app.command()
def ingest(path: Path = typer.Argument(..., help="file to import"),
           fmt: str = typer.Option("auto", "--format", help=FORMATS_HELP),
           mapping: str = typer.Option("", "--map", help="field=column,... onto the event schema"),
           user: str = _fill("user_id"), feature: str = _fill("feature"), model: str = _fill("model"),
           start: str = typer.Option(None, help="ISO time relative trace timestamps count from")) -> None:
    """Import telemetry into the store: progress, then accepted / rejected by reason / rows per second."""
    from netra.cli.ingest import run_ingest

    run_ingest(console, path, fmt, mapping, user, feature, model, start)


@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="interface to bind"),
          port: int = typer.Option(8000, help="port to listen on"),
          otlp_grpc_port: int | None = typer.Option(None, help="also serve OTLP/gRPC on this port (4317)")) -> None:
    """Run the HTTP API (ingest endpoints, OTLP/HTTP traces) and, with --otlp-grpc-port, OTLP/gRPC."""
    from netra.cli.serve import run_server

    run_server(host, port, otlp_grpc_port)


@catalog_app.command("update")
def catalog_update(path: Path = typer.Argument(..., help="a litellm-style price file")) -> None:
    """Load a newer price catalog of the same shape into NETRA_HOME."""
    from netra.cli.catalog import update_catalog

    update_catalog(console, path)


@catalog_app.command("show")
def catalog_show(model: str = typer.Argument(..., help="model name")) -> None:
    """Show the prices the catalog (with overrides) uses for a model."""
    from netra.cli.catalog import show_model

    show_model(console, model)


@tools_app.command("list")
def tools_list() -> None:
    """List the Apex tools with their descriptions."""
    from netra.cli.tools import list_tools

    list_tools(console)


@tools_app.command("run")
def tools_run(name: str, args: str = typer.Option("{}", "--args", help="arguments as JSON")) -> None:
    """Run one tool and print its result as JSON."""
    from netra.cli.tool_args import json_args

    parsed = json_args(args)
    from netra.cli.tools import run_tool

    print(json.dumps(run_tool(name, parsed), indent=2, default=str))


# error type -> exit code: a user mistake is 2, a failing service 1
EXIT_CODES: dict[type[NetraError], int] = {UserInputError: 2, NetraError: 1}


def main() -> None:
    """Entry point: user mistakes (exit 2) and service failures (exit 1) print one line."""
    try:
        app()
    except NetraError as exc:
        Console(stderr=True).print(f"[red]error:[/] {exc}")
        sys.exit(next(code for kind, code in EXIT_CODES.items() if isinstance(exc, kind)))


@app.command()
def mcp(key: str = typer.Option(None, envvar="NETRA_API_KEY", show_default=False,
                                help="a workspace API key with the read scope (default: the local workspace)")) -> None:
    """Serve the Apex tools to MCP clients over stdin/stdout (see docs/mcp.md)."""
    from pydantic import SecretStr

    from netra.mcp_server import run_stdio

    run_stdio(SecretStr(key) if key else None)


db_app = typer.Typer(no_args_is_help=True, help="Migrate and inspect the records database.")
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations to NETRA_DATABASE_URL (SQLite under NETRA_HOME by default)."""
    from netra.cli.db import upgrade_database

    upgrade_database(console)


@db_app.command("current")
def db_current() -> None:
    """Show the database's migration revision and whether it is at head."""
    from netra.cli.db import show_current

    show_current(console)


users_app = typer.Typer(no_args_is_help=True, help="Manage the users of the records database.")
app.add_typer(users_app, name="users")


@users_app.command("role")
def users_role(email: str = typer.Argument(..., help="the user's email (created when missing)"),
               role: Role = typer.Argument(..., help="user | developer | admin")) -> None:
    """Give a user a stored role (the first admin comes from here); never removes the last admin."""
    from netra.cli.users import grant_role

    grant_role(console, email, role)


keys_app = typer.Typer(no_args_is_help=True, help="Workspace API keys for exporters, scripts and MCP clients.")
app.add_typer(keys_app, name="keys")
WORKSPACE_HELP = "the workspace's id (default: `local`, the embedded CLI's)"


@keys_app.command("create")
def keys_create(name: str = typer.Option(..., help="what the key is for, e.g. otel-collector"),
                scope: list[KeyScope] = typer.Option([KeyScope.INGEST.value], help="ingest | read (repeatable)"),
                workspace: str = typer.Option(LOCAL_WORKSPACE, help=WORKSPACE_HELP)) -> None:
    """Create a key and print it, once (the last line)."""
    from netra.cli.keys import create_key

    create_key(console, workspace, name, scope)


@keys_app.command("list")
def keys_list(workspace: str = typer.Option(LOCAL_WORKSPACE, help=WORKSPACE_HELP)) -> None:
    """List the workspace's keys, newest first (never the keys themselves)."""
    from netra.cli.keys import list_keys

    list_keys(console, workspace)


@keys_app.command("revoke")
def keys_revoke(key_id: str = typer.Argument(..., help="the key's id (from `netra keys list`)"),
                workspace: str = typer.Option(LOCAL_WORKSPACE, help=WORKSPACE_HELP)) -> None:
    """Revoke a key: it is refused from now on (its row stays, marked revoked)."""
    from netra.cli.keys import revoke

    revoke(console, workspace, key_id)


eval_app = typer.Typer(invoke_without_command=True, help="Evaluate the agents on datasets with known answers.")
app.add_typer(eval_app, name="eval")


@eval_app.callback()
def eval_run(ctx: typer.Context,
             dataset: Path = typer.Option(Path("evals/datasets/core"), help="dataset folder holding cases.jsonl"),
             out: Path = typer.Option(None, help="output folder (default NETRA_HOME/evals/<timestamp>)"),
             case: list[str] = typer.Option(None, "--case", help="run only this case id (repeatable)")) -> None:
    """Run a dataset through the graph; write results.json and report.md (exit 1 when a case fails)."""
    if ctx.invoked_subcommand is None:
        from netra.cli.eval_run import run_command

        raise typer.Exit(run_command(console, dataset, out, case or []))


@eval_app.command("compare")
def eval_compare(a: Path = typer.Argument(..., help="run A: results.json or its folder"),
                 b: Path = typer.Argument(..., help="run B: results.json or its folder"),
                 max_recall_drop: float = 0.02, max_precision_drop: float = 0.02,
                 max_savings_error_rise: float = 0.02, max_worst_savings_error_rise: float = 0.02,
                 max_grounding_drop: float = 0.01) -> None:
    """Print per-metric before/after/delta and case changes; exit 1 when B regresses past a threshold."""
    options = dict(locals())
    from netra.cli.evals import compare_command

    raise typer.Exit(compare_command(console, **options))
