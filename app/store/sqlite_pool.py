"""Threads that own SQLite connections, so that no database call runs on the event loop.

The store keeps one writer (a single thread owning this process's only write connection)
and a few readers (threads owning a connection each). Writes of one process queue in the
writer instead of fighting over SQLite's single write lock, so the only contenders for
that lock are other processes, which ``busy_timeout`` and a retried ``BEGIN IMMEDIATE``
absorb. WAL lets the readers run beside the writer on consistent snapshots.

``@writes`` and ``@reads`` turn a plain ``(self, conn, ...)`` method of a SQLiteStore part
into the async store method that runs it on those threads, in one transaction.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, TypeVar

from app.store.base import StoreUnavailable

T = TypeVar("T")
Work = Callable[..., T]

BUSY_TIMEOUT_MS = 5000
# busy_timeout already waits 5 s for the lock; these retries cover the cases where
# SQLite reports BUSY without waiting (WAL recovery, journal mode switch).
BUSY_ATTEMPTS = 4

# Failures of the database file or its locks, as opposed to mistakes in our SQL.
_UNAVAILABLE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_PROTOCOL,
        sqlite3.SQLITE_NOTADB,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_PERM,
    }
)


def _primary_code(error: sqlite3.Error) -> int:
    return (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF


def _retry_busy(step: Callable[[], T]) -> T:
    for attempt in range(BUSY_ATTEMPTS):
        try:
            return step()
        except sqlite3.OperationalError as error:
            if _primary_code(error) != sqlite3.SQLITE_BUSY or attempt == BUSY_ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def connect(path: str) -> sqlite3.Connection:
    """A connection with the settings every connection of every process must share."""
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, never the driver behind our back.
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_MS)}")
        _retry_busy(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchall())
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def in_write_transaction(work: Work[T], conn: sqlite3.Connection, *args: Any) -> T:
    """Run ``work`` in one BEGIN IMMEDIATE transaction: it holds the write lock from the
    first statement, so a read-then-write inside cannot race another process."""
    _retry_busy(lambda: conn.execute("BEGIN IMMEDIATE"))
    return _finish(work, conn, args)


def in_read_transaction(work: Work[T], conn: sqlite3.Connection, *args: Any) -> T:
    """Run ``work`` on one snapshot, so that e.g. a page and its total agree."""
    conn.execute("BEGIN")
    return _finish(work, conn, args)


def _finish(work: Work[T], conn: sqlite3.Connection, args: tuple[Any, ...]) -> T:
    try:
        result = work(conn, *args)
        conn.execute("COMMIT")
    except BaseException:
        # Also after a failed COMMIT: a transaction left open would break every later call.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


class _Job:
    __slots__ = ("args", "future", "loop", "transaction", "work")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        future: asyncio.Future[Any],
        transaction: Callable[..., Any],
        work: Work[Any],
        args: tuple[Any, ...],
    ) -> None:
        self.loop, self.future, self.transaction, self.work, self.args = loop, future, transaction, work, args


Outcome = tuple[asyncio.Future[Any], Any, BaseException | None]


def _settle(outcomes: list[Outcome]) -> None:
    for future, result, error in outcomes:
        if future.cancelled():
            continue  # its caller gave up (the work ran anyway, as a thread pool's would)
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


class ConnectionThreads:
    """A fixed set of threads, each lazily opening and then owning one connection.

    Every store call pays the hand-off, so it is kept cheap: a job is a plain object on a
    ``SimpleQueue`` and its caller's future is settled on the event loop directly (through
    ``run_in_executor`` the executor's future, its wrapping and one wake-up per job cost
    ~20 us of CPU per call; see docs/benchmarks.md). A thread takes the jobs that queued
    while it was busy (up to ``BATCH``) and settles them with one wake-up of the loop.
    """

    BATCH = 16

    def __init__(self, path: str, threads: int, name: str) -> None:
        self._path = path
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._closed = False
        self._threads = [
            threading.Thread(target=self._serve, name=f"{name}_{number}", daemon=True) for number in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    async def run(self, transaction: Callable[..., T], work: Work[T], *args: Any) -> T:
        if self._closed:
            raise StoreUnavailable("the SQLite store is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put(_Job(loop, future, transaction, work, args))
        return await future

    def _serve(self) -> None:
        conn: sqlite3.Connection | None = None
        stopping = False
        while not stopping:
            first = self._jobs.get()
            if first is None:
                return
            jobs = [first]
            while len(jobs) < self.BATCH:
                try:
                    job = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stopping = True  # after this batch; each thread takes exactly one None
                    break
                jobs.append(job)
            outcomes: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
            for job in jobs:
                if job.future.cancelled():
                    continue  # never started, as a thread pool skips a cancelled item
                try:
                    if conn is None:
                        conn = self._connect()
                    outcome: Outcome = (job.future, job.transaction(job.work, conn, *job.args), None)
                except sqlite3.DatabaseError as error:
                    if _primary_code(error) in _UNAVAILABLE_CODES:
                        unavailable = StoreUnavailable(f"SQLite: {error}")
                        unavailable.__cause__ = error
                        outcome = (job.future, None, unavailable)
                    else:
                        outcome = (job.future, None, error)
                except BaseException as error:
                    outcome = (job.future, None, error)
                outcomes.setdefault(job.loop, []).append(outcome)
            for loop, settled in outcomes.items():
                self._post(loop, settled)

    @staticmethod
    def _post(loop: asyncio.AbstractEventLoop, outcomes: list[Outcome]) -> None:
        try:
            loop.call_soon_threadsafe(_settle, outcomes)
        except RuntimeError:
            pass  # the event loop is closed: nobody is waiting any more

    def _connect(self) -> sqlite3.Connection:
        conn = connect(self._path)
        with self._lock:
            self._connections.append(conn)
        return conn

    def close(self) -> None:
        """Blocking: wait for running and queued work, then close every connection the
        threads opened."""
        self._closed = True
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()
        # A job queued after the last thread stopped (a call racing close) fails, not hangs.
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                self._post(job.loop, [(job.future, None, StoreUnavailable("the SQLite store is closed"))])
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()


class SQLiteStoreBase:
    """The state every part of SQLiteStore reads: the threads owning its connections."""

    _writer: ConnectionThreads | None = None
    _readers: ConnectionThreads | None = None


class _StoreMethod:
    """A decorator that makes ``body(self, conn, ...)`` an async store method running
    ``body`` inside ``transaction`` on the threads ``threads`` picks from the store."""

    def __init__(
        self, threads: Callable[[SQLiteStoreBase], ConnectionThreads | None], transaction: Callable[..., Any]
    ) -> None:
        self._threads = threads
        self._transaction = transaction

    def __call__[S: SQLiteStoreBase, **P, T](
        self,
        body: Callable[Concatenate[S, sqlite3.Connection, P], T],
    ) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
        pick, transaction = self._threads, self._transaction

        async def method(store: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
            threads = pick(store)
            if threads is None:
                raise StoreUnavailable("the SQLite store is not open")
            return await threads.run(transaction, functools.partial(body, store, **kwargs), *args)

        functools.update_wrapper(method, body)
        return method


# One write transaction on this process's writer thread; raising inside rolls the whole use case back.
writes = _StoreMethod(lambda store: store._writer, in_write_transaction)
# One snapshot on a reader thread.
reads = _StoreMethod(lambda store: store._readers, in_read_transaction)
