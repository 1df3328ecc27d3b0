"""Boards and their members, for MongoStore (see mongo.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.errors import DuplicateKeyError

from app.domain.models import Board, Event, EventDraft, Member, Role
from app.store.base import AlreadyMember, LastOwner, NotFound
from app.store.mongo_attachments import delete_attachment_files
from app.store.mongo_events import append_event
from app.store.mongo_records import Document, Documents, checked_draft, fields_of, want_page_size, want_str
from app.store.mongo_schema import (
    ATTACHMENTS,
    BOARD_TRASH,
    BOARDS,
    COMMENTS,
    EVENTS,
    INVITATIONS,
    MEMBERS,
    NOTIFICATIONS,
    RECURRENCES,
    TASK_DOCUMENT_UPDATES,
    TASKS,
    TRASH,
    TRASHED_MEMBERS,
    USERS,
    WATCHES,
    WEBHOOK_ATTEMPTS,
    WEBHOOKS,
    Database,
)
from app.store.mongo_tx import BoardWriter, MongoStoreBase, Session, driver_errors

BOARD_DOCS = Documents(Board)
# A board in the trash carries trashed_at (not part of the Board record) and reads as gone.
NOT_TRASHED: Document = {"trashed_at": None}
MEMBER_DOCS = Documents(Member, id_field=None)


def member_key(board_id: str, user_id: str) -> str:
    """A member's _id: the pair itself, so a duplicate is refused by the primary key too."""
    return f"{want_str(board_id, 'board_id')}:{want_str(user_id, 'user_id')}"


def member_doc(member: Member) -> Document:
    return {"_id": member_key(member.board_id, member.user_id), **MEMBER_DOCS.doc(member)}


async def insert_member(db: Database, document: Document, session: Session) -> None:
    """Insert the membership ``document`` (of member_doc); AlreadyMember when the user is on the board."""
    try:
        await db[MEMBERS].insert_one(document, session=session)
    except DuplicateKeyError as exc:
        raise AlreadyMember(f"{document['user_id']} on {document['board_id']}") from exc


def member_record(doc: Mapping[str, Any], user: Mapping[str, Any] | None = None) -> Member:
    return MEMBER_DOCS.record(doc, email=user["email"] if user else "", name=user["name"] if user else "")


async def delete_board_documents(db: Database, writer: BoardWriter, match: Document) -> bool:
    """Delete the board matching ``match`` (its _id, perhaps more) with all it holds, in
    the trash or not; False if no board matched."""
    board_id = match["_id"]

    async def body(session: Session) -> bool:
        # The board document goes first: without a transaction, every later write to
        # the board then fails with NotFound even if the clean-up below is cut short.
        if (await db[BOARDS].delete_one(match, session=session)).deleted_count == 0:
            return False
        await db[BOARD_TRASH].delete_one({"_id": board_id}, session=session)
        for name in (
            MEMBERS,
            TRASHED_MEMBERS,
            TASKS,
            EVENTS,
            COMMENTS,
            ATTACHMENTS,
            WEBHOOKS,
            WEBHOOK_ATTEMPTS,
            NOTIFICATIONS,
            TASK_DOCUMENT_UPDATES,
            WATCHES,
            RECURRENCES,
            TRASH,
            INVITATIONS,
        ):
            await db[name].delete_many({"board_id": board_id}, session=session)
        return True

    deleted = await writer.run(body, board_id)
    # Also when no board matched but none is left either: a delete cut short is finished.
    if deleted or not await db[BOARDS].count_documents({"_id": board_id}, limit=1):
        await delete_attachment_files(db, "board_id", board_id)
    return deleted


class MongoBoards(MongoStoreBase):
    # -- boards ----------------------------------------------------------------------

    @driver_errors
    async def create_board(self, board: Board, owner: Member) -> None:
        board_document, owner_document = BOARD_DOCS.doc(board), member_doc(owner)

        async def body(session: Session) -> None:
            await self._db[BOARDS].insert_one(board_document, session=session)
            await self._db[MEMBERS].insert_one(owner_document, session=session)

        await self._writer.run(body)

    @driver_errors
    async def get_board(self, board_id: str) -> Board | None:
        return await BOARD_DOCS.one(self._db[BOARDS], {"_id": want_str(board_id, "board_id"), **NOT_TRASHED})

    @driver_errors
    async def list_boards_for_user(
        self, user_id: str, after_board_id: str | None, limit: int, archived: bool = False
    ) -> list[tuple[Board, Role]]:
        if want_page_size(limit) == 0:
            return []
        found: list[tuple[Board, Role]] = []
        after = want_str(after_board_id, "after_board_id") if after_board_id is not None else None
        # Memberships are read a page at a time and their boards joined; archived (or
        # unarchived) boards left out may take another page to fill this one.
        while len(found) < limit:
            query: Document = {"user_id": want_str(user_id, "user_id")}
            if after is not None:
                query["board_id"] = {"$gt": after}
            memberships = await (
                self._db[MEMBERS].find(query, {"board_id": 1, "role": 1}).sort("board_id", 1).limit(limit)
            ).to_list(None)
            if not memberships:
                break
            board_ids = [doc["board_id"] for doc in memberships]
            archive = {"$ne": None} if archived else None
            boards = await (
                self._db[BOARDS].find({"_id": {"$in": board_ids}, "archived_at": archive, **NOT_TRASHED}).to_list(None)
            )
            by_id = {doc["_id"]: doc for doc in boards}
            # A board deleted between the two reads is simply left out.
            found += [
                (BOARD_DOCS.record(by_id[doc["board_id"]]), Role(doc["role"]))
                for doc in memberships
                if doc["board_id"] in by_id
            ]
            if len(memberships) < limit:
                break
            after = board_ids[-1]
        return found[:limit]

    @driver_errors
    async def set_board_archived(self, board_id: str, archived_at: str | None, event: EventDraft) -> Event:
        board_id, draft = want_str(board_id, "board_id"), checked_draft(event)
        value = None if archived_at is None else want_str(archived_at, "archived_at")

        async def body(session: Session) -> Event:
            return await append_event(self._db, board_id, draft, session, board_changes={"archived_at": value})

        return await self._writer.run(body, board_id)

    @driver_errors
    async def update_board(self, board: Board, event: EventDraft, expected_updated_at: str | None = None) -> Event:
        board_id, changes, draft = (
            want_str(board.id, "id"),
            fields_of(
                BOARD_DOCS.doc(board), "name", "description", "columns", "column_names", "wip_limits", "updated_at"
            ),
            checked_draft(event),
        )
        match = None if expected_updated_at is None else {"updated_at": want_str(expected_updated_at, "updated_at")}

        async def body(session: Session) -> Event:
            # The change rides on the same single-document update that takes the seq.
            return await append_event(self._db, board_id, draft, session, board_changes=changes, board_match=match)

        return await self._writer.run(body, board_id)

    @driver_errors
    async def delete_board(self, board_id: str) -> bool:
        return await delete_board_documents(self._db, self._writer, {"_id": want_str(board_id, "board_id")})

    # -- members ---------------------------------------------------------------------

    @driver_errors
    async def get_member(self, board_id: str, user_id: str) -> Member | None:
        doc = await self._db[MEMBERS].find_one({"_id": member_key(board_id, user_id)})
        return member_record(doc) if doc else None

    @driver_errors
    async def list_members(self, board_id: str) -> list[Member]:
        members = await (
            self._db[MEMBERS].find({"board_id": want_str(board_id, "board_id")}).sort([("added_at", 1), ("user_id", 1)])
        ).to_list(None)
        if not members:
            return []
        user_ids = [doc["user_id"] for doc in members]
        users = await (
            self._db[USERS].find({"_id": {"$in": user_ids}}, {"email": 1, "name": 1}).batch_size(len(user_ids))
        ).to_list(None)
        by_id = {doc["_id"]: doc for doc in users}
        return [member_record(doc, by_id.get(doc["user_id"])) for doc in members]

    @driver_errors
    async def add_member(self, member: Member, event: EventDraft) -> Event:
        document, draft = member_doc(member), checked_draft(event)

        async def body(session: Session) -> Event:
            await insert_member(self._db, document, session)
            return await append_event(self._db, document["board_id"], draft, session)

        return await self._writer.run(body, document["board_id"])

    @driver_errors
    async def update_member_role(self, board_id: str, user_id: str, role: Role, event: EventDraft) -> Event:
        key, new_role, draft = member_key(board_id, user_id), Role(want_str(role, "role")), checked_draft(event)

        async def body(session: Session) -> Event:
            current = await self._current_member(key, session)
            if current.role == Role.OWNER and new_role != Role.OWNER:
                await self._ensure_another_owner(current.board_id, session)
            await self._db[MEMBERS].update_one({"_id": key}, {"$set": {"role": new_role.value}}, session=session)
            return await append_event(self._db, current.board_id, draft, session)

        return await self._writer.run(body, board_id)

    @driver_errors
    async def remove_member(self, board_id: str, user_id: str, event: EventDraft) -> Event:
        key, draft = member_key(board_id, user_id), checked_draft(event)

        async def body(session: Session) -> Event:
            current = await self._current_member(key, session)
            if current.role == Role.OWNER:
                await self._ensure_another_owner(current.board_id, session)
            await self._db[MEMBERS].delete_one({"_id": key}, session=session)
            return await append_event(self._db, current.board_id, draft, session)

        return await self._writer.run(body, board_id)

    async def _current_member(self, key: str, session: Session) -> Member:
        doc = await self._db[MEMBERS].find_one({"_id": key}, session=session)
        if doc is None:
            raise NotFound(f"member {key}")
        return member_record(doc)

    async def _ensure_another_owner(self, board_id: str, session: Session) -> None:
        # Race-free in a transaction because the event append writes the board document
        # (see mongo_tx). Without transactions two concurrent demotions can both pass.
        owners = (
            await self._db[MEMBERS]
            .find({"board_id": board_id, "role": Role.OWNER.value}, {"_id": 1}, session=session)
            .limit(2)
            .to_list(None)
        )
        if len(owners) < 2:
            raise LastOwner(board_id)
