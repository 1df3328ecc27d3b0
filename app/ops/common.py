"""What every operations command shares: its error type, progress lines, the store it
opens, and files that appear whole or not at all."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import BinaryIO

from app.private_files import PRIVATE_FILE_MODE
from app.settings import Settings
from app.store import create_store
from app.store.base import Store


class OpsError(Exception):
    """The command cannot do what was asked; the message is the one line the user sees."""


def progress(command: str, message: str) -> None:
    # Flushed at once: an operator watching a long export must see it move.
    print(f"{command}: {message}", flush=True)


def store_kind(settings: Settings) -> str:
    return "sqlite" if settings.sqlite_path is not None else "mongodb"


@contextlib.asynccontextmanager
async def opened_store(settings: Settings) -> AsyncIterator[Store]:
    """The configured store, opened (which creates its schema and indexes) and closed after."""
    store = create_store(settings.effective_database_url)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def partial_path(target: Path) -> Path:
    """Where a file is written before it is renamed to ``target``, in the same folder so
    that the rename is atomic."""
    return target.with_name(f".{target.name}.{os.getpid()}.partial")


@contextlib.contextmanager
def written_atomically(target: Path) -> Iterator[BinaryIO]:
    """A file to write ``target`` through, so that a crash or a full disk never leaves a
    truncated file under its name (an operator would take it for a good export): it gets
    the name only once the block has ended without an error and the data is on disk."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(target)
    try:
        # 0600 whatever the umask: an export holds members' emails and every task.
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE), "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def check_output_free(target: Path, force: bool) -> None:
    if target.exists() and not force:
        raise OpsError(f"{target} exists; pass --force to replace it")
