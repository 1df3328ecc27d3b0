"""Invitations to a board for an email that has no account (yet): a single-use link,
expiring and revocable, that joins whoever signs up or signs in through it with the
invited role. Only the token's sha256 is stored; the link is shown once, to its creator
(and handed to an ``InvitationSender``, e.g. the email sender)."""

from __future__ import annotations

from enum import StrEnum

from app.domain.models import Role
from app.domain.shape import field, record


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


@record
class Invitation:
    id: str
    board_id: str
    email: str  # lower-case
    role: Role
    token_hash: str = field(view=None)
    created_by: str
    created_at: str
    expires_at: str
    accepted_at: str | None = None
    accepted_by: str | None = None
    revoked_at: str | None = None

    def status(self, now: str) -> InvitationStatus:
        if self.accepted_at is not None:
            return InvitationStatus.ACCEPTED
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        return InvitationStatus.PENDING if now < self.expires_at else InvitationStatus.EXPIRED
