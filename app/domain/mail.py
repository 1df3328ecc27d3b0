"""Email records and the vocabulary of notification preferences.

An ``OutboxMessage`` is one email to one user, written to the store in the same write as
what caused it (a board change, a reminder, a digest, an account request). The mail worker
of any instance takes a lease on it, sends it, and writes the outcome back fenced by that
lease; ``MailAttempt`` rows are its delivery log. Its content is rendered when it is sent,
from ``kind`` and ``data`` (app/mail/render.py), to the user's address at that moment.

``Preferences`` say, per kind of notification, on which channels it reaches the user.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.domain import clock
from app.domain.ids import new_id, new_id_after
from app.domain.models import Notification, NotificationDraft
from app.domain.shape import field, record
from app.domain.views import record_view


class NoticeKind(StrEnum):
    ASSIGNED = "assigned"
    MENTIONED = "mentioned"
    WATCHED = "watched"  # a comment on a task the user watches (or on a task of a watched board)
    CHANGED = "changed"  # a change to such a task, or a task added to a watched board
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    ADDED_TO_BOARD = "added_to_board"


class Channel(StrEnum):
    APP = "app"  # the bell
    EMAIL = "email"  # an email at once (held back over quiet hours)
    DIGEST = "digest"  # a line in the daily digest email


# Notification type (models.NotificationType values) -> the kind its preference is.
KIND_OF_TYPE: dict[str, NoticeKind] = {
    "task.assigned": NoticeKind.ASSIGNED,
    "comment.mentioned": NoticeKind.MENTIONED,
    "member.added": NoticeKind.ADDED_TO_BOARD,
    "task.watched": NoticeKind.WATCHED,
    "comment.watched": NoticeKind.WATCHED,
    "task.changed": NoticeKind.CHANGED,
    "task.created": NoticeKind.CHANGED,
    "task.due_soon": NoticeKind.DUE_SOON,
    "task.overdue": NoticeKind.OVERDUE,
}

# What a user who never chose gets when email is configured (issue 16).
DEFAULT_CHANNELS: dict[NoticeKind, tuple[Channel, ...]] = {
    NoticeKind.ASSIGNED: (Channel.APP, Channel.EMAIL),
    NoticeKind.MENTIONED: (Channel.APP, Channel.EMAIL),
    NoticeKind.DUE_SOON: (Channel.APP, Channel.EMAIL),
    NoticeKind.OVERDUE: (Channel.APP, Channel.EMAIL),
    NoticeKind.WATCHED: (Channel.APP, Channel.DIGEST),
    NoticeKind.CHANGED: (Channel.APP, Channel.DIGEST),
    NoticeKind.ADDED_TO_BOARD: (Channel.APP, Channel.DIGEST),
}

DEFAULT_REMINDER_LEAD_MINUTES = 24 * 60
DEFAULT_DIGEST_HOUR = 8


class MailStatus(StrEnum):
    PENDING = "pending"  # to send (at or after next_attempt_at)
    HELD = "held"  # a digest line, waiting for the user's next digest
    SENT = "sent"
    DIGESTED = "digested"  # a digest line that went out in a digest
    FAILED = "failed"  # given up after the last attempt, or refused for good
    CANCELLED = "cancelled"  # not sent: its user turned it off meanwhile, or is gone


@record
class Preferences:
    user_id: str = field(view=None)
    channels: dict[str, list[str]] = field(
        doc="Per kind of notification, the channels it reaches you on: app, email, digest ([] is off)."
    )
    time_zone: str = field(doc="An IANA time zone; quiet hours and the digest's morning are in it.")
    quiet_start: str | None = field(doc="HH:MM: emails wait from then ...")
    quiet_end: str | None = field(doc="... until HH:MM (the next day when earlier than quiet_start).")
    reminder_lead_minutes: int = field(doc="How long before a task's due date its reminder comes.")
    digest_hour: int = field(doc="The local hour the daily digest is sent at.")
    updated_at: str | None = field(view=None)


def default_preferences(user_id: str) -> Preferences:
    return Preferences(
        user_id=user_id,
        channels={kind.value: [c.value for c in channels] for kind, channels in DEFAULT_CHANNELS.items()},
        time_zone="UTC",
        quiet_start=None,
        quiet_end=None,
        reminder_lead_minutes=DEFAULT_REMINDER_LEAD_MINUTES,
        digest_hour=DEFAULT_DIGEST_HOUR,
        updated_at=None,
    )


def channels_for(preferences: Preferences, kind: NoticeKind, mail_enabled: bool) -> set[Channel]:
    """The channels a notice of ``kind`` goes to; without email configured, only the app."""
    chosen = preferences.channels.get(kind.value)
    wanted = {Channel(c) for c in (chosen if chosen is not None else DEFAULT_CHANNELS[kind])}
    return wanted if mail_enabled else wanted & {Channel.APP}


def completed(preferences: Preferences) -> Preferences:
    """The preferences with every kind in ``channels``: a kind added since they were saved
    has its default."""
    if all(kind.value in preferences.channels for kind in NoticeKind):
        return preferences
    defaults = {kind.value: [c.value for c in channels] for kind, channels in DEFAULT_CHANNELS.items()}
    return dataclasses.replace(preferences, channels={**defaults, **preferences.channels})


def takes_digest(preferences: Preferences) -> bool:
    """Whether the user gets the daily digest at all: some kind goes to it (the digest's
    unsubscribe link takes it off every kind)."""
    return any(Channel.DIGEST.value in chosen for chosen in completed(preferences).channels.values())


def zone_exists(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone(name: str) -> ZoneInfo:
    """The user's zone; UTC for a name this machine's zone database lacks."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _clock_time(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_until(preferences: Preferences, moment: datetime) -> datetime | None:
    """When the quiet hours that ``moment`` falls in end (aware, UTC), or None outside them."""
    if not preferences.quiet_start or not preferences.quiet_end:
        return None
    start, end = _clock_time(preferences.quiet_start), _clock_time(preferences.quiet_end)
    if start == end:
        return None
    local = moment.astimezone(zone(preferences.time_zone))
    now = local.time().replace(tzinfo=None)
    if start < end:
        inside, ends_tomorrow = start <= now < end, False
    else:  # over midnight: 22:00-07:00
        inside, ends_tomorrow = now >= start or now < end, now >= start
    if not inside:
        return None
    day = local.date() + timedelta(days=1 if ends_tomorrow else 0)
    return datetime.combine(day, end, tzinfo=local.tzinfo).astimezone(moment.tzinfo)


@record
class OutboxMessage:
    id: str
    user_id: str
    kind: str  # a NoticeKind value, "digest", or an account email (app/services/account_emails.py)
    data: dict[str, Any]  # what renders it
    key: str | None = field(omit_none=True, doc="Unique when set: the same key is never queued twice.")
    status: MailStatus
    attempts: int
    next_attempt_at: str
    created_at: str
    sent_at: str | None = field(default=None, kw_only=True)
    last_error: str | None = field(default=None, kw_only=True)
    lease_owner: str | None = field(default=None, kw_only=True, view=None)
    lease_until: str | None = field(default=None, kw_only=True, view=None)


@record
class MailAttempt:
    """One row of the delivery log: one SMTP attempt at one message."""

    id: str  # time-ordered within the sending process
    message_id: str
    attempt: int
    ok: bool
    error: str | None
    owner: str = field(view=None)
    at: str


def outbox_of(notice: Notification, draft: NotificationDraft) -> list[OutboxMessage]:
    """The outbox rows a notice makes by its draft's channels: an email, a digest line,
    both or neither."""
    kind = KIND_OF_TYPE.get(str(notice.type))
    if kind is None:
        return []
    data = {
        "type": str(notice.type),
        "board_id": notice.board_id,
        "board_name": notice.board_name,
        "actor_name": notice.actor_name,
        "task_id": notice.task_id,
        "comment_id": notice.comment_id,
        "seq": notice.seq,
        "at": notice.at,
        **notice.data,
    }
    rows = []
    for channel, status in ((Channel.EMAIL, MailStatus.PENDING), (Channel.DIGEST, MailStatus.HELD)):
        if channel.value in draft.channels:
            at = draft.email_at if channel is Channel.EMAIL and draft.email_at else notice.at
            rows.append(OutboxMessage(new_id(), notice.user_id, kind.value, dict(data), None, status, 0, at, notice.at))
    return rows


def routed(
    draft: NotificationDraft, preferences: Preferences, mail_enabled: bool, now: datetime
) -> NotificationDraft | None:
    """The draft with the channels its user's preferences give it (and, for an email in
    their quiet hours, when those end); None when it goes nowhere."""
    kind = KIND_OF_TYPE.get(str(draft.type))
    channels = {Channel.APP} if kind is None else channels_for(preferences, kind, mail_enabled)
    if not channels:
        return None
    quiet_end = quiet_until(preferences, now) if Channel.EMAIL in channels else None
    return dataclasses.replace(
        draft,
        channels=tuple(c.value for c in Channel if c in channels),
        email_at=clock.format_time(quiet_end) if quiet_end else None,
    )


@record
class Watch:
    """A user's own choice to watch (or not) a task or a whole board; without one, a task's
    author and assignees watch it and nobody watches a board."""

    user_id: str
    board_id: str
    task_id: str  # "" for the board itself
    watching: bool
    at: str


def watchers(task_author: str, assignees: list[str], task_id: str, watches: Sequence[Watch]) -> set[str]:
    """Who watches the task: its author and assignees and its board's watchers, and those
    who chose to watch it, less those who chose not to."""
    own = {w.user_id: w.watching for w in watches if w.task_id == task_id}
    board = {w.user_id for w in watches if w.task_id == "" and w.watching}
    candidates = {task_author, *assignees} | board | {user for user, watching in own.items() if watching}
    return {user for user in candidates if own.get(user, True)}


class AccountPurpose(StrEnum):
    PASSWORD_RESET = "password_reset"
    VERIFY_EMAIL = "verify_email"
    CHANGE_EMAIL = "change_email"  # its email is the new address, taken only once confirmed


@record
class AccountToken:
    """A single-use link sent by email. Only its id is stored; the link carries the id
    signed with the server's secret key (app/mail/links.py)."""

    id: str
    user_id: str
    purpose: AccountPurpose
    email: str  # the address it was sent to
    created_at: str
    expires_at: str
    used_at: str | None = None


_last_attempt_id = ""
_attempt_id_lock = threading.Lock()


def next_mail_attempt_id() -> str:
    global _last_attempt_id
    with _attempt_id_lock:
        _last_attempt_id = new_id_after(_last_attempt_id)
        return _last_attempt_id


preferences_view = record_view(Preferences)
outbox_view = record_view(OutboxMessage)
mail_attempt_view = record_view(MailAttempt)
