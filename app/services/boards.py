"""Boards and their members. Owners can do everything; admins manage members but never
owners; a board always keeps at least one owner."""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from app.domain import clock
from app.domain.columns import names_clash, resolve_columns
from app.domain.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from app.domain.ids import new_id
from app.domain.models import (
    DEFAULT_COLUMNS,
    ROLE_RANK,
    Board,
    Event,
    EventDraft,
    Member,
    Role,
    User,
)
from app.domain.views import board_view, member_view
from app.events.publisher import EventPublisher
from app.services.access import board_not_found, boards_for, require_role
from app.services.cache import BOARD_READ_TTL_SECONDS, ReadCache, decode_members, encode_members
from app.services.columns import check_removed_columns_are_empty, copy_of
from app.services.notifications import member_added_notices
from app.services.preferences import PreferenceService
from app.services.wiring import service
from app.store.base import AlreadyMember, BoardStore, EventStore, LastOwner, NotFound, TaskStore, UserStore

PERSONAL_BOARD_NAME = "My tasks"


def check_may_grant(acting: Member, role: Role) -> None:
    if ROLE_RANK[role] > ROLE_RANK[acting.role] or (role == Role.OWNER and acting.role != Role.OWNER):
        raise ForbiddenError("forbidden", f"Only owners can grant the {role.value} role.")


def _last_owner() -> ConflictError:
    return ConflictError("last_owner", "A board must keep at least one owner.")


def _resolved(entries: list[str], board: Board | None) -> tuple[list[str], dict[str, str]]:
    keys, names = resolve_columns(entries, board)
    if names_clash(keys, names):
        raise InvalidInputError("duplicate_column", "Two entries of columns name the same column, or share a name.")
    return keys, names


def _member_not_found() -> NotFoundError:
    return NotFoundError("member_not_found", "No such member on this board.")


class BoardServiceStore(BoardStore, EventStore, TaskStore, UserStore, Protocol): ...


@service
class BoardService:
    _store: BoardServiceStore
    _publisher: EventPublisher
    _cache: ReadCache
    _notices: PreferenceService

    async def create(
        self, actor: User, name: str, description: str = "", columns: list[str] | None = None
    ) -> tuple[Board, Role]:
        at = clock.now()
        keys, names = _resolved(columns or list(DEFAULT_COLUMNS), None)
        board = Board(
            id=new_id(),
            name=name.strip(),
            description=description,
            columns=keys,
            created_by=actor.id,
            created_at=at,
            updated_at=at,
            column_names=names,
        )
        await self._store.create_board(board, Member(board.id, actor.id, Role.OWNER, at))
        return board, Role.OWNER

    async def create_personal_board(self, user: User) -> Board:
        board, _ = await self.create(user, PERSONAL_BOARD_NAME)
        return board

    async def list_for(
        self, user: User, after_board_id: str | None, limit: int, archived: bool = False
    ) -> tuple[list[tuple[Board, Role]], bool]:
        """The user's boards: the archived ones only with ``archived``, else the others."""
        rows = await boards_for(self._store, user.id, after_board_id, limit + 1, archived)
        return rows[:limit], len(rows) > limit

    async def get(self, actor: User, board_id: str) -> tuple[Board, Role]:
        member = await require_role(self._store, board_id, actor.id, Role.VIEWER)
        board = await self._store.get_board(board_id)
        if board is None:
            raise board_not_found()
        return board, member.role

    async def update(self, actor: User, board_id: str, changes: dict[str, Any]) -> tuple[Board, Role]:
        member = await require_role(self._store, board_id, actor.id, Role.ADMIN)
        board = await self._store.get_board(board_id)
        if board is None:
            raise board_not_found()
        updated = copy_of(board)
        for field in ("name", "description"):
            if field in changes:
                setattr(updated, field, changes[field])
        if "columns" in changes:
            updated.columns, updated.column_names = _resolved(changes["columns"], board)
            updated.wip_limits = {key: limit for key, limit in board.wip_limits.items() if key in updated.columns}
            await check_removed_columns_are_empty(self._store, board, updated.columns)
        updated.updated_at = clock.now()
        draft = EventDraft("board.updated", actor.id, updated.updated_at, board_view(updated))
        try:
            event = await self._store.update_board(updated, draft)
        except NotFound:
            raise board_not_found() from None
        updated.seq = event.seq
        await self._publisher.publish(event)
        return updated, member.role

    async def set_archived(self, actor: User, board_id: str, archived: bool) -> tuple[Board, Role]:
        """Archive (out of the boards list, kept whole and usable by link) or bring back
        (admins and owners). Asking for the state it is in already changes nothing."""
        member = await require_role(self._store, board_id, actor.id, Role.ADMIN)
        board = await self._store.get_board(board_id)
        if board is None:
            raise board_not_found()
        if (board.archived_at is not None) == archived:
            return board, member.role
        changed = dataclasses.replace(board, archived_at=clock.now() if archived else None)
        draft = EventDraft(
            "board.archived" if archived else "board.unarchived", actor.id, clock.now(), board_view(changed)
        )
        try:
            event = await self._store.set_board_archived(board_id, changed.archived_at, draft)
        except NotFound:
            raise board_not_found() from None
        changed.seq = event.seq
        await self._publisher.publish(event)
        return changed, member.role

    async def delete(self, actor: User, board_id: str) -> None:
        """Delete a board for good at once (deleting an account does); a user's delete puts
        the board in the trash instead (``TrashService.trash_board``)."""
        await require_role(self._store, board_id, actor.id, Role.OWNER)
        await self._store.delete_board(board_id)
        await self._publisher.publish_board_deleted(board_id)

    async def events(
        self, actor: User, board_id: str, after_seq: int, limit: int, task_id: str | None = None
    ) -> tuple[list[Event], int]:
        """The activity feed / audit trail: events after ``after_seq`` (only one task's with
        ``task_id``: its history, kept after the task is deleted), and the latest seq."""
        board, _ = await self.get(actor, board_id)
        return await self._store.list_events(board_id, after_seq, limit, task_id), board.seq

    # -- members ---------------------------------------------------------------------
    async def list_members(self, actor: User, board_id: str) -> list[Member]:
        await require_role(self._store, board_id, actor.id, Role.VIEWER)
        if not self._cache.enabled:
            return await self._store.list_members(board_id)
        board = await self._store.get_board(board_id)
        if board is None:
            raise board_not_found()
        return await self._cache.get_or_load(
            f"members:{board_id}:{board.seq}",
            BOARD_READ_TTL_SECONDS,
            lambda: self._store.list_members(board_id),
            encode_members,
            decode_members,
        )

    async def add_member(self, actor: User, board_id: str, email: str, role: Role) -> Member:
        acting = await require_role(self._store, board_id, actor.id, Role.ADMIN)
        check_may_grant(acting, role)
        user = await self._store.get_user_by_email(email.strip().lower())
        if user is None:
            raise NotFoundError("user_not_found", "No account has this email; ask them to sign up first.")
        board = await self._store.get_board(board_id)
        if board is None:
            raise board_not_found()
        at = clock.now()
        member = Member(board_id, user.id, role, at, email=user.email, name=user.name)
        notify = await self._notices.route(member_added_notices(actor, board, member))
        draft = EventDraft("member.added", actor.id, at, member_view(member), notify=notify)
        try:
            event = await self._store.add_member(member, draft)
        except AlreadyMember:
            raise ConflictError("already_member", "This user is already a member of the board.") from None
        except NotFound:
            raise board_not_found() from None
        await self._publisher.publish(event)
        return member

    async def change_role(self, actor: User, board_id: str, user_id: str, role: Role) -> Member:
        acting = await require_role(self._store, board_id, actor.id, Role.ADMIN)
        target = await self._store.get_member(board_id, user_id)
        if target is None:
            raise _member_not_found()
        self._check_may_manage(acting, target)
        check_may_grant(acting, role)
        changed = dataclasses.replace(target, role=role)
        if (user := await self._store.get_user(user_id)) is not None:
            changed.email, changed.name = user.email, user.name
        draft = EventDraft("member.updated", actor.id, clock.now(), member_view(changed))
        try:
            event = await self._store.update_member_role(board_id, user_id, role, draft)
        except LastOwner:
            raise _last_owner() from None
        except NotFound:
            raise _member_not_found() from None
        await self._publisher.publish(event)
        return changed

    async def remove_member(self, actor: User, board_id: str, user_id: str) -> None:
        leaving_self = user_id == actor.id
        acting = await require_role(self._store, board_id, actor.id, Role.VIEWER if leaving_self else Role.ADMIN)
        target = acting if leaving_self else await self._store.get_member(board_id, user_id)
        if target is None:
            raise _member_not_found()
        if not leaving_self:
            self._check_may_manage(acting, target)
        draft = EventDraft(
            "member.removed",
            actor.id,
            clock.now(),
            {"board_id": board_id, "user_id": user_id, "role": target.role.value},
        )
        try:
            event = await self._store.remove_member(board_id, user_id, draft)
        except LastOwner:
            raise _last_owner() from None
        except NotFound:
            raise _member_not_found() from None
        await self._publisher.publish(event)

    @staticmethod
    def _check_may_manage(acting: Member, target: Member) -> None:
        if target.role == Role.OWNER and acting.role != Role.OWNER:
            raise ForbiddenError("forbidden", "Only owners can change or remove owners.")
