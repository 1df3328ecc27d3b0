"""Board access: every board operation starts here. A non-member learns nothing (not found);
a member without the needed role is forbidden.

A request made with a personal API token may be held to fewer boards and to reading only
(``domain.request_context.TokenLimits``). ``AuthService.authenticate`` binds them to the
context it runs in (the request, or the WebSocket connection), so every check below
applies them without each service passing them along.
"""

from __future__ import annotations

from collections.abc import Callable

from app.domain.errors import ForbiddenError, NotFoundError
from app.domain.models import ROLE_RANK, Board, Member, Role, Task, User
from app.domain.request_context import current_token_limits, note_board_check
from app.store.base import BoardStore, TaskAccess, TaskStore


def board_not_found() -> NotFoundError:
    return NotFoundError("board_not_found", "No such board.")


def task_not_found() -> NotFoundError:
    return NotFoundError("task_not_found", "No such task.")


def insufficient_scope() -> ForbiddenError:
    return ForbiddenError("insufficient_scope", "This API token may only read; create one with the write scope.")


def check_own_or_admin(actor: User, made_by: str, member: Member, refusal: str) -> None:
    """Removing a record of a member (a comment, an attachment): whoever made it, or a board
    admin or owner; anyone else is refused with ``refusal``."""
    if made_by != actor.id and ROLE_RANK[member.role] < ROLE_RANK[Role.ADMIN]:
        raise ForbiddenError("forbidden", refusal, details={"role": member.role.value, "needed": Role.ADMIN.value})


async def require_role(store: BoardStore, board_id: str, user_id: str, needed: Role) -> Member:
    return check_role(board_id, await store.get_member(board_id, user_id), needed)


def check_role(board_id: str, member: Member | None, needed: Role) -> Member:
    """``require_role`` on a membership already read (with the task or board it guards)."""
    limits = current_token_limits()
    if member is None or (limits is not None and not limits.allows_board(board_id)):
        raise board_not_found()  # the same answer for a non-member and a board the token does not cover
    if ROLE_RANK[member.role] < ROLE_RANK[needed]:
        raise ForbiddenError(
            "forbidden",
            f"This needs the {needed.value} role on the board.",
            details={"role": member.role.value, "needed": needed.value},
        )
    if limits is not None and not limits.writable and needed != Role.VIEWER:
        raise insufficient_scope()  # REST refuses unsafe methods earlier; this covers any other path
    note_board_check(board_id, needed.value)
    return member


async def require_role_or(
    store: BoardStore, board_id: str, user_id: str, needed: Role, not_found: Callable[[], NotFoundError]
) -> Member:
    """``require_role``, answering ``not_found()`` for a board the caller cannot see: whatever
    lives on it (a task, a comment, a file) does not exist for them."""
    try:
        return await require_role(store, board_id, user_id, needed)
    except NotFoundError:
        raise not_found() from None


async def boards_for(
    store: BoardStore, user_id: str, after_board_id: str | None, limit: int, archived: bool = False
) -> list[tuple[Board, Role]]:
    """The caller's boards in id order, as ``BoardStore.list_boards_for_user``, but only those
    their API token covers. A token names few boards, so they are looked up one by one."""
    limits = current_token_limits()
    if limits is None or limits.board_ids is None:
        return await store.list_boards_for_user(user_id, after_board_id, limit, archived)
    rows: list[tuple[Board, Role]] = []
    for board_id in sorted(limits.board_ids):
        if len(rows) >= limit:
            break
        if after_board_id is not None and board_id <= after_board_id:
            continue
        member = await store.get_member(board_id, user_id)
        board = await store.get_board(board_id) if member is not None else None
        if member is not None and board is not None and (board.archived_at is not None) == archived:
            rows.append((board, member.role))
    return rows


async def checked_task(store: TaskStore, actor: User, task_id: str, needed: Role) -> Task:
    """The task, once the actor's role on its board is checked. Its board is not read
    (a task goes with its board): the task and the membership are one store call."""
    return checked_task_of(await store.get_task_access(task_id, actor.id, with_board=False), needed)


def checked_task_of(access: TaskAccess, needed: Role) -> Task:
    """The task of ``access``, once the role is checked; a task of a board the caller
    cannot see does not exist for them."""
    if access.task is None:
        raise task_not_found()
    try:
        check_role(access.task.board_id, access.member, needed)
    except NotFoundError:
        raise task_not_found() from None
    return access.task
