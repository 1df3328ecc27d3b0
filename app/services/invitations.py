"""Invitations by link for people without an account (app.domain.invitations).

An admin invites an email with a role; the link (``<base>/invite#<token>``) is answered
once, to them, and handed to every ``InvitationSender`` registered with ``add_sender``:
that is where an email sender hooks in. Whoever opens the link, signs up or signs in and
accepts it joins the board with the invited role: the link is the credential (single use,
expiring, revocable), like a password-reset link. Each change is an event in the board's
log: ``invitation.created``, ``invitation.revoked``, and on acceptance ``member.added``
(its data names the ``invitation_id``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import secrets
from datetime import timedelta
from typing import Any, Protocol

from app.domain import clock
from app.domain.errors import ConflictError, NotFoundError
from app.domain.ids import new_id
from app.domain.invitations import Invitation, InvitationStatus
from app.domain.models import Board, EventDraft, Member, Role, User
from app.domain.request_context import board_allowed
from app.domain.views import member_view, record_view
from app.events.publisher import EventPublisher
from app.services.access import board_not_found, require_role
from app.services.boards import check_may_grant
from app.services.publishing import publish_change
from app.services.wiring import service
from app.store.base import AlreadyMember, BoardStore, InvitationStore, NotFound, UserStore

log = logging.getLogger(__name__)

INVITE_PATH = "/invite#"
_view = record_view(Invitation)


def invitation_view(invitation: Invitation, now: str | None = None) -> dict[str, Any]:
    return {**_view(invitation), "status": invitation.status(now or clock.now()).value}


def hash_invitation_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_not_found() -> NotFoundError:
    return NotFoundError("invitation_not_found", "No such invitation.")


def already_member() -> ConflictError:
    return ConflictError("already_member", "This user is already a member of the board.")


_UNUSABLE = {
    InvitationStatus.ACCEPTED: ("invitation_used", "This invitation was already used."),
    InvitationStatus.REVOKED: ("invitation_revoked", "This invitation was revoked."),
    InvitationStatus.EXPIRED: ("invitation_expired", "This invitation has expired; ask for a new one."),
}


class InvitationSender(Protocol):
    """Told of each new invitation, after it is stored: e.g. sends the link by email."""

    async def send_invitation(self, invitation: Invitation, link: str, board: Board, inviter: User) -> None: ...


class InvitationServiceStore(BoardStore, InvitationStore, UserStore, Protocol): ...


@service
class InvitationService:
    _ttl: timedelta  # TASKWIRE_INVITATION_TTL_DAYS
    _store: InvitationServiceStore
    _publisher: EventPublisher
    _senders: list[InvitationSender] = dataclasses.field(init=False, default_factory=list)

    def add_sender(self, sender: InvitationSender) -> None:
        self._senders.append(sender)

    async def create(self, actor: User, board_id: str, email: str, role: Role, base_url: str) -> tuple[Invitation, str]:
        """The invitation and its link (shown this once: only the token's hash is kept)."""
        acting = await require_role(self._store, board_id, actor.id, Role.ADMIN)
        check_may_grant(acting, role)
        board = await self._store.get_board(board_id)
        if board is None:
            raise board_not_found()
        email = email.strip().lower()
        existing = await self._store.get_user_by_email(email)
        if existing is not None and await self._store.get_member(board_id, existing.id) is not None:
            raise already_member()
        token = secrets.token_urlsafe(32)
        now = clock.now()
        invitation = Invitation(
            id=new_id(),
            board_id=board_id,
            email=email,
            role=role,
            token_hash=hash_invitation_token(token),
            created_by=actor.id,
            created_at=now,
            expires_at=clock.format_time(clock.parse_time(now) + self._ttl),
        )
        draft = EventDraft("invitation.created", actor.id, now, invitation_view(invitation, now))
        await publish_change(self._publisher, self._store.create_invitation(invitation, draft), board_not_found)
        link = base_url.rstrip("/") + INVITE_PATH + token
        for sender in self._senders:
            try:
                await sender.send_invitation(invitation, link, board, actor)
            except Exception:
                # The invitation stands: its creator has the link to pass on by hand.
                log.exception("invitation %s: a sender failed", invitation.id)
        return invitation, link

    async def list(self, actor: User, board_id: str) -> list[Invitation]:
        await require_role(self._store, board_id, actor.id, Role.ADMIN)
        return await self._store.list_invitations(board_id)

    async def revoke(self, actor: User, board_id: str, invitation_id: str) -> None:
        await require_role(self._store, board_id, actor.id, Role.ADMIN)
        invitation = await self._store.get_invitation(invitation_id)
        if invitation is None or invitation.board_id != board_id:
            raise invitation_not_found()
        at = clock.now()
        revoked = dataclasses.replace(invitation, revoked_at=at)
        draft = EventDraft("invitation.revoked", actor.id, at, invitation_view(revoked, at))
        try:
            event = await self._store.revoke_invitation(invitation_id, at, draft)
        except NotFound:
            raise _unusable(invitation) from None
        await self._publisher.publish(event)

    async def lookup(self, token: str) -> tuple[Invitation, Board, str]:
        """What the link's page shows before anyone signs in: the invitation (any status),
        its board and who sent it."""
        invitation = await self._store.get_invitation_by_token_hash(hash_invitation_token(token))
        board = None if invitation is None else await self._store.get_board(invitation.board_id)
        if invitation is None or board is None:
            raise invitation_not_found()
        inviter = await self._store.get_user(invitation.created_by)
        return invitation, board, inviter.name if inviter else ""

    async def admits(self, token: str, email: str) -> bool:
        """Whether the link invites ``email`` and can still be accepted: what lets its invitee
        create an account while registration is closed. Only the invited address: the link
        alone opens no door for anyone else."""
        try:
            invitation, _, _ = await self.lookup(token)
        except NotFoundError:
            return False
        return invitation.email == email.strip().lower() and invitation.status(clock.now()) is InvitationStatus.PENDING

    async def accept(self, actor: User, token: str) -> tuple[Board, Member]:
        invitation, board, _ = await self.lookup(token)
        if not board_allowed(board.id):
            raise invitation_not_found()  # an API token held to other boards joins none
        if invitation.status(clock.now()) is not InvitationStatus.PENDING:
            raise _unusable(invitation)
        at = clock.now()
        member = Member(board.id, actor.id, invitation.role, at, email=actor.email, name=actor.name)
        draft = EventDraft("member.added", actor.id, at, {**member_view(member), "invitation_id": invitation.id})
        try:
            event = await self._store.accept_invitation(invitation.id, member, draft)
        except AlreadyMember:
            raise already_member() from None
        except NotFound:
            current = await self._store.get_invitation(invitation.id)
            raise (_unusable(current) if current else invitation_not_found()) from None
        await self._publisher.publish(event)
        return board, member


def _unusable(invitation: Invitation) -> ConflictError:
    status = invitation.status(clock.now())
    code, message = _UNUSABLE.get(status, ("invitation_expired", "This invitation can no longer be used."))
    return ConflictError(code, message)
