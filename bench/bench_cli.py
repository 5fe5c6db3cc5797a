"""Benchmark the `netra` command's start-up: how long a light command takes, wall clock.

Runs each command as a fresh process (the venv's `netra` script next to this Python),
`--repeat` times, and prints the fastest wall time in seconds and its ratio to the
baseline `python -c pass` (the interpreter's own start-up). Commands:

    python -c pass            the baseline
    netra --help              the top-level help
    netra nope                a usage mistake (unknown command, exit 2)
    netra ingest --help       a command's help
    netra tools list          a light command that runs (the tool registry, no store)

Never asserts timings. Compare runs on the same, idle machine.

    python bench/bench_cli.py [--repeat N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

NETRA = str(Path(sys.executable).with_name("netra"))
BASELINE = ("python -c pass", [sys.executable, "-c", "pass"])
COMMANDS = (
    ("netra --help", [NETRA, "--help"]),
    ("netra nope", [NETRA, "nope"]),
    ("netra ingest --help", [NETRA, "ingest", "--help"]),
    ("netra tools list", [NETRA, "tools", "list"]),
)


@dataclass(frozen=True)
class Timing:
    """One command's fastest wall time (s) over its runs, and the exit code of the last run."""

    label: str
    seconds: float
    exit_code: int


def timed(label: str, argv: list[str], repeat: int) -> Timing:
    """Run `argv` `repeat` times (output discarded); return the fastest wall time."""
    walls, code = [], 0
    for _ in range(max(repeat, 1)):
        start = time.perf_counter()
        code = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        walls.append(time.perf_counter() - start)
    return Timing(label, min(walls), code)


def line(timing: Timing, baseline: Timing) -> str:
    """Format one row: label, seconds, ratio to the baseline, exit code."""
    ratio = timing.seconds / baseline.seconds if baseline.seconds else float("nan")
    return f"{timing.label:<22} {timing.seconds:8.3f} s  {ratio:6.1f}x  (exit {timing.exit_code})"


def _parser() -> argparse.ArgumentParser:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per command (best is kept)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Time the baseline and every command; print one row each."""
    repeat = _parser().parse_args(argv).repeat
    baseline = timed(*BASELINE, repeat)
    print(f"best of {repeat}, wall seconds; ratio to `python -c pass`")
    for timing in [baseline] + [timed(label, cmd, repeat) for label, cmd in COMMANDS]:
        print(line(timing, baseline))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
