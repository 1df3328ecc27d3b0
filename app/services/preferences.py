"""Notification preferences: what reaches a user where, and the routing of every notice
by them before the write that stores it.

Per kind of notice (app.domain.mail.NoticeKind) a user picks any of the bell (``app``),
an email at once (``email``) and a line in the daily digest (``digest``); none is off.
Emails due in the user's quiet hours wait until those end, in the user's time zone.
Without SMTP configured only the bell is used, whatever was chosen. The signed link in
every notification email turns that kind of email off without signing in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from app.domain import clock
from app.domain.errors import InvalidInputError
from app.domain.mail import (
    Channel,
    NoticeKind,
    Preferences,
    completed,
    default_preferences,
    routed,
)
from app.domain.models import NotificationDraft, User
from app.mail.links import Links
from app.mail.render import DIGEST
from app.services.wiring import service
from app.store.base import UserMailStore


@service
class PreferenceService:
    _store: UserMailStore
    _links: Links
    mail_enabled: bool

    async def get(self, user: User) -> Preferences:
        saved = (await self._store.get_preferences([user.id])).get(user.id)
        return completed(saved) if saved else default_preferences(user.id)

    async def update(self, user: User, changes: dict[str, Any]) -> Preferences:
        """Apply ``changes`` (already validated: see app/api/preference_schemas.py); a kind
        left out of ``channels`` keeps its channels."""
        current = await self.get(user)
        channels = {kind: list(chosen) for kind, chosen in current.channels.items()}
        channels.update({kind: list(dict.fromkeys(chosen)) for kind, chosen in changes.pop("channels", {}).items()})
        updated = dataclasses.replace(current, **changes, channels=channels, updated_at=clock.now())
        if (updated.quiet_start is None) != (updated.quiet_end is None):
            raise InvalidInputError("invalid_quiet_hours", "Quiet hours need both a start and an end (or neither).")
        await self._store.save_preferences(updated)
        return updated

    def read_unsubscribe(self, token: str) -> tuple[str, str] | None:
        return self._links.read_unsubscribe(token)

    async def unsubscribe(self, token: str) -> str:
        """Turn off what a signed unsubscribe link names; returns it (a kind, or "digest")."""
        read = self._links.read_unsubscribe(token)
        if read is None:
            raise InvalidInputError("invalid_unsubscribe_link", "This unsubscribe link is not valid.")
        user_id, what = read
        saved = (await self._store.get_preferences([user_id])).get(user_id)
        current = completed(saved) if saved else default_preferences(user_id)
        if what == DIGEST:
            dropped = {Channel.DIGEST.value}
            kinds = list(current.channels)
        elif what in NoticeKind:
            dropped = {Channel.EMAIL.value, Channel.DIGEST.value}
            kinds = [what]
        else:
            raise InvalidInputError("invalid_unsubscribe_link", "This unsubscribe link is not valid.")
        channels = {
            kind: [c for c in chosen if c not in dropped] if kind in kinds else list(chosen)
            for kind, chosen in current.channels.items()
        }
        if await self._store.get_user(user_id) is not None:
            await self._store.save_preferences(dataclasses.replace(current, channels=channels, updated_at=clock.now()))
        return what

    async def route(self, notices: Sequence[NotificationDraft]) -> list[NotificationDraft]:
        """The notices with their channels and email time set from their users' preferences;
        a notice that goes nowhere is dropped."""
        if not notices:
            return []
        saved = await self._store.get_preferences([notice.user_id for notice in notices])
        now = clock.parse_time(clock.now())
        drafts = (
            routed(notice, saved.get(notice.user_id) or default_preferences(notice.user_id), self.mail_enabled, now)
            for notice in notices
        )
        return [draft for draft in drafts if draft is not None]
