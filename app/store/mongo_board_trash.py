"""The trash of deleted boards, for MongoStore (see mongo.py): a trashed board keeps its
documents, its board document marked ``trashed_at``, and its members wait in
``trashed_members`` until it is restored."""

from __future__ import annotations

from app.domain.models import Event, EventDraft, Member
from app.domain.trash import TrashedBoard
from app.store.base import BoardChanged, NotFound
from app.store.mongo_boards import NOT_TRASHED, delete_board_documents, member_record
from app.store.mongo_events import append_event
from app.store.mongo_records import Document, Documents, checked_draft, want_page_size, want_str
from app.store.mongo_schema import BOARD_TRASH, BOARDS, MEMBERS, TRASHED_MEMBERS, USERS
from app.store.mongo_tx import MongoStoreBase, Session, driver_errors

BOARD_TRASH_DOCS = Documents(TrashedBoard)


class MongoBoardTrash(MongoStoreBase):
    @driver_errors
    async def trash_board(self, board_id: str, deleted_by: str, event: EventDraft) -> Event:
        board_id, deleted_by, draft = (
            want_str(board_id, "board_id"),
            want_str(deleted_by, "deleted_by"),
            checked_draft(event),
        )

        async def body(session: Session) -> Event:
            # The mark goes first, with the seq: without a transaction the board reads as
            # gone from then on, even if moving its members aside is cut short.
            try:
                appended = await append_event(
                    self._db, board_id, draft, session, board_changes={"trashed_at": draft.at}, board_match=NOT_TRASHED
                )
            except BoardChanged:
                raise NotFound(f"board {board_id}") from None
            board = await self._db[BOARDS].find_one({"_id": board_id}, {"name": 1, "description": 1}, session=session)
            assert board is not None  # marked just above, in this write
            entry = TrashedBoard(board_id, board["name"], board["description"], deleted_by, draft.at)
            await self._db[BOARD_TRASH].insert_one(BOARD_TRASH_DOCS.doc(entry), session=session)
            members = await self._db[MEMBERS].find({"board_id": board_id}, session=session).to_list(None)
            if members:
                await self._db[TRASHED_MEMBERS].insert_many(members, session=session)
            await self._db[MEMBERS].delete_many({"board_id": board_id}, session=session)
            return appended

        return await self._writer.run(body, board_id)

    get_trashed_board = BOARD_TRASH_DOCS.getter(BOARD_TRASH, "board_id")

    @driver_errors
    async def get_trashed_member(self, board_id: str, user_id: str) -> Member | None:
        doc = await self._db[TRASHED_MEMBERS].find_one(
            {"board_id": want_str(board_id, "board_id"), "user_id": want_str(user_id, "user_id")}
        )
        return member_record(doc) if doc else None

    @driver_errors
    async def list_trashed_boards(self, owner_id: str, limit: int) -> list[TrashedBoard]:
        return await self._trashed_boards_owned(owner_id, limit, solely=False)

    @driver_errors
    async def list_solely_owned_trashed_boards(self, owner_id: str, limit: int) -> list[TrashedBoard]:
        return await self._trashed_boards_owned(owner_id, limit, solely=True)

    async def _trashed_boards_owned(self, owner_id: str, limit: int, solely: bool) -> list[TrashedBoard]:
        if want_page_size(limit) == 0:
            return []
        owner_id = want_str(owner_id, "owner_id")
        owned = (
            await self._db[TRASHED_MEMBERS].find({"user_id": owner_id, "role": "owner"}, {"board_id": 1}).to_list(None)
        )
        board_ids = {doc["board_id"] for doc in owned}
        if solely and board_ids:
            shared = await (
                self._db[TRASHED_MEMBERS]
                .find(
                    {"board_id": {"$in": list(board_ids)}, "role": "owner", "user_id": {"$ne": owner_id}},
                    {"board_id": 1},
                )
                .to_list(None)
            )
            board_ids -= {doc["board_id"] for doc in shared}
        return await BOARD_TRASH_DOCS.all(
            self._db[BOARD_TRASH]
            .find({"_id": {"$in": list(board_ids)}})
            .sort([("deleted_at", -1), ("_id", -1)])
            .limit(limit)
        )

    @driver_errors
    async def restore_board(self, board_id: str, event: EventDraft) -> Event:
        board_id, draft = want_str(board_id, "board_id"), checked_draft(event)

        async def body(session: Session) -> Event:
            taken = await self._db[BOARD_TRASH].delete_one({"_id": board_id}, session=session)
            if taken.deleted_count == 0:
                raise NotFound(f"trashed board {board_id}")
            members = await self._db[TRASHED_MEMBERS].find({"board_id": board_id}, session=session).to_list(None)
            # Members whose account went meanwhile do not come back.
            users = await (
                self._db[USERS]
                .find({"_id": {"$in": [doc["user_id"] for doc in members]}}, {"_id": 1}, session=session)
                .to_list(None)
            )
            present = {doc["_id"] for doc in users}
            back: list[Document] = [doc for doc in members if doc["user_id"] in present]
            if back:
                await self._db[MEMBERS].insert_many(back, session=session)
            await self._db[TRASHED_MEMBERS].delete_many({"board_id": board_id}, session=session)
            return await append_event(self._db, board_id, draft, session, board_changes={"trashed_at": None})

        return await self._writer.run(body, board_id)

    @driver_errors
    async def purge_trashed_board(self, board_id: str) -> bool:
        match = {"_id": want_str(board_id, "board_id"), "trashed_at": {"$ne": None}}
        return await delete_board_documents(self._db, self._writer, match)

    @driver_errors
    async def list_expired_board_trash(self, deleted_before: str, limit: int) -> list[TrashedBoard]:
        query = {"deleted_at": {"$lt": want_str(deleted_before, "deleted_before")}}
        return await BOARD_TRASH_DOCS.page(self._db[BOARD_TRASH], query, [("deleted_at", 1), ("_id", 1)], limit)
