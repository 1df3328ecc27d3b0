"""An account's own lifecycle: a new email, an export of everything that is the user's
(GDPR art. 15 and 20), and deleting the account (art. 17).

Deleting: boards where the user is the only member go with the account; a board they are
the only owner of, with other members, is deleted or handed over to one of those members,
as the request says (without a choice for each such board nothing happens and the answer
lists them). The user then leaves every other board (``member.removed``, live like any
other). Their sessions and live connections end on every instance, and the store erases
the account: sessions, API tokens, second factor, single sign-on links and notifications
go, and so do the deleted boards in the user's trash that no one else owns (one with
another owner stays in that owner's trash); comments, tasks and board history stay with
``DELETED_USER_ID`` ("Deleted user") in place of the user, and their email and name are
scrubbed out of the events.

Every step needs the current password (an account without one: a recent sign-in) and a
signed-in session (an API token may not). Where the instance sends email, a new email is
taken only once the link sent to it is followed (app/services/account_emails.py); where it
sends none, at once, and the account's address is then unconfirmed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from app.domain import clock
from app.domain.caller import Caller
from app.domain.errors import ConflictError, ForbiddenError, InvalidInputError
from app.domain.models import Board, Member, Role, User
from app.domain.views import (
    api_token_view,
    board_view,
    comment_view,
    member_view,
    notification_view,
    task_view,
    user_view,
)
from app.services.account_emails import AccountEmailService, set_email
from app.services.auth import AuthService
from app.services.boards import BoardService
from app.services.wiring import service
from app.store.base import AccountStore, ApiTokenStore, BoardStore, BoardTrashStore, TwoFactorStore

DELETE = "delete"
_PAGE = 200


@dataclass(slots=True, frozen=True)
class _BoardPlan:
    board: Board
    role: Role
    members: list[Member]

    def others(self, user_id: str) -> list[Member]:
        return [member for member in self.members if member.user_id != user_id]

    def sole_owner(self, user_id: str) -> bool:
        owners = [member for member in self.members if member.role == Role.OWNER]
        return [owner.user_id for owner in owners] == [user_id]


class AccountServiceStore(AccountStore, ApiTokenStore, BoardStore, BoardTrashStore, TwoFactorStore, Protocol): ...


@service
class AccountService:
    _store: AccountServiceStore
    _auth: AuthService
    _boards: BoardService
    _emails: AccountEmailService

    async def change_email(
        self, caller: Caller, email: str, current_password: str | None, address: str
    ) -> tuple[User, str | None]:
        """The account, and the address it waits to move to (None: moved at once)."""
        await self._auth.confirm_password(caller, current_password, address)
        email = email.strip().lower()
        if self._emails.sends_mail:
            await self._emails.request_email_change(caller.user, email)
            return caller.user, None if email == caller.user.email else email
        return await set_email(self._store, self._auth, caller.user.id, email), None

    async def own_view(self, user: User) -> dict[str, Any]:
        """What only the account itself sees of it: how it confirms what it does, and its address's state."""
        return {
            "has_password": await self._auth.has_password(user.id),
            "email_verified": await self._emails.email_verified(user),
            "pending_email": await self._emails.pending_email(user.id),
        }

    async def _plans(self, user: User) -> list[_BoardPlan]:
        plans: list[_BoardPlan] = []
        after: str | None = None
        while True:
            page, more = await self._boards.list_for(user, after, _PAGE)
            for board, role in page:
                plans.append(_BoardPlan(board, role, await self._store.list_members(board.id)))
            if not more:
                return plans
            after = page[-1][0].id

    async def export(self, caller: Caller) -> dict[str, Any]:
        if caller.token_id is not None:
            raise ForbiddenError("session_required", "Export your data from a signed-in session.")
        user = caller.user
        records = await self._store.user_records(user.id)
        two_factor = await self._store.get_two_factor(user.id)
        return {
            "format": "taskwire-account-export",
            "version": 1,
            "exported_at": clock.now(),
            "user": user_view(user),
            "two_factor_enabled": two_factor is not None and two_factor.confirmed_at is not None,
            "boards": [
                {**board_view(plan.board, plan.role), "members": [member_view(m) for m in plan.members]}
                for plan in await self._plans(user)
            ],
            "tasks": [task_view(task) for task in records.tasks],
            "comments": [comment_view(comment) for comment in records.comments],
            "notifications": [notification_view(notification) for notification in records.notifications],
            "api_tokens": [api_token_view(token) for token in await self._store.list_api_tokens(user.id)],
        }

    async def delete(self, caller: Caller, current_password: str | None, choices: dict[str, str], address: str) -> None:
        """``choices``: for each board the user alone owns with other members, ``"delete"``
        or the id of the member who becomes its owner."""
        await self._auth.confirm_password(caller, current_password, address)
        user = caller.user
        plans = await self._plans(user)
        undecided = []
        for plan in plans:
            if not plan.others(user.id) or not plan.sole_owner(user.id):
                continue
            choice = choices.get(plan.board.id)
            if choice is None:
                undecided.append(plan)
            elif choice != DELETE and choice not in {member.user_id for member in plan.others(user.id)}:
                raise InvalidInputError(
                    "invalid_successor", f"Hand {plan.board.name!r} over to one of its members, or delete it."
                )
        if undecided:
            raise ConflictError(
                "sole_owner_boards",
                "Choose for each board you alone own whether it is deleted or handed over.",
                details={
                    "boards": [
                        {
                            "id": plan.board.id,
                            "name": plan.board.name,
                            "members": [member_view(member) for member in plan.others(user.id)],
                        }
                        for plan in undecided
                    ]
                },
            )
        for plan in plans:
            choice = choices.get(plan.board.id)
            if not plan.others(user.id) or choice == DELETE:
                await self._boards.delete(user, plan.board.id)
                continue
            if choice is not None and plan.sole_owner(user.id):
                await self._boards.change_role(user, plan.board.id, choice, Role.OWNER)
            await self._boards.remove_member(user, plan.board.id, user.id)
        # The account's trash goes with it: the deleted boards it alone owned are purged now.
        # One with another owner stays in that owner's trash, restorable without this user.
        while trashed := await self._store.list_solely_owned_trashed_boards(user.id, _PAGE):
            purged = [await self._store.purge_trashed_board(entry.id) for entry in trashed]
            if not any(purged):
                break  # each was restored or purged meanwhile: none is listed again
        await self._auth.end_all_sessions(user.id)
        await self._store.erase_user(user.id, user.email, user.name, [plan.board.id for plan in plans])
        await self._auth.forget_user(user.id)
