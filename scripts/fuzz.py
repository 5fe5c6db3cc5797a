"""API fuzzing: a real Netra server, fuzzed by schemathesis from its own `/openapi.json`.

    python scripts/fuzz.py                              # embedded: SQLite, no Redis, chDB in a temp home
    python scripts/fuzz.py --max-examples 100 --seed 7
    python scripts/fuzz.py --phases examples,fuzzing    # of examples, coverage, fuzzing, stateful
    python scripts/fuzz.py --database-url postgresql://postgres@127.0.0.1:5432/scratch \\
                           --redis-url redis://127.0.0.1:6379/15
    make fuzz FUZZ_ARGS="--max-examples 50"

Starts uvicorn on a free 127.0.0.1 port in this process (lifespan on, dev auth, no rate limit,
no model: `OPENAI_API_KEY` is dropped), with a fresh temporary `NETRA_HOME`; then runs the
harness of `tests/fuzz/harness.py`: an admin signs in through `POST /auth/dev-login`, events
and a thread are planted, and every operation of `/openapi.json` but the exclusions is fuzzed.
Prints the figures and each failure (with a curl line, and the server's traceback of a 500).
Exits 1 on any check failure, 5xx answer, engine error or operation left untested.

`--database-url` and `--redis-url` fuzz against PostgreSQL and Redis: the run writes users,
threads and references there, so give it a scratch database.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import random
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the harness lives with the tests: tests/fuzz/harness.py

import httpx  # noqa: E402

from tests.fuzz import harness  # noqa: E402

START_TIMEOUT_S = 15.0


@contextlib.contextmanager
def serving(settings: Any) -> Iterator[str]:
    """Serve the app over `settings` with uvicorn (lifespan on) on a free 127.0.0.1 port; yield its URL."""
    import uvicorn

    from netra.server import create_app

    sock = socket.create_server(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    with running(server, thread):
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextlib.contextmanager
def running(server: Any, thread: threading.Thread) -> Iterator[None]:
    """Run the server's thread until the block ends; fail when it does not start."""
    thread.start()
    try:
        wait_started(server, thread)
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def wait_started(server: Any, thread: threading.Thread) -> None:
    """Wait for uvicorn to serve; then silence the access log (a line per request would drown the figures)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise SystemExit("the server did not start; see its log above")
    logging.getLogger("netra.access").disabled = True


# option -> its argparse settings
ARGUMENTS: dict[str, dict[str, Any]] = {
    "--max-examples": {"type": int, "default": harness.Options.max_examples,
                       "help": "examples per operation and phase (default %(default)s)"},
    "--phases": {"default": ",".join(harness.PHASES), "help": "comma-separated (default %(default)s)"},
    "--seed": {"type": int, "default": None, "help": "fix the random draws (default: a random seed, printed)"},
    "--target-success": {"action": "store_true", "help": "let schemathesis steer inputs towards 2xx answers "
                          "(slow: 50-100 s more per operation that answers 404 to every generated id)"},
    "--database-url": {"default": "", "help": "records database (default: SQLite in the temp home)"},
    "--redis-url": {"default": "", "help": "Redis for caches and limits (default: in-process)"},
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Return the command line's options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for flag, settings in ARGUMENTS.items():
        parser.add_argument(flag, **settings)
    return parser.parse_args(argv)


def options_of(args: argparse.Namespace) -> harness.Options:
    """Return the harness options of the command line (a random seed, printed, when none is given)."""
    phases = tuple(phase.strip() for phase in args.phases.split(",") if phase.strip())
    unknown = sorted(set(phases) - set(harness.PHASES))
    if unknown or args.max_examples < 1:
        raise SystemExit(f"--phases takes {','.join(harness.PHASES)} (not {unknown}); --max-examples >= 1")
    seed = random.getrandbits(32) if args.seed is None else args.seed
    return harness.Options(args.max_examples, phases, seed, args.target_success)


def run(args: argparse.Namespace, home: Path) -> int:
    """Serve over `home`, prepare, fuzz and print the figures; return the exit status."""
    options = options_of(args)
    figures = fuzzed(harness.embedded_settings(home, args.database_url, args.redis_url), options)
    print(harness.summary(figures, options))
    return 0 if figures.ok else 1


def fuzzed(settings: Any, options: harness.Options) -> harness.Figures:
    """Serve over `settings`, sign the fuzz admin in and plant the seeds, fuzz; return the figures."""
    with serving(settings) as url:
        with httpx.Client(base_url=url, timeout=60.0) as client:
            token = harness.prepare(client, settings)
        return harness.fuzz(url, token, options)


def main(argv: list[str] | None = None) -> int:
    """Fuzz a fresh server; 0 when nothing was found, else 1."""
    args = parse_args(argv)
    os.environ.pop("OPENAI_API_KEY", None)  # agents run offline: a fuzz run never calls a paid model
    with tempfile.TemporaryDirectory(prefix="netra-fuzz-") as home:
        os.environ["NETRA_HOME"] = home
        return run(args, Path(home))


if __name__ == "__main__":
    sys.exit(main())
