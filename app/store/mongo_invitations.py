"""Invitations by link, for MongoStore (see mongo.py)."""

from __future__ import annotations

from app.domain.invitations import Invitation
from app.domain.models import Event, EventDraft, Member
from app.store.base import AlreadyMember, NotFound
from app.store.mongo_boards import insert_member, member_doc
from app.store.mongo_events import append_event, insert_with_event
from app.store.mongo_records import Document, Documents, checked_draft, want_str
from app.store.mongo_schema import INVITATIONS, MEMBERS
from app.store.mongo_tx import MongoStoreBase, Session, driver_errors

INVITATION_DOCS = Documents(Invitation)
_PENDING: Document = {"accepted_at": None, "revoked_at": None}


class MongoInvitations(MongoStoreBase):
    @driver_errors
    async def create_invitation(self, invitation: Invitation, event: EventDraft) -> Event:
        return await insert_with_event(self, INVITATIONS, INVITATION_DOCS.doc(invitation), event)

    get_invitation = INVITATION_DOCS.getter(INVITATIONS, "invitation_id")

    get_invitation_by_token_hash = INVITATION_DOCS.getter(INVITATIONS, "token_hash", "token_hash")

    @driver_errors
    async def list_invitations(self, board_id: str) -> list[Invitation]:
        return await INVITATION_DOCS.all(
            self._db[INVITATIONS]
            .find({"board_id": want_str(board_id, "board_id"), **_PENDING})
            .sort([("created_at", 1), ("_id", 1)])
        )

    @driver_errors
    async def revoke_invitation(self, invitation_id: str, at: str, event: EventDraft) -> Event:
        invitation_id, at, draft = want_str(invitation_id, "invitation_id"), want_str(at, "at"), checked_draft(event)

        async def body(session: Session) -> Event:
            doc = await self._db[INVITATIONS].find_one_and_update(
                {"_id": invitation_id, **_PENDING}, {"$set": {"revoked_at": at}}, {"board_id": 1}, session=session
            )
            if doc is None:
                raise NotFound(f"invitation {invitation_id}")
            return await append_event(self._db, doc["board_id"], draft, session)

        return await self._writer.run(body)

    @driver_errors
    async def accept_invitation(self, invitation_id: str, member: Member, event: EventDraft) -> Event:
        invitation_id, draft = want_str(invitation_id, "invitation_id"), checked_draft(event)
        document = member_doc(member)
        at = want_str(member.added_at, "added_at")

        async def body(session: Session) -> Event:
            # Checked first, so that without transactions a member already there leaves
            # the invitation pending (inside one, the failed insert would undo it anyway).
            if await self._db[MEMBERS].find_one({"_id": document["_id"]}, {"_id": 1}, session=session):
                raise AlreadyMember(f"{member.user_id} on {member.board_id}")
            taken = await self._db[INVITATIONS].update_one(
                {"_id": invitation_id, "board_id": document["board_id"], **_PENDING, "expires_at": {"$gt": at}},
                {"$set": {"accepted_at": at, "accepted_by": document["user_id"]}},
                session=session,
            )
            if taken.matched_count == 0:
                raise NotFound(f"invitation {invitation_id}")
            await insert_member(self._db, document, session)
            return await append_event(self._db, document["board_id"], draft, session)

        return await self._writer.run(body, document["board_id"])
