"""Folders and files of NETRA_HOME that only their owner may read: folders 0700, database files 0600.

    private_folder(settings.home)             # created 0700 (each missing parent too)
    private_file(home / "netra.db")           # created empty, 0600, before SQLite opens it

NETRA_HOME holds the records (users, threads, encrypted secrets), the checkpoints, the
analytics store and the development secret: nobody else on the machine should read them.
A folder or file that exists already keeps the mode it has (an operator may have chosen it);
SQLite gives its journal and WAL files the mode of the database file, so they are 0600 too.
"""

from __future__ import annotations

import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """Create `path` and each missing parent with mode 0700 (existing folders are left as they are)."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty with mode 0600 when it does not exist (its folder private too); return it."""
    private_folder(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass
    return path
