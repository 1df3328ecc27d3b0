"""One store write = one transaction that also appends the board's next event
(``append_event`` in mongo_events), and ``MongoStoreBase``, which every part of MongoStore shares.

Every event-writing transaction increments ``seq`` on the board document. That single
document is therefore written by every change to a board, so two concurrent changes to
one board always conflict and one of them is retried: seqs stay gapless and unique with
any number of processes, and rules checked by reading (the last owner) cannot be broken
by two writers that each read before the other wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import (
    ConfigurationError,
    ConnectionFailure,
    InvalidOperation,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)

from app.domain.clock import now
from app.domain.ids import new_id
from app.store.base import StoreUnavailable
from app.store.mongo_schema import PROBE, Client, Database

log = logging.getLogger(__name__)

type Session = AsyncClientSession | None
type WriteBody[T] = Callable[[Session], Awaitable[T]]

# Conflicts resolve quickly (one writer wins each round), so a bounded number of
# jittered retries is enough for dozens of concurrent writers on one board.
_MAX_ATTEMPTS = 25
_BACKOFF_FIRST = 0.002
_BACKOFF_MAX = 0.2
_COMMIT_ATTEMPTS = 3
_WRITE_CONFLICT = 112


async def supports_transactions(db: Database) -> bool:
    """Whether the server runs multi-document transactions, by running a tiny one.

    A standalone mongod refuses with IllegalOperation (code 20, "Transaction numbers are
    only allowed on a replica set member or mongos"); older or unusual servers refuse in
    other ways. Any refusal means "no"; connection errors propagate.
    """
    probe = db[PROBE]
    # Made outside the transaction: a transaction may not create a collection on old servers.
    await probe.update_one({"_id": "created"}, {"$set": {"at": now()}}, upsert=True)
    marker = new_id()  # one per process, so that processes starting together rarely conflict

    async def insert_marker(session: Session) -> None:
        await probe.insert_one({"_id": marker, "at": now()}, session=session)

    try:
        async with db.client.start_session() as session:
            await _run_in_transaction(session, insert_marker)
    except (OperationFailure, ConfigurationError, InvalidOperation) as exc:
        if _worth_retrying(exc):
            return True  # only a running transaction can conflict
        log.warning(
            "MongoDB does not run transactions (%s); events fall back to a non-atomic append. "
            "Run a replica set (a single-node one is enough) for atomic writes.",
            exc,
        )
        return False
    await probe.delete_one({"_id": marker})
    return True


class BoardWriter:
    """Runs a write body in a transaction when the deployment has them, bare otherwise."""

    def __init__(self, client: Client, transactions: bool) -> None:
        self._client = client
        self.transactions = transactions
        self._board_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def run[T](self, body: WriteBody[T], board_id: str | None = None) -> T:
        """``board_id``, when known up front, queues this process's writers to that board.

        Without the queue, a burst of writes to one board from one process would mostly
        abort each other on the board document and retry; with it, conflicts (and
        retries) only happen between processes. Correctness never depends on it.
        """
        if board_id is None:
            return await self._run(body)
        lock = self._board_locks.get(board_id)
        if lock is None:
            lock = self._board_locks[board_id] = asyncio.Lock()
        async with lock:
            return await self._run(body)

    async def _run[T](self, body: WriteBody[T]) -> T:
        if not self.transactions:
            # Standalone mongod: each statement is atomic on its own, the write as a whole
            # is not. See mongo_events.append_event for what that costs.
            return await body(None)
        async with self._client.start_session() as session:
            return await _run_in_transaction(session, body)


async def _run_in_transaction[T](session: AsyncClientSession, body: WriteBody[T]) -> T:
    attempt = 0
    while True:
        await session.start_transaction()
        try:
            result = await body(session)
            await _commit(session)
            return result
        except BaseException as exc:
            if session.in_transaction:
                await session.abort_transaction()
            elif _is_write_conflict(exc):
                await _abort_after_failed_commit(session)
            attempt += 1
            if attempt >= _MAX_ATTEMPTS or not _worth_retrying(exc):
                raise
        delay = random.random() * min(_BACKOFF_FIRST * 2**attempt, _BACKOFF_MAX)
        await asyncio.sleep(delay)


async def _commit(session: AsyncClientSession) -> None:
    # An unknown commit result may still have committed: retry the commit, never the body.
    for attempt in range(_COMMIT_ATTEMPTS):
        try:
            await session.commit_transaction()
            return
        except PyMongoError as exc:
            if attempt + 1 == _COMMIT_ATTEMPTS or not exc.has_error_label("UnknownTransactionCommitResult"):
                raise


async def _abort_after_failed_commit(session: AsyncClientSession) -> None:
    # mongoeco leaves the transaction open on its side when a commit conflicts, and
    # PyMongo (rightly) will not send abortTransaction after commitTransaction. Left
    # open, the next transaction on this pooled session id would resume the stale one.
    # A real server has already aborted and just refuses this command, which is fine.
    with contextlib.suppress(PyMongoError):
        await session.client.admin.command("abortTransaction", session=session)


def _worth_retrying(exc: BaseException) -> bool:
    if not isinstance(exc, PyMongoError) or isinstance(exc, ServerSelectionTimeoutError):
        return False  # our own errors, or no server for 5 s already: retrying cannot help
    return exc.has_error_label("TransientTransactionError") or _is_write_conflict(exc)


def _is_write_conflict(exc: BaseException) -> bool:
    # The server says the transaction did not commit, so running it again is safe.
    # mongoeco reports a commit-time conflict with this message and no code or label.
    return isinstance(exc, OperationFailure) and (exc.code == _WRITE_CONFLICT or str(exc).startswith("Write conflict"))


def driver_errors[**P, T](method: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Coroutine[Any, Any, T]]:
    """Map the driver's "cannot reach / cannot finish" errors to StoreUnavailable."""

    @functools.wraps(method)
    async def translated(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(*args, **kwargs)
        except ConnectionFailure as exc:
            raise StoreUnavailable(f"MongoDB unreachable: {exc}") from exc
        except PyMongoError as exc:
            if exc.has_error_label("TransientTransactionError") or _is_write_conflict(exc):
                raise StoreUnavailable(f"MongoDB write kept conflicting: {exc}") from exc
            raise

    return translated


class MongoStoreBase:
    """The state every part of MongoStore reads: the open database and its writer."""

    _database: Database | None = None
    _writer_or_none: BoardWriter | None = None

    @property
    def _db(self) -> Database:
        if self._database is None:
            raise StoreUnavailable("the MongoDB store is not open")
        return self._database

    @property
    def _writer(self) -> BoardWriter:
        if self._writer_or_none is None:
            raise StoreUnavailable("the MongoDB store is not open")
        return self._writer_or_none
