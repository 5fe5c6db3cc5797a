#!/bin/sh
# Run a command with TMPDIR in a fresh scratch folder, removed afterwards (whatever the exit).
#
# The suite writes and deletes many small files: a chDB part per insert, SQLite databases,
# NETRA_HOME folders, copies of generated homes. On a memory file system (/dev/shm, where the
# machine has one) those cost no disk writes: the same tests take less system CPU and wait less.
# Elsewhere the folder goes under $TMPDIR (or /tmp), as before.
#
#     scripts/in_scratch.sh .venv/bin/python -m pytest -q
set -eu
base=/dev/shm
if [ ! -d "$base" ] || [ ! -w "$base" ]; then
  base=${TMPDIR:-/tmp}
fi
scratch=$(mktemp -d "$base/netra-test.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT TERM
TMPDIR=$scratch "$@"
