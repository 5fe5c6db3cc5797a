"""A pre-warmed interpreter that forks one short command per request (see tests.support.cli).

Run as its own process (`python -m tests.support.zygote` from the repository, as `tests.support.cli` does;
not as a script, whose folder on sys.path would shadow the standard `http` with tests/support/http.py): it
imports the third-party modules of WARM once, then reads requests from stdin, one JSON line
each: {"argv", "env", "cwd", "stdout", "stderr", "timeout"}. `argv` is what follows the
interpreter on a command line: a script and its arguments (the `netra` console script) or
["-c", CODE, ...]. Per request it forks; the child takes the request's environment (the whole
of it), working directory, stdin (/dev/null), stdout and stderr files, argv and sys.path[0],
then runs the script or code as `__main__` as the interpreter would. Its exit is an
interpreter's: SystemExit goes up to the top of this module, so atexit handlers, flushing and
finalisation run; an uncaught exception prints its traceback (from the script's own frame, as
`python script` prints it) and exits 1. The zygote waits for the child (killing it after the
request's timeout) and replies with one JSON line: {"returncode", "timed_out"}.

No `netra` module is imported before a request (checked at start-up): netra's settings,
consoles and caches are made by each command in its own environment. Nor is `chdb`: its import
starts ClickHouse's thread pools, which a fork would not copy into the child.
"""

from __future__ import annotations

import builtins
import gc
import importlib
import json
import os
import select
import signal
import sys
import tempfile
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

# the third-party modules the `netra` commands of the CLI tests import (their import is most of a short command's CPU)
WARM = ("typer", "rich.console", "rich.markdown", "rich.markup", "rich.progress", "rich.table",
        "pydantic", "pydantic_core", "pydantic_settings", "orjson", "numpy", "pandas",
        "pyarrow", "pyarrow.compute", "pyarrow.csv", "pyarrow.json", "pyarrow.parquet",
        "clickhouse_connect", "clickhouse_connect.driver.client", "clickhouse_connect.driver.httpclient",
        "clickhouse_connect.driver.exceptions", "prometheus_client", "prometheus_client.exposition",
        "httpx", "anyio", "anyio.to_thread", "markdown_it",
        "langchain_core.caches", "langchain_core.callbacks", "langchain_core.language_models",
        "langchain_core.load", "langchain_core.messages", "langchain_core.outputs", "langchain_core.runnables",
        "langgraph.checkpoint.base", "langgraph.checkpoint.sqlite", "langgraph.config", "langgraph.errors",
        "langgraph.graph", "langgraph.graph.message", "langgraph.types", "langchain_openai", "openai")
# packages never imported before a request
COLD = ("netra", "chdb")


def loaded(packages: tuple[str, ...]) -> list[str]:
    """The imported modules that belong to one of `packages`."""
    return sorted(name for name in sys.modules if name.split(".")[0] in packages)


def warm() -> None:
    """Import WARM (refusing to serve if that imported a COLD package), then freeze what it made.

    gc.freeze() keeps the children's collections off the imported objects: without it each child's
    collections and finalisation write to every one of them, copying the whole shared heap (~0.6 CPU-s).
    """
    for name in WARM:
        importlib.import_module(name)
    if loaded(COLD):
        raise RuntimeError(f"the zygote must not import {loaded(COLD)} before a request")
    gc.collect()
    gc.freeze()


@dataclass
class Channel:
    """The request and reply pipes, moved off fds 0 and 1 so an import that prints cannot corrupt a reply."""

    requests: BinaryIO
    replies: BinaryIO

    @classmethod
    def take(cls) -> Channel:
        """Take fds 0 and 1 as the channel; leave /dev/null on 0 and stderr on 1."""
        channel = cls(os.fdopen(os.dup(0), "rb"), os.fdopen(os.dup(1), "wb", buffering=0))
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(2, 1)
        return channel

    def reply(self, answer: dict[str, Any]) -> None:
        """Send one reply line."""
        self.replies.write(json.dumps(answer).encode() + b"\n")

    def close(self) -> None:
        """Close both pipes (in a child: the reply pipe is the zygote's, not the command's)."""
        self.requests.close()
        self.replies.close()


@dataclass(frozen=True)
class Program:
    """What `python ARGV` runs: sys.argv, sys.path[0], the code and the `__main__` attributes."""

    argv: list[str]
    path0: str
    code: types.CodeType
    attributes: dict[str, Any]

    @classmethod
    def of(cls, argv: list[str]) -> Program:
        """The program of `python -c CODE ARGS...` or `python SCRIPT ARGS...`."""
        if argv[0] == "-c":
            return cls(["-c", *argv[2:]], "", compile(argv[1], "<string>", "exec"), {})
        code = compile(Path(argv[0]).read_bytes(), argv[0], "exec")
        return cls(argv, os.path.dirname(os.path.realpath(argv[0])), code, {"__file__": argv[0]})

    def install(self) -> types.ModuleType:
        """Make sys.argv, sys.path[0] and a fresh `__main__` module the program's; return the module."""
        sys.argv, sys.path[0] = self.argv, self.path0
        main = types.ModuleType("__main__")
        vars(main).update(self.attributes, __builtins__=builtins)
        sys.modules["__main__"] = main
        return main

    def run(self) -> None:
        """Run the code as `__main__`; an uncaught exception is printed from the code's frame and exits 1."""
        namespace = vars(self.install())
        try:
            exec(self.code, namespace)
        except Exception as exc:  # what the interpreter does at the top; SystemExit passes through
            exc.__traceback__ = exc.__traceback__.tb_next  # from the code's own frame
            sys.excepthook(type(exc), exc, exc.__traceback__)
            raise SystemExit(1) from None


def redirect(stdout: str, stderr: str) -> None:
    """Point fds 0, 1 and 2 at /dev/null and the two output files."""
    for fd, path, flags in ((0, os.devnull, os.O_RDONLY), (1, stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                            (2, stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
        target = os.open(path, flags, 0o600)
        os.dup2(target, fd)
        os.close(target)


def child(request: dict[str, Any]) -> None:
    """In the forked child: take the request's process state, run its program, exit like an interpreter."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    tempfile.tempdir = None  # gettempdir() follows the new TMPDIR, as in a fresh interpreter
    redirect(request["stdout"], request["stderr"])
    Program.of(request["argv"]).run()
    raise SystemExit(0)


def waited(pid: int, timeout: float | None) -> dict[str, Any]:
    """Wait for the child (SIGKILL after `timeout` seconds); its exit code as subprocess reports it."""
    pidfd = os.pidfd_open(pid)
    ready, _, _ = select.select([pidfd], [], [], timeout)
    os.close(pidfd)
    if not ready:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return {"returncode": os.waitstatus_to_exitcode(status), "timed_out": not ready}


def forked() -> int:
    """Fork with nothing of the zygote's left in the standard streams' buffers; 0 in the child."""
    sys.stdout.flush()
    sys.stderr.flush()
    return os.fork()


def serve(channel: Channel) -> None:
    """Fork one child per request until stdin closes; the child leaves this loop by SystemExit."""
    for line in channel.requests:
        request = json.loads(line)
        pid = forked()
        if pid == 0:
            channel.close()
            child(request)
        channel.reply(waited(pid, request["timeout"]))


if __name__ == "__main__":
    CHANNEL = Channel.take()
    warm()
    serve(CHANNEL)
