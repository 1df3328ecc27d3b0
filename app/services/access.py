"""Board access: every board operation starts here. A non-member learns nothing (404);
a member without the needed role gets 403."""

from __future__ import annotations

from app.domain.models import ROLE_RANK, Member, Role
from app.errors import APIError
from app.store.base import Store


def board_not_found() -> APIError:
    return APIError(404, "board_not_found", "No such board.")


async def require_role(store: Store, board_id: str, user_id: str, needed: Role) -> Member:
    member = await store.get_member(board_id, user_id)
    if member is None:
        raise board_not_found()
    if ROLE_RANK[member.role] < ROLE_RANK[needed]:
        raise APIError(403, "forbidden", f"This needs the {needed.value} role on the board.",
                       details={"role": member.role.value, "needed": needed.value})
    return member
