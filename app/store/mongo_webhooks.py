"""Webhooks and their delivery log, for MongoStore (see mongo.py).

Lease-holder writes are single conditional updates on the webhook document
(``lease_owner: owner`` in the filter), so they are atomic without a transaction; only
``disable_webhook`` also appends a board event, through the board writer like every
other event append.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import ReturnDocument

from app.domain.models import Event, EventDraft
from app.domain.webhooks import Webhook, WebhookAttempt, WebhookProgress
from app.store.base import NotFound
from app.store.mongo_events import append_event
from app.store.mongo_records import Document, checked_draft, want_int, want_optional_str, want_str, want_str_list
from app.store.mongo_schema import BOARDS, WEBHOOK_ATTEMPTS, WEBHOOKS
from app.store.mongo_tx import MongoStoreBase, Session, driver_errors


def _webhook_doc(webhook: Webhook) -> Document:
    return {
        "_id": want_str(webhook.id, "id"),
        "board_id": want_str(webhook.board_id, "board_id"),
        "created_by": want_str(webhook.created_by, "created_by"),
        "created_at": want_str(webhook.created_at, "created_at"),
        "secret": want_str(webhook.secret, "secret"),
        "cursor": want_int(webhook.cursor, "cursor"),
        "failures": want_int(webhook.failures, "failures"),
        "next_attempt_at": want_optional_str(webhook.next_attempt_at, "next_attempt_at"),
        "redeliveries": [want_int(seq, "redeliveries") for seq in webhook.redeliveries],
        "lease_owner": want_optional_str(webhook.lease_owner, "lease_owner"),
        "lease_until": want_optional_str(webhook.lease_until, "lease_until"),
        **_settings(webhook),
    }


def _settings(webhook: Webhook) -> Document:
    """The fields ``update_webhook`` replaces."""
    return {
        "url": want_str(webhook.url, "url"),
        "events": None if webhook.events is None else want_str_list(webhook.events, "events"),
        "active": bool(webhook.active),
        "disabled_reason": want_optional_str(webhook.disabled_reason, "disabled_reason"),
        "updated_at": want_str(webhook.updated_at, "updated_at"),
    }


def _webhook_record(doc: Mapping[str, Any]) -> Webhook:
    events = doc.get("events")
    return Webhook(
        id=doc["_id"], board_id=doc["board_id"], url=doc["url"], secret=doc["secret"],
        events=None if events is None else list(events), active=bool(doc["active"]),
        created_by=doc["created_by"], created_at=doc["created_at"], updated_at=doc["updated_at"],
        cursor=int(doc["cursor"]), failures=int(doc["failures"]), next_attempt_at=doc.get("next_attempt_at"),
        disabled_reason=doc.get("disabled_reason"), redeliveries=[int(seq) for seq in doc.get("redeliveries", [])],
        lease_owner=doc.get("lease_owner"), lease_until=doc.get("lease_until"),
    )


def _attempt_doc(attempt: WebhookAttempt) -> Document:
    return {
        "_id": want_str(attempt.id, "id"),
        "webhook_id": want_str(attempt.webhook_id, "webhook_id"),
        "board_id": want_str(attempt.board_id, "board_id"),
        "delivery_id": want_str(attempt.delivery_id, "delivery_id"),
        "seq": want_int(attempt.seq, "seq"),
        "event_type": want_str(attempt.event_type, "event_type"),
        "attempt": want_int(attempt.attempt, "attempt"),
        "manual": bool(attempt.manual),
        "status_code": None if attempt.status_code is None else want_int(attempt.status_code, "status_code"),
        "latency_ms": want_int(attempt.latency_ms, "latency_ms"),
        "error": want_optional_str(attempt.error, "error"),
        "response_body": want_optional_str(attempt.response_body, "response_body"),
        "at": want_str(attempt.at, "at"),
    }


def _attempt_record(doc: Mapping[str, Any]) -> WebhookAttempt:
    return WebhookAttempt(**{key: doc[key] for key in _ATTEMPT_FIELDS}, id=doc["_id"])


_ATTEMPT_FIELDS = ("webhook_id", "board_id", "delivery_id", "seq", "event_type", "attempt", "manual", "status_code",
                   "latency_ms", "error", "response_body", "at")


def _lease_is_free(now: str) -> Document:
    return {"$or": [{"lease_owner": None}, {"lease_until": {"$lte": now}}]}


class MongoWebhooks(MongoStoreBase):
    @driver_errors
    async def create_webhook(self, webhook: Webhook) -> None:
        document = _webhook_doc(webhook)
        if await self._db[BOARDS].find_one({"_id": document["board_id"]}, {"_id": 1}) is None:
            raise NotFound(f"board {document['board_id']}")
        await self._db[WEBHOOKS].insert_one(document)

    @driver_errors
    async def get_webhook(self, webhook_id: str) -> Webhook | None:
        doc = await self._db[WEBHOOKS].find_one({"_id": want_str(webhook_id, "webhook_id")})
        return _webhook_record(doc) if doc else None

    @driver_errors
    async def list_webhooks(self, board_id: str) -> list[Webhook]:
        docs = await self._db[WEBHOOKS].find({"board_id": want_str(board_id, "board_id")}).sort("_id", 1).to_list(None)
        return [_webhook_record(doc) for doc in docs]

    @driver_errors
    async def update_webhook(self, webhook: Webhook, reset_backoff: bool) -> Webhook | None:
        changes = _settings(webhook)
        if reset_backoff:
            changes.update(failures=0, next_attempt_at=None)
        doc = await self._db[WEBHOOKS].find_one_and_update(
            {"_id": want_str(webhook.id, "id")}, {"$set": changes}, return_document=ReturnDocument.AFTER)
        return _webhook_record(doc) if doc else None

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
        due = {"$or": [{"next_attempt_at": None}, {"next_attempt_at": {"$lte": now}},
                       {"redeliveries.0": {"$exists": True}}]}
        query = {"active": True, "_id": {"$gt": want_optional_str(after_id, "after_id") or ""},
                 "$and": [_lease_is_free(now), due]}
        docs = await self._db[WEBHOOKS].find(query).sort("_id", 1).limit(limit).to_list(None)
        return [_webhook_record(doc) for doc in docs]

    @driver_errors
    async def claim_webhook(self, webhook_id: str, owner: str, now: str, until: str) -> Webhook | None:
        owner = want_str(owner, "owner")
        query = {"_id": want_str(webhook_id, "webhook_id"),
                 "$or": [*_lease_is_free(want_str(now, "now"))["$or"], {"lease_owner": owner}]}
        doc = await self._db[WEBHOOKS].find_one_and_update(
            query, {"$set": {"lease_owner": owner, "lease_until": want_str(until, "until")}},
            return_document=ReturnDocument.AFTER)
        return _webhook_record(doc) if doc else None

    @driver_errors
    async def release_webhook(self, webhook_id: str, owner: str) -> None:
        await self._db[WEBHOOKS].update_one(
            {"_id": want_str(webhook_id, "webhook_id"), "lease_owner": want_str(owner, "owner")},
            {"$set": {"lease_owner": None, "lease_until": None}})

    @driver_errors
    async def record_webhook_attempt(self, webhook_id: str, owner: str, attempt: WebhookAttempt | None,
                                     progress: WebhookProgress | None) -> Webhook | None:
        held = {"_id": want_str(webhook_id, "webhook_id"), "lease_owner": want_str(owner, "owner")}
        if attempt is not None:
            document = _attempt_doc(attempt)
            if await self._db[WEBHOOKS].find_one({"_id": held["_id"]}, {"_id": 1}) is not None:
                await self._db[WEBHOOK_ATTEMPTS].insert_one(document)
        if progress is None:
            doc = await self._db[WEBHOOKS].find_one(held)
        else:
            changes = {"cursor": want_int(progress.cursor, "cursor"), "failures": want_int(progress.failures, "failures"),
                       "next_attempt_at": want_optional_str(progress.next_attempt_at, "next_attempt_at")}
            doc = await self._db[WEBHOOKS].find_one_and_update(
                held, {"$set": changes}, return_document=ReturnDocument.AFTER)
        return _webhook_record(doc) if doc else None

    @driver_errors
    async def disable_webhook(self, webhook_id: str, owner: str, reason: str, event: EventDraft) -> Event | None:
        draft = checked_draft(event)
        query = {"_id": want_str(webhook_id, "webhook_id"), "lease_owner": want_str(owner, "owner"), "active": True}
        changes = {"active": False, "disabled_reason": want_str(reason, "reason"), "updated_at": draft.at,
                   "lease_owner": None, "lease_until": None}

        async def body(session: Session) -> Event | None:
            before = await self._db[WEBHOOKS].find_one_and_update(
                query, {"$set": changes}, projection={"board_id": 1}, session=session)
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
        query = {"_id": want_str(webhook_id, "webhook_id"),
                 "$or": [{"redeliveries": seq}, {f"redeliveries.{limit - 1}": {"$exists": False}}]}
        result = await self._db[WEBHOOKS].update_one(query, {"$addToSet": {"redeliveries": seq}})
        return result.matched_count == 1

    @driver_errors
    async def pop_webhook_redelivery(self, webhook_id: str, owner: str) -> int | None:
        before = await self._db[WEBHOOKS].find_one_and_update(
            {"_id": want_str(webhook_id, "webhook_id"), "lease_owner": want_str(owner, "owner"),
             "redeliveries.0": {"$exists": True}},
            {"$pop": {"redeliveries": -1}}, projection={"redeliveries": 1}, return_document=ReturnDocument.BEFORE)
        return None if before is None else int(before["redeliveries"][0])

    @driver_errors
    async def list_webhook_attempts(self, webhook_id: str, before_id: str | None,
                                    limit: int) -> list[WebhookAttempt]:
        if want_int(limit, "limit") <= 0:
            return []
        query: Document = {"webhook_id": want_str(webhook_id, "webhook_id")}
        if before_id is not None:
            query["_id"] = {"$lt": want_str(before_id, "before_id")}
        docs = await self._db[WEBHOOK_ATTEMPTS].find(query).sort("_id", -1).limit(limit).to_list(None)
        return [_attempt_record(doc) for doc in docs]

    @driver_errors
    async def get_webhook_attempt(self, webhook_id: str, delivery_id: str) -> WebhookAttempt | None:
        doc = await self._db[WEBHOOK_ATTEMPTS].find_one(
            {"webhook_id": want_str(webhook_id, "webhook_id"), "delivery_id": want_str(delivery_id, "delivery_id")},
            sort=[("_id", -1)])
        return _attempt_record(doc) if doc else None

    @driver_errors
    async def prune_webhook_attempts(self, webhook_id: str, keep: int) -> int:
        query: Document = {"webhook_id": want_str(webhook_id, "webhook_id")}
        cutoff = await self._db[WEBHOOK_ATTEMPTS].find(query, {"_id": 1}).sort("_id", -1).skip(
            max(want_int(keep, "keep"), 0)).limit(1).to_list(None)
        if not cutoff:
            return 0
        result = await self._db[WEBHOOK_ATTEMPTS].delete_many({**query, "_id": {"$lte": cutoff[0]["_id"]}})
        return result.deleted_count
