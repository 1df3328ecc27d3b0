"""Webhooks and their delivery log, for MongoStore (see mongo.py).

Lease-holder writes are single conditional updates on the webhook document
(``lease_owner: owner`` in the filter), so they are atomic without a transaction; only
``disable_webhook`` also appends a board event, through the board writer like every
other event append.
"""

from __future__ import annotations

from pymongo import ReturnDocument

from app.domain.models import Event, EventDraft
from app.domain.webhooks import Webhook, WebhookAttempt, WebhookProgress
from app.store.base import NotFound
from app.store.mongo_events import append_event
from app.store.mongo_records import Document, Documents, checked_draft, fields_of, want_int, want_optional_str, want_str
from app.store.mongo_schema import BOARDS, WEBHOOK_ATTEMPTS, WEBHOOKS
from app.store.mongo_tx import MongoStoreBase, Session, driver_errors

WEBHOOK_DOCS = Documents(Webhook)
WEBHOOK_ATTEMPT_DOCS = Documents(WebhookAttempt)


def _lease_is_free(now: str) -> Document:
    return {"$or": [{"lease_owner": None}, {"lease_until": {"$lte": now}}]}


class MongoWebhooks(MongoStoreBase):
    @driver_errors
    async def create_webhook(self, webhook: Webhook) -> None:
        document = WEBHOOK_DOCS.doc(webhook)
        if await self._db[BOARDS].find_one({"_id": document["board_id"]}, {"_id": 1}) is None:
            raise NotFound(f"board {document['board_id']}")
        await self._db[WEBHOOKS].insert_one(document)

    get_webhook = WEBHOOK_DOCS.getter(WEBHOOKS, "webhook_id")

    @driver_errors
    async def list_webhooks(self, board_id: str) -> list[Webhook]:
        return await WEBHOOK_DOCS.all(
            self._db[WEBHOOKS].find({"board_id": want_str(board_id, "board_id")}).sort("_id", 1)
        )

    @driver_errors
    async def update_webhook(self, webhook: Webhook, reset_backoff: bool) -> Webhook | None:
        # The fields update_webhook replaces.
        changes = fields_of(WEBHOOK_DOCS.doc(webhook), "url", "events", "active", "disabled_reason", "updated_at")
        if reset_backoff:
            changes.update(failures=0, next_attempt_at=None)
        doc = await self._db[WEBHOOKS].find_one_and_update(
            {"_id": want_str(webhook.id, "id")}, {"$set": changes}, return_document=ReturnDocument.AFTER
        )
        return WEBHOOK_DOCS.record(doc) if doc else None

    @driver_errors
    async def delete_webhook(self, webhook_id: str) -> bool:
        webhook_id = want_str(webhook_id, "webhook_id")
        deleted = (await self._db[WEBHOOKS].delete_one({"_id": webhook_id})).deleted_count == 1
        await self._db[WEBHOOK_ATTEMPTS].delete_many({"webhook_id": webhook_id})
        return deleted

    @driver_errors
    async def list_due_webhooks(self, now: str, after_id: str | None, limit: int) -> list[Webhook]:
        if want_int(limit, "limit") <= 0:
            return []  # a MongoDB limit of 0 would mean "no limit"
        now = want_str(now, "now")
        due = {
            "$or": [
                {"next_attempt_at": None},
                {"next_attempt_at": {"$lte": now}},
                {"redeliveries.0": {"$exists": True}},
            ]
        }
        query = {
            "active": True,
            "_id": {"$gt": want_optional_str(after_id, "after_id") or ""},
            "$and": [_lease_is_free(now), due],
        }
        return await WEBHOOK_DOCS.all(self._db[WEBHOOKS].find(query).sort("_id", 1).limit(limit))

    @driver_errors
    async def claim_webhook(self, webhook_id: str, owner: str, now: str, until: str) -> Webhook | None:
        owner = want_str(owner, "owner")
        query = {
            "_id": want_str(webhook_id, "webhook_id"),
            "$or": [*_lease_is_free(want_str(now, "now"))["$or"], {"lease_owner": owner}],
        }
        doc = await self._db[WEBHOOKS].find_one_and_update(
            query,
            {"$set": {"lease_owner": owner, "lease_until": want_str(until, "until")}},
            return_document=ReturnDocument.AFTER,
        )
        return WEBHOOK_DOCS.record(doc) if doc else None

    @driver_errors
    async def release_webhook(self, webhook_id: str, owner: str) -> None:
        await self._db[WEBHOOKS].update_one(
            {"_id": want_str(webhook_id, "webhook_id"), "lease_owner": want_str(owner, "owner")},
            {"$set": {"lease_owner": None, "lease_until": None}},
        )

    @driver_errors
    async def record_webhook_attempt(
        self, webhook_id: str, owner: str, attempt: WebhookAttempt | None, progress: WebhookProgress | None
    ) -> Webhook | None:
        held = {"_id": want_str(webhook_id, "webhook_id"), "lease_owner": want_str(owner, "owner")}
        if attempt is not None:
            document = WEBHOOK_ATTEMPT_DOCS.doc(attempt)
            if await self._db[WEBHOOKS].find_one({"_id": held["_id"]}, {"_id": 1}) is not None:
                await self._db[WEBHOOK_ATTEMPTS].insert_one(document)
        if progress is None:
            doc = await self._db[WEBHOOKS].find_one(held)
        else:
            changes = {
                "cursor": want_int(progress.cursor, "cursor"),
                "failures": want_int(progress.failures, "failures"),
                "next_attempt_at": want_optional_str(progress.next_attempt_at, "next_attempt_at"),
            }
            doc = await self._db[WEBHOOKS].find_one_and_update(
                held, {"$set": changes}, return_document=ReturnDocument.AFTER
            )
        return WEBHOOK_DOCS.record(doc) if doc else None

    @driver_errors
    async def disable_webhook(self, webhook_id: str, owner: str, reason: str, event: EventDraft) -> Event | None:
        draft = checked_draft(event)
        query = {"_id": want_str(webhook_id, "webhook_id"), "lease_owner": want_str(owner, "owner"), "active": True}
        changes = {
            "active": False,
            "disabled_reason": want_str(reason, "reason"),
            "updated_at": draft.at,
            "lease_owner": None,
            "lease_until": None,
        }

        async def body(session: Session) -> Event | None:
            before = await self._db[WEBHOOKS].find_one_and_update(
                query, {"$set": changes}, projection={"board_id": 1}, session=session
            )
            if before is None:
                return None
            return await append_event(self._db, before["board_id"], draft, session)

        return await self._writer.run(body)

    @driver_errors
    async def queue_webhook_redelivery(self, webhook_id: str, seq: int, limit: int) -> bool:
        seq = want_int(seq, "seq")
        if want_int(limit, "limit") <= 0:
            return False
        # Queued already, or room for one more: one conditional update decides.
        query = {
            "_id": want_str(webhook_id, "webhook_id"),
            "$or": [{"redeliveries": seq}, {f"redeliveries.{limit - 1}": {"$exists": False}}],
        }
        result = await self._db[WEBHOOKS].update_one(query, {"$addToSet": {"redeliveries": seq}})
        return result.matched_count == 1

    @driver_errors
    async def pop_webhook_redelivery(self, webhook_id: str, owner: str) -> int | None:
        before = await self._db[WEBHOOKS].find_one_and_update(
            {
                "_id": want_str(webhook_id, "webhook_id"),
                "lease_owner": want_str(owner, "owner"),
                "redeliveries.0": {"$exists": True},
            },
            {"$pop": {"redeliveries": -1}},
            projection={"redeliveries": 1},
            return_document=ReturnDocument.BEFORE,
        )
        return None if before is None else int(before["redeliveries"][0])

    @driver_errors
    async def list_webhook_attempts(self, webhook_id: str, before_id: str | None, limit: int) -> list[WebhookAttempt]:
        if want_int(limit, "limit") <= 0:
            return []
        query: Document = {"webhook_id": want_str(webhook_id, "webhook_id")}
        if before_id is not None:
            query["_id"] = {"$lt": want_str(before_id, "before_id")}
        return await WEBHOOK_ATTEMPT_DOCS.all(self._db[WEBHOOK_ATTEMPTS].find(query).sort("_id", -1).limit(limit))

    @driver_errors
    async def get_webhook_attempt(self, webhook_id: str, delivery_id: str) -> WebhookAttempt | None:
        doc = await self._db[WEBHOOK_ATTEMPTS].find_one(
            {"webhook_id": want_str(webhook_id, "webhook_id"), "delivery_id": want_str(delivery_id, "delivery_id")},
            sort=[("_id", -1)],
        )
        return WEBHOOK_ATTEMPT_DOCS.record(doc) if doc else None

    @driver_errors
    async def prune_webhook_attempts(self, webhook_id: str, keep: int) -> int:
        query: Document = {"webhook_id": want_str(webhook_id, "webhook_id")}
        cutoff = (
            await self._db[WEBHOOK_ATTEMPTS]
            .find(query, {"_id": 1})
            .sort("_id", -1)
            .skip(max(want_int(keep, "keep"), 0))
            .limit(1)
            .to_list(None)
        )
        if not cutoff:
            return 0
        result = await self._db[WEBHOOK_ATTEMPTS].delete_many({**query, "_id": {"$lte": cutoff[0]["_id"]}})
        return result.deleted_count
