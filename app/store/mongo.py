"""The MongoDB adapter of ``app.store.base.Store`` (PyMongo's native async API), composed
of one part per aggregate (mongo_users, mongo_boards, ...), like ``SQLiteStore``.

Documents use the record id as ``_id``. Board changes and their events are written in
one transaction when the deployment has them (replica set, mongos); see mongo_tx for
the guarantees and for what the standalone fallback gives up.
"""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure

from app.domain import clock
from app.store.base import StoreNotWritable
from app.store.mongo_accounts import MongoAccounts
from app.store.mongo_attachments import MongoAttachments
from app.store.mongo_board_trash import MongoBoardTrash
from app.store.mongo_boards import MongoBoards
from app.store.mongo_comments import MongoComments
from app.store.mongo_events import MongoEvents
from app.store.mongo_identities import MongoIdentities
from app.store.mongo_imports import MongoImports
from app.store.mongo_instance import MongoInstance
from app.store.mongo_invitations import MongoInvitations
from app.store.mongo_mail import MongoAccountEmails, MongoMail, MongoWatches
from app.store.mongo_notifications import MongoNotifications
from app.store.mongo_recurrences import MongoRecurrences
from app.store.mongo_schedule import MongoSchedule
from app.store.mongo_schema import INDEXES, PROBE, Client, ensure_indexes
from app.store.mongo_task_documents import MongoTaskDocuments
from app.store.mongo_tasks import MongoTasks
from app.store.mongo_tokens import MongoApiTokens
from app.store.mongo_trash import MongoTrash
from app.store.mongo_two_factor import MongoTwoFactor
from app.store.mongo_tx import BoardWriter, driver_errors, supports_transactions
from app.store.mongo_users import MongoUsers
from app.store.mongo_webhooks import MongoWebhooks

__all__ = ["INDEXES", "MongoStore"]

DEFAULT_DATABASE = "taskwire"
# Requests and /readyz get StoreUnavailable after 5 s rather than the driver's default 30 s.
SERVER_SELECTION_TIMEOUT_MS = 5000


class MongoStore(
    MongoUsers,
    MongoInstance,
    MongoTwoFactor,
    MongoIdentities,
    MongoAccounts,
    MongoApiTokens,
    MongoBoards,
    MongoTasks,
    MongoEvents,
    MongoComments,
    MongoAttachments,
    MongoWebhooks,
    MongoNotifications,
    MongoTaskDocuments,
    MongoMail,
    MongoWatches,
    MongoSchedule,
    MongoAccountEmails,
    MongoRecurrences,
    MongoImports,
    MongoTrash,
    MongoBoardTrash,
    MongoInvitations,
):
    """One AsyncMongoClient per store, opened in open() and closed in close()."""

    def __init__(self, url: str, *, transactions: bool | None = None) -> None:
        """``transactions`` None detects support in open(); True/False forces a path (tests, ops)."""
        self._url = url
        self._transactions_wanted = transactions
        self._client: Client | None = None

    @driver_errors
    async def open(self) -> None:
        if self._client is not None:
            return
        options: dict[str, Any] = (
            {}
            if "serverselectiontimeoutms" in self._url.lower()
            else {"serverSelectionTimeoutMS": SERVER_SELECTION_TIMEOUT_MS}
        )
        # tz_aware off: every time the records carry is an ISO string (app.domain.clock).
        client: Client = AsyncMongoClient(self._url, tz_aware=False, appname="taskwire", **options)
        try:
            db = client.get_default_database(default=DEFAULT_DATABASE)
            await ensure_indexes(db)
            transactions = self._transactions_wanted
            if transactions is None:
                transactions = await supports_transactions(db)
        except BaseException:
            await client.close()
            raise
        self._client, self._database = client, db
        self._writer_or_none = BoardWriter(client, transactions)

    async def close(self) -> None:
        client, self._client = self._client, None
        self._database = self._writer_or_none = None
        if client is not None:
            await client.close()

    @driver_errors
    async def ping(self) -> None:
        await self._db.command("ping")

    @driver_errors
    async def check_writable(self) -> None:
        # The probe collection holds nothing of value; a server out of disk refuses this.
        try:
            await self._db[PROBE].update_one({"_id": "writable"}, {"$set": {"at": clock.now()}}, upsert=True)
        except OperationFailure as exc:
            raise StoreNotWritable("write_failed", f"({exc.code})") from exc

    @property
    def uses_transactions(self) -> bool:
        """Whether writes run in transactions (decided in open())."""
        return self._writer.transactions
