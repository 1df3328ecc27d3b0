"""The board event log, for MongoStore: ``append_event``, which every board change runs
through the board's writer (see mongo_tx), and the catch-up read."""

from __future__ import annotations

from pymongo import ReturnDocument

from app.domain.mail import outbox_of
from app.domain.models import (
    NOTIFICATIONS_KEPT_PER_USER,
    Event,
    EventDraft,
    Notification,
    notification_of,
)
from app.store.base import BoardChanged, NotFound
from app.store.mongo_mail import insert_outbox
from app.store.mongo_notifications import NOTIFICATION_DOCS
from app.store.mongo_records import Document, Documents, checked_draft, want_int, want_page_size, want_str
from app.store.mongo_schema import BOARDS, EVENTS, NOTIFICATIONS, TASKS, Database
from app.store.mongo_tx import MongoStoreBase, Session, driver_errors

EVENT_DOCS = Documents(Event, id_field=None)


async def append_event(
    db: Database,
    board_id: str,
    draft: EventDraft,
    session: Session,
    board_changes: Document | None = None,
    board_match: Document | None = None,
) -> Event:
    """Take the board's next seq and log the event; NotFound if the board is gone.

    Without a transaction (session None) the seq is taken and the event inserted after
    the change was applied: a refused change (conflict, duplicate) never leaves an event
    or a gap, but a crash between the steps loses the event or leaves a gap, concurrent
    writers may log in a different order than they applied, and a change to a board
    deleted meanwhile stays behind unreferenced. Seqs stay unique either way: the
    unique (board_id, seq) index and the atomic $inc see to that. ``board_match``: more the
    board must match for the change to apply (BoardChanged otherwise).
    """
    update: Document = {"$inc": {"seq": 1}}
    if board_changes:
        update["$set"] = board_changes
    board = await db[BOARDS].find_one_and_update(
        {"_id": board_id, **(board_match or {})},
        update,
        projection={"seq": 1},
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    if board is None:
        if board_match and await db[BOARDS].count_documents({"_id": board_id}, limit=1, session=session):
            raise BoardChanged(board_id)
        raise NotFound(f"board {board_id}")
    doc = EVENT_DOCS.doc(draft.logged(board_id, int(board["seq"])))
    await db[EVENTS].insert_one(doc, session=session)
    event = EVENT_DOCS.record(doc)
    if draft.notify:
        pairs = [(notification_of(event, notice), notice) for notice in draft.notify]
        event.notifications = [made for made, notice in pairs if "app" in notice.channels]
        if event.notifications:
            await insert_notifications(db, event.notifications, session)
        if mail := [message for made, notice in pairs for message in outbox_of(made, notice)]:
            await insert_outbox(db, mail, session)
    return event


async def delete_with_event(
    store: MongoStoreBase, collection: str, record_id: str, name: str, event: EventDraft, what: str
) -> Event:
    """Delete the document ``record_id`` (the argument ``name``) of ``collection`` and append
    its event to the document's board in one transaction; ``NotFound`` when there was none."""
    record_id, draft = want_str(record_id, name), checked_draft(event)

    async def body(session: Session) -> Event:
        deleted = await store._db[collection].find_one_and_delete(
            {"_id": record_id}, projection={"board_id": 1}, session=session
        )
        if deleted is None:
            raise NotFound(f"{what} {record_id}")
        return await append_event(store._db, deleted["board_id"], draft, session)

    return await store._writer.run(body)


async def insert_with_event(
    store: MongoStoreBase, collection: str, document: Document, event: EventDraft, *, of_task: str | None = None
) -> Event:
    """Insert ``document`` into ``collection`` and append its event to the document's board in
    one transaction; with ``of_task``, ``NotFound`` unless that task is still on the board."""
    draft = checked_draft(event)

    async def body(session: Session) -> Event:
        if of_task is not None:
            await ensure_task_on_board(store._db, of_task, document["board_id"], session)
        await store._db[collection].insert_one(document, session=session)
        return await append_event(store._db, document["board_id"], draft, session)

    return await store._writer.run(body, document["board_id"])


async def ensure_task_on_board(db: Database, task_id: str, board_id: str, session: Session) -> None:
    """``NotFound`` unless the task is on the board. A concurrent delete_task also writes the
    board document (its seq), so inside transactions the two conflict and the caller's
    transaction retries and sees the task gone."""
    task = await db[TASKS].find_one({"_id": task_id}, {"board_id": 1}, session=session)
    if task is None or task["board_id"] != board_id:
        raise NotFound(f"task {task_id}")


async def insert_notifications(db: Database, notifications: list[Notification], session: Session) -> None:
    """Store them and keep each notified user's newest NOTIFICATIONS_KEPT_PER_USER."""
    await db[NOTIFICATIONS].insert_many([NOTIFICATION_DOCS.doc(n) for n in notifications], session=session)
    for user_id in {n.user_id for n in notifications}:
        oldest_kept = (
            await db[NOTIFICATIONS]
            .find(
                {"user_id": user_id},
                {"_id": 1},
                session=session,
            )
            .sort("_id", -1)
            .skip(NOTIFICATIONS_KEPT_PER_USER - 1)
            .limit(1)
            .to_list(None)
        )
        if oldest_kept:
            await db[NOTIFICATIONS].delete_many(
                {"user_id": user_id, "_id": {"$lt": oldest_kept[0]["_id"]}}, session=session
            )


class MongoEvents(MongoStoreBase):
    @driver_errors
    async def list_events(self, board_id: str, after_seq: int, limit: int, task_id: str | None = None) -> list[Event]:
        if want_page_size(limit) == 0:
            return []
        query: Document = {"board_id": want_str(board_id, "board_id"), "seq": {"$gt": want_int(after_seq, "after_seq")}}
        if task_id is not None:
            # A task event's data is the task, a comment event's the comment (with task_id);
            # ids are unique across kinds, so no other event matches. One index per branch.
            task = want_str(task_id, "task_id")
            query = {"$or": [{**query, "data.id": task}, {**query, "data.task_id": task}]}
        return await EVENT_DOCS.all(self._db[EVENTS].find(query).sort("seq", 1).limit(limit).batch_size(limit))
