"""Invitations by link, for SQLiteStore."""

from __future__ import annotations

import sqlite3

from app.domain.invitations import Invitation
from app.domain.models import Event, EventDraft, Member
from app.store.base import AlreadyMember, NotFound
from app.store.sqlite_boards import insert_member
from app.store.sqlite_events import append_event, insert_with_event
from app.store.sqlite_pool import SQLiteStoreBase, reads, writes
from app.store.sqlite_records import Rows

INVITATION_ROWS = Rows(Invitation)
_PENDING = "accepted_at IS NULL AND revoked_at IS NULL"


class SQLiteInvitations(SQLiteStoreBase):
    @writes
    def create_invitation(self, conn: sqlite3.Connection, invitation: Invitation, event: EventDraft) -> Event:
        return insert_with_event(conn, INVITATION_ROWS, "invitations", invitation, event)

    get_invitation = INVITATION_ROWS.getter("invitations")
    get_invitation_by_token_hash = INVITATION_ROWS.getter("invitations", "token_hash")

    @reads
    def list_invitations(self, conn: sqlite3.Connection, board_id: str) -> list[Invitation]:
        return INVITATION_ROWS.find(
            conn, "invitations", f"board_id = ? AND {_PENDING} ORDER BY created_at, id", (board_id,)
        )

    @writes
    def revoke_invitation(self, conn: sqlite3.Connection, invitation_id: str, at: str, event: EventDraft) -> Event:
        row = conn.execute(
            f"UPDATE invitations SET revoked_at = ? WHERE id = ? AND {_PENDING} RETURNING board_id", (at, invitation_id)
        ).fetchone()
        if row is None:
            raise NotFound(f"invitation {invitation_id}")
        return append_event(conn, row["board_id"], event)

    @writes
    def accept_invitation(
        self, conn: sqlite3.Connection, invitation_id: str, member: Member, event: EventDraft
    ) -> Event:
        row = conn.execute(
            f"UPDATE invitations SET accepted_at = ?, accepted_by = ? WHERE id = ? AND board_id = ? AND {_PENDING}"
            " AND expires_at > ? RETURNING board_id",
            (member.added_at, member.user_id, invitation_id, member.board_id, member.added_at),
        ).fetchone()
        if row is None:
            raise NotFound(f"invitation {invitation_id}")
        appended = append_event(conn, member.board_id, event)
        if not insert_member(conn, member):
            # Raising rolls the whole write back: the invitation stays pending.
            raise AlreadyMember(f"{member.user_id} on {member.board_id}")
        return appended
