"""Live progress of a run on the terminal: one line per agent step and tool call."""

from __future__ import annotations

from typing import Any, Callable

from rich.console import Console


def _args(payload: dict[str, Any]) -> str:
    args = payload.get("args", {})
    shown = {k: v for k, v in args.items() if not isinstance(v, (list, dict))}
    return ", ".join(f"{k}={v}" for k, v in shown.items())


# custom event -> line template (payload fields by name)
LINES: dict[str, Callable[[dict[str, Any]], str]] = {
    "agent_started": lambda p: f"[bold cyan]▶ {p['agent']}[/]",
    "agent_completed": lambda p: f"[green]✓ {p['agent']}[/] {p.get('status', '')}",
    "agent_retry": lambda p: f"[yellow]↻ {p['agent']} attempt {p['attempt']} failed: {p['error']}[/]",
    "agent_error": lambda p: f"[red]✗ {p['agent']}: {p['message']}[/]",
    "tool_call": lambda p: f"    [magenta]⚙ {p['tool']}[/]({_args(p)})",
    "tool_result": lambda p: f"    [dim]↳ {p['call_id']}: {len(p.get('figures', {}))} figures[/]",
    "supervisor_decision": lambda p: f"[dim]  supervisor → {p['next']}[/]",
}


class Progress:
    """Print each progress event of a run as it arrives."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False)

    def __call__(self, mode: str, chunk: Any) -> None:
        """Handle one `(mode, chunk)` from the graph stream."""
        if mode == "custom" and isinstance(chunk, dict) and self._shown(chunk):
            self.console.print(LINES[chunk["event"]](chunk))

    @staticmethod
    def _shown(chunk: dict[str, Any]) -> bool:
        # the supervisor's own start/finish lines are noise next to its decision line
        quiet = chunk.get("agent") == "supervisor" and chunk.get("event") != "supervisor_decision"
        return chunk.get("event") in LINES and not quiet
