"""Run `netra ARGS` (or `python -c CODE`) as the CLI tests do, mostly in a fork of a pre-warmed interpreter.

    done = netra(home, "tools", "list", columns=120, timeout=500)    # a CompletedProcess (text)
    done = run([sys.executable, "-c", CODE], environment(home, 200), timeout=300)

A short `netra` command spends more CPU importing pandas, pyarrow, numpy, pydantic, typer, rich,
langgraph, ... than doing its work. So each command runs in a fresh child forked from a zygote
(tests/support/zygote.py): one interpreter per pytest process, started on first use, that has
imported those third-party modules (never a `netra` module, nor `chdb`) and forks one child per
request. The child replaces its whole environment, working directory, stdin (/dev/null), stdout
and stderr (files), argv and sys.path[0] with the request's, then runs the console script
`.venv/bin/netra` (or the `-c` code) as `__main__` and exits the way the interpreter does: exit
code, atexit handlers, traceback and exit 1 on an uncaught exception. Stdout and stderr are
decoded as `subprocess.run(..., text=True)` decodes them. A timeout kills the child and raises
subprocess.TimeoutExpired. Modules imported by the zygote read the environment it started with
(this process's, without NETRA_* and OPENAI_*, the base of every request) at their import.
`forked=False` runs the real console script instead: the main `netra demo` run of
tests/e2e/test_cli.py stays one, and tests/unit/test_forked_cli.py compares the two.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import locale
import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Mapping

NETRA = str(Path(sys.executable).with_name("netra"))
ROOT = Path(__file__).resolve().parents[2]
ZYGOTE_COMMAND = [sys.executable, "-m", "tests.support.zygote"]  # run from ROOT
ENCODING = "utf-8" if sys.flags.utf8_mode else locale.getencoding()  # what subprocess's text mode decodes with


def base_environment() -> dict[str, str]:
    """This process's environment without NETRA_* and OPENAI_* (settings and model keys)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("NETRA_", "OPENAI_"))}


def environment(home: Path, columns: int, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a CLI test's command: the base, NETRA_HOME=home, COLUMNS, then `extra`."""
    return base_environment() | {"NETRA_HOME": str(home), "COLUMNS": str(columns)} | dict(extra or {})


def netra(home: Path, *args: str, columns: int, timeout: float, env: Mapping[str, str] | None = None,
          forked: bool = True) -> subprocess.CompletedProcess:
    """Run `netra ARGS` in `environment(home, columns, env)`; forked unless `forked` is False."""
    command, full = [NETRA, *args], environment(home, columns, env)
    if not forked:
        return subprocess.run(command, env=full, capture_output=True, text=True, timeout=timeout)
    return run(command, full, timeout)


def run(command: list[str], env: Mapping[str, str], timeout: float | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)`, forked.

    `command` is `[NETRA, ARGS...]` (any script run by this interpreter) or `[sys.executable, "-c", CODE, ARGS...]`.
    """
    argv = command[1:] if command[0] == sys.executable else command
    with tempfile.TemporaryDirectory(prefix="netra-cli-") as folder:
        captured = Captured(Path(folder))
        answer = ZYGOTE.request({"argv": argv, "env": dict(env), "cwd": str(cwd or Path.cwd()),
                                 "timeout": timeout, **captured.paths()})
        return captured.result(command, answer, timeout)


@dataclass(frozen=True)
class Captured:
    """The stdout and stderr files of one forked command, in `folder`."""

    folder: Path

    def paths(self) -> dict[str, str]:
        """The two files, as the zygote's request names them."""
        return {name: str(self.folder / name) for name in ("stdout", "stderr")}

    def text(self, name: str) -> str:
        """The text of one file as subprocess's text mode gives it (newlines translated)."""
        path = self.folder / name
        text = path.read_bytes().decode(ENCODING) if path.exists() else ""
        return text.replace("\r\n", "\n").replace("\r", "\n")

    def result(self, command: list[str], answer: dict[str, Any], timeout: float | None) -> subprocess.CompletedProcess:
        """The finished process, or subprocess.TimeoutExpired (with the output so far) if the zygote killed it."""
        stdout, stderr = self.text("stdout"), self.text("stderr")
        if answer["timed_out"]:
            raise subprocess.TimeoutExpired(command, timeout or 0, output=stdout, stderr=stderr)
        return subprocess.CompletedProcess(command, answer["returncode"], stdout, stderr)


class Zygote:
    """The zygote process of this pytest process: started on first use (again if it died), one request at a time."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.process: subprocess.Popen | None = None
        self.log: IO[bytes] | None = None

    def request(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one request; return the zygote's reply once the child has exited."""
        with self.lock:
            try:
                return self.exchanged(self.started(), request)
            except BaseException:  # e.g. pytest-timeout: the late reply must not be read as the next request's
                self.kill()
                raise

    def exchanged(self, process: subprocess.Popen, request: dict[str, Any]) -> dict[str, Any]:
        """Write the request, read the reply."""
        process.stdin.write(json.dumps(request).encode() + b"\n")
        process.stdin.flush()
        line = process.stdout.readline()
        return json.loads(line) if line else self.died()

    def started(self) -> subprocess.Popen:
        """The running zygote, started now if there is none (or it died)."""
        if self.process is None or self.process.poll() is not None:
            self.closed()
            self.log = tempfile.TemporaryFile()
            self.process = subprocess.Popen(ZYGOTE_COMMAND, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=self.log, env=base_environment(), process_group=0)
        return self.process

    def died(self) -> dict[str, Any]:
        """Raise the zygote's death, with the end of its stderr."""
        self.process.wait()
        self.log.seek(0)
        raise RuntimeError(f"the CLI zygote exited ({self.process.returncode}): {self.log.read()[-3000:]!r}")

    def kill(self) -> None:
        """Kill the zygote and its child, if they still run (the zygote leads their process group)."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def closed(self) -> None:
        """Close the pipes and the stderr file of the zygote, if there was one."""
        if self.process is not None:
            with contextlib.suppress(BrokenPipeError):  # a request it could not read is still in the buffer
                self.process.stdin.close()
            self.process.stdout.close()
            self.log.close()

    def stop(self) -> None:
        """Close the zygote's stdin (it exits when it reads the end) and wait for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)
        self.closed()


ZYGOTE = Zygote()
atexit.register(ZYGOTE.stop)
