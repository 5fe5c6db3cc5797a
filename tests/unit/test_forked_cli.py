"""The forked CLI runner of tests.support.cli: a fork of the zygote behaves as a fresh interpreter.

Real processes throughout: `python -c CODE` requests run both forked and as a real interpreter
(whose output, exit code and traceback they must match), one `netra` command both ways, and
the zygote's own state (what it imported, what happens when it dies or a child overruns).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.support import cli
from tests.support.zygote import COLD, WARM

PROGRAMS = {
    "exit-0": "print('out')",
    "exit-2": "import sys\nsys.exit(2)",
    "exit-message": "raise SystemExit('bye')",
    "uncaught": "import json\nprint('before', flush=True)\nraise ValueError('boom')",
    "streams": "import sys\nprint('to out')\nprint('to err', file=sys.stderr)\nprint(sys.stdout.encoding)",
    "atexit": "import atexit, sys\natexit.register(print, 'atexit ran')\nsys.exit(3)",
    "argv": "import sys\nprint(sys.argv, repr(sys.path[0]), __name__)",
}


def both(command: list[str], env: dict[str, str], cwd: Path) -> tuple[subprocess.CompletedProcess, ...]:
    """Run `command` forked and as a real process, in the same environment and folder."""
    forked = cli.run(command, env, timeout=120, cwd=cwd)
    real = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    return forked, real


def outcome(done: subprocess.CompletedProcess) -> tuple[int, str, str]:
    """What a caller sees of a finished process."""
    return done.returncode, done.stdout, done.stderr


def python(code: str, tmp_path: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `python -c CODE` forked, in tmp_path with NETRA_HOME=tmp_path."""
    return cli.run([sys.executable, "-c", code], cli.environment(tmp_path, 80), timeout=timeout, cwd=tmp_path)


@pytest.mark.parametrize("code", PROGRAMS.values(), ids=PROGRAMS.keys())
def test_a_forked_program_exits_and_prints_as_the_interpreter_does(tmp_path, code):
    forked, real = both([sys.executable, "-c", code, "one", "two"], cli.environment(tmp_path, 80), tmp_path)
    assert outcome(forked) == outcome(real)


def test_exit_codes_and_the_traceback_of_an_uncaught_exception(tmp_path):
    assert [python(PROGRAMS[name], tmp_path).returncode for name in ("exit-0", "exit-2", "uncaught")] == [0, 2, 1]
    assert python(PROGRAMS["uncaught"], tmp_path).stderr == (
        'Traceback (most recent call last):\n  File "<string>", line 3, in <module>\nValueError: boom\n')
    assert python(PROGRAMS["atexit"], tmp_path).stdout == "atexit ran\n"


@pytest.mark.parametrize("args", [["tools", "list"], ["generate", "--scenario", "nope", "--events", "10"]])
def test_a_netra_command_gives_what_the_console_script_gives(tmp_path, args):
    forked, real = both([cli.NETRA, *args], cli.environment(tmp_path, 100), tmp_path)
    assert outcome(forked) == outcome(real) and forked.stdout + forked.stderr


def test_the_child_has_the_requests_environment_only(tmp_path, monkeypatch):
    monkeypatch.setenv("FORKED_CLI_OUTSIDE", "1")  # in this process (and in the zygote, if it starts now)
    code = ("import os, subprocess\nprint(os.environ.get('FORKED_CLI_OUTSIDE'), os.environ['FORKED_CLI_INSIDE'], "
            "flush=True)\nsubprocess.run(['sh', '-c', 'echo ${FORKED_CLI_OUTSIDE:-absent} $FORKED_CLI_INSIDE'])")
    env = {"PATH": os.environ["PATH"], "FORKED_CLI_INSIDE": "2"}
    assert cli.run([sys.executable, "-c", code], env, timeout=120).stdout == "None 2\nabsent 2\n"


def test_the_child_runs_in_the_requested_folder(tmp_path):
    assert python("import os\nprint(os.getcwd())", tmp_path).stdout == f"{tmp_path}\n"
    default = cli.run([sys.executable, "-c", "import os\nprint(os.getcwd())"], cli.environment(tmp_path, 80))
    assert default.stdout == f"{os.getcwd()}\n"


def test_a_timeout_kills_the_child_and_raises(tmp_path):
    with pytest.raises(subprocess.TimeoutExpired) as raised:
        python("import time\nprint('started', flush=True)\ntime.sleep(120)", tmp_path, timeout=2)
    assert raised.value.timeout == 2 and raised.value.output == "started\n"
    assert python("print('next')", tmp_path).stdout == "next\n"  # the zygote serves on


class Interrupted(Exception):
    """What a signal handler raises in the test (as pytest-timeout does)."""


def interrupt(signum: int, frame: object) -> None:
    """Interrupt the test's wait for a reply."""
    raise Interrupted


@pytest.fixture
def interruptible():
    """SIGUSR1 raises Interrupted in the test (as pytest-timeout's SIGALRM fails it) until the test ends."""
    previous = signal.signal(signal.SIGUSR1, interrupt)
    yield
    signal.signal(signal.SIGUSR1, previous)


def test_an_interrupted_request_leaves_no_reply_behind(tmp_path, interruptible):
    threading.Timer(1, signal.pthread_kill, (threading.main_thread().ident, signal.SIGUSR1)).start()
    with pytest.raises(Interrupted):
        python("import time\ntime.sleep(120)", tmp_path)
    assert python("print('next')", tmp_path).stdout == "next\n"  # not the interrupted request's reply


def test_a_dead_zygote_is_started_again(tmp_path):
    python("pass", tmp_path)
    cli.ZYGOTE.process.kill()
    cli.ZYGOTE.process.wait()
    assert python("print('again')", tmp_path).stdout == "again\n"


def test_the_zygote_imported_the_third_party_modules_and_no_netra_module(tmp_path):
    modules = set(json.loads(python("import json, sys\nprint(json.dumps(sorted(sys.modules)))", tmp_path).stdout))
    assert set(WARM) <= modules
    assert not {name for name in modules if name.split(".")[0] in COLD}
