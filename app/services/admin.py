"""The instance administrator: the accounts named by ``admin_emails``, or, when none are
named, the first account registered. The administrator lists the users, disables and
re-enables accounts (a disabled account's sessions and live connections end at once, on
every instance), switches open registration and reads the instance's figures. Only from a
signed-in session: an API token, however scoped, administers nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from app.domain import clock
from app.domain.caller import Caller
from app.domain.errors import ForbiddenError, NotFoundError
from app.domain.models import User
from app.services.auth import AuthService
from app.services.registration import registration_open, switch_registration
from app.services.wiring import service
from app.settings import Settings
from app.store.base import InstanceStore, UserStore


@dataclass(slots=True, frozen=True)
class InstanceState:
    registration_open: bool
    registration_closed_by_setting: bool
    figures: dict[str, int]


class AdminServiceStore(InstanceStore, UserStore, Protocol): ...


@service
class AdminService:
    _settings: Settings
    _store: AdminServiceStore
    _auth: AuthService

    async def is_admin(self, user: User) -> bool:
        if self._settings.admin_emails:
            return user.email in self._settings.admin_emails
        first = await self._store.list_users(None, 1)
        return bool(first) and first[0].id == user.id

    async def _require_admin(self, caller: Caller) -> None:
        if caller.token_id is not None:
            raise ForbiddenError("session_required", "Administer the instance from a signed-in session.")
        if not await self.is_admin(caller.user):
            raise ForbiddenError("admin_required", "Only the instance administrator may do this.")

    async def list_users(self, caller: Caller, after_id: str | None, limit: int) -> tuple[list[User], bool]:
        """A page of users in creation order, and whether more follow."""
        await self._require_admin(caller)
        users = await self._store.list_users(after_id, limit + 1)
        return users[:limit], len(users) > limit

    async def set_disabled(self, caller: Caller, user_id: str, disabled: bool) -> User:
        await self._require_admin(caller)
        target = await self._store.get_user(user_id)
        if target is None:
            raise NotFoundError("user_not_found", "No such user.")
        if disabled and await self.is_admin(target):
            raise ForbiddenError("cannot_disable_admin", "An administrator's account cannot be disabled.")
        if disabled == (target.disabled_at is not None):
            return target
        updated = await self._store.set_user_disabled(user_id, clock.now() if disabled else None)
        if updated is None:
            raise NotFoundError("user_not_found", "No such user.")
        # Re-enabling drops the cached record too, so the account works again at once.
        await self._auth.end_all_sessions(user_id)
        return updated

    async def instance(self, caller: Caller) -> InstanceState:
        await self._require_admin(caller)
        return InstanceState(
            registration_open=await registration_open(self._settings, self._store),
            registration_closed_by_setting=not self._settings.registration_open,
            figures=await self._store.instance_figures(),
        )

    async def switch_registration(self, caller: Caller, open_: bool) -> InstanceState:
        await self._require_admin(caller)
        await switch_registration(self._store, open_)
        return await self.instance(caller)
