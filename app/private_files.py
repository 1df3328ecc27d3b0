"""What Taskwire writes to disk is readable by its owner only: the database and its -wal and
-shm (password hashes, board data, webhook secrets), backups, exports and the secret key.

Three layers, so no path is missed: ``python -m app`` runs under umask 077 (every file and
folder it creates starts private); the SQLite store creates its file 0600 (SQLite gives the
-wal and -shm the database's mode) whoever started it; and at start-up the data directory,
with everything in it, loses any group and other permissions an earlier version, a copy or
an editor left behind. The data directory is Taskwire's own: keep nothing else in it.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def restrict(path: Path) -> None:
    """Take away what group and others may do with ``path``, if it exists (symlinks are
    left alone: their target may not be ours)."""
    try:
        mode = path.lstat().st_mode
        if not stat.S_ISLNK(mode) and mode & PRIVATE_UMASK:
            path.chmod(stat.S_IMODE(mode) & ~PRIVATE_UMASK)
    except FileNotFoundError:
        pass
    except PermissionError:
        log.warning("cannot make %s private to its owner: not ours", path)


def restrict_tree(directory: Path) -> None:
    """Make ``directory`` and everything under it private, if it exists."""
    restrict(directory)
    for root, folders, files in os.walk(directory):  # does not follow symlinked folders
        for name in (*folders, *files):
            restrict(Path(root, name))


def prepare_sqlite_file(path: Path) -> None:
    """The database file, created 0600 before SQLite opens it; an existing one and its
    companions made private."""
    if not path.parent.exists():
        path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE))
    for suffix in ("", *SQLITE_COMPANIONS):
        restrict(path.with_name(path.name + suffix))


def create_private_file(path: Path) -> None:
    """Create ``path`` empty and 0600 (replacing any file of that name) before something
    that would create it with its own mode writes to it."""
    path.unlink(missing_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
