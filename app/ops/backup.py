"""``backup``: a consistent copy of the SQLite store, taken while servers keep running.

A plain file copy is not a backup in WAL mode: the latest commits live in the ``-wal`` file
beside the database until a checkpoint moves them. SQLite's online backup API copies the
pages through a connection instead, so it sees every commit.

This module opens the database file itself (``sqlite3``): it is operations tooling on the
file, not a store; no request ever reaches it.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from app.ops.common import OpsError, check_output_free, partial_path, progress
from app.private_files import create_private_file
from app.settings import Settings

COMMAND = "backup"
# 1024 pages are 4 MiB at SQLite's default page size: a progress line every few MiB.
PAGES_PER_STEP = 1024
BUSY_TIMEOUT_SECONDS = 5.0
# Boards in the trash are copied like the others (restorable after a restore of the copy);
# board_trash says how many of the boards those are.
SUMMARY_TABLES = ("users", "boards", "board_trash", "members", "tasks", "events", "attachments")


def backup_sqlite(settings: Settings, output: Path, *, force: bool = False) -> None:
    """Copy the configured SQLite database to ``output`` (a self-contained file)."""
    source = settings.sqlite_path
    if source is None:
        raise OpsError(
            "backup copies the SQLite store only; TASKWIRE_DATABASE_URL is MongoDB: use mongodump "
            "(see docs/operations.md)"
        )
    if not source.is_file():
        raise OpsError(f"no database at {source}")
    if output.resolve() == source.resolve():
        raise OpsError("--output must not be the live database file")
    check_output_free(output, force)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(output)
    try:
        progress(COMMAND, f"copying {source} to {output}")
        create_private_file(partial)  # sqlite3 would create it with the umask's mode
        _copy_pages(source, partial)
        summary = _seal(partial)
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    progress(COMMAND, f"wrote {output} ({output.stat().st_size} bytes; {summary})")


def _copy_pages(source: Path, target: Path) -> None:
    # mode=ro: a mistyped path must never create an empty database, nor may a backup write
    # to the live file.
    src = sqlite3.connect(
        f"{source.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS
    )
    try:
        # The backup API restarts from page one whenever another process commits between two
        # of its steps, so on a busy server a stepped backup could never finish. A read
        # transaction held across all the steps pins one WAL snapshot instead: the copy is
        # that snapshot, and writers carry on beside it (WAL readers never block writers).
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()
        dst = sqlite3.connect(target, isolation_level=None)
        try:
            src.backup(dst, pages=PAGES_PER_STEP, progress=_report_pages)
        finally:
            dst.close()
        src.execute("COMMIT")
    except sqlite3.Error as error:
        raise OpsError(f"cannot back up {source}: {error}") from None
    finally:
        src.close()


def _report_pages(status: int, remaining: int, total: int) -> None:
    done = total - remaining
    percent = 100 * done // total if total else 100
    progress(COMMAND, f"{percent}% ({done}/{total} pages)")


def _seal(path: Path) -> str:
    """Make the copy one file that needs no -wal beside it, check it, and describe it."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = DELETE").fetchone()
        verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
        if verdict != "ok":
            raise OpsError(f"the copy failed its integrity check: {verdict}")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        # Table names come from SUMMARY_TABLES, never from input.
        counts = [
            f"{conn.execute(f'SELECT count(*) FROM {name}').fetchone()[0]} {name}"
            for name in SUMMARY_TABLES
            if name in tables
        ]
    finally:
        conn.close()
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
    return f"schema version {version}, integrity ok, " + ", ".join(counts)
