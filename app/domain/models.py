"""Records passed between services and stores. Stores return these, never driver rows.

Each record is defined here once: its field order is its public JSON order, and
``field()`` (app.domain.shape) marks what is never shown, renamed, described or not
stored. Views, OpenAPI schemas, SQLite rows and MongoDB documents are derived from it.
"""

from __future__ import annotations

import dataclasses
from enum import StrEnum
from typing import Any

from app.domain.request_context import ACTING_TOKEN, CLIENT_MUTATION_ID
from app.domain.shape import field, record


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    EDITOR = "editor"
    # Reads the board and comments on its tasks; changes no task.
    COMMENTER = "commenter"
    VIEWER = "viewer"


# Declared from the most to the least powerful: a role outranks those declared after it.
ROLE_RANK = {role: rank for rank, role in enumerate(reversed(Role))}


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


# Ascending rank sorts the most urgent first, which is what `sort=priority` promises.
PRIORITY_RANK = {priority: rank for rank, priority in enumerate(Priority)}

DEFAULT_COLUMNS = ("todo", "in_progress", "done")


class TaskSort(StrEnum):
    POSITION = "position"
    CREATED_DESC = "-created_at"
    UPDATED_DESC = "-updated_at"
    DUE_AT = "due_at"
    PRIORITY = "priority"


# Tasks without a due date sort after every dated one; "~" sorts after every digit.
NO_DUE_DATE_KEY = "~"


@record
class User:
    id: str
    email: str  # always lower-case
    name: str
    password_hash: str = field(view=None)
    created_at: str
    updated_at: str = field(view=None)
    disabled_at: str | None = field(
        default=None, omit_none=True, doc="When an administrator disabled the account (absent: active)."
    )


@record
class TwoFactor:
    """A user's TOTP second factor (app/services/two_factor.py); never shown as it is."""

    user_id: str
    secret: str  # base32, as the authenticator app holds it
    created_at: str
    confirmed_at: str | None = None  # None: enrolment started, not yet confirmed with a code
    recovery_hashes: list[str] = field(default_factory=list)  # sha256 hex of each unused code
    last_used_step: int = 0  # the newest TOTP time step accepted: a code is good once


# What a deleted account's comments, events and notifications name as their author (app/services/account.py).
DELETED_USER_ID = "deleted-user"
DELETED_USER_NAME = "Deleted user"


@dataclasses.dataclass(slots=True)
class UserRecords:
    """What an account's data export reads besides the profile, boards and tokens."""

    tasks: list[Task]  # created by the user or assigned to them
    comments: list[Comment]  # written by the user
    notifications: list[Notification]  # received by the user


@record
class ExternalIdentity:
    """A user's account at an OpenID Connect provider, linked at their first sign-in there."""

    provider: str  # the id of the provider's settings entry
    subject: str  # the provider's ``sub``: stable, unlike the email
    user_id: str
    email: str
    created_at: str


@record
class RefreshToken:
    token_hash: str  # sha256 hex of the opaque token; the token itself is never stored
    user_id: str
    family_id: str  # one login session; every rotation keeps it
    created_at: str
    expires_at: str
    used_at: str | None = None
    revoked: bool = False
    # When the session signed in (rotation keeps it): what "a recent sign-in" is measured by.
    signed_in_at: str | None = None


@record
class Board:
    id: str
    name: str
    description: str
    columns: list[str]
    created_by: str
    created_at: str
    updated_at: str
    seq: int = 0  # the seq of the board's latest event
    # Beside ``columns`` (the stable keys tasks' status refers to), so v1 clients keep working.
    column_names: dict[str, str] = field(
        default_factory=dict, doc="Display name of each column key that has one; a column without one shows its key."
    )
    wip_limits: dict[str, int] = field(
        default_factory=dict,
        doc="Work-in-progress limit of each column key that has one: more tasks than this is a warning, not refused.",
    )
    archived_at: str | None = field(
        default=None, omit_none=True, kw_only=True, doc="When the board was archived; absent unless it is."
    )


@record
class Member:
    board_id: str
    user_id: str
    role: Role
    # Filled in by the store when listing, from the user record.
    email: str = field(default="", stored=False, kw_only=True)
    name: str = field(default="", stored=False, kw_only=True)
    added_at: str


@record
class Task:
    id: str
    board_id: str
    title: str
    description: str
    status: str
    priority: Priority
    assignees: list[str]
    labels: list[str]
    due_at: str | None
    position: str
    created_by: str
    created_at: str
    updated_at: str
    version: int = 1
    checklist: list[dict[str, Any]] = field(
        default_factory=list, doc="The task's checklist in order: items of {id, text, done}."
    )
    # Absent rather than null when unset: a task that was never archived keeps the v1 shape.
    archived_at: str | None = field(
        default=None, omit_none=True, kw_only=True, doc="When the task was archived; absent unless it is."
    )


class NotificationType(StrEnum):
    TASK_ASSIGNED = "task.assigned"
    COMMENT_MENTIONED = "comment.mentioned"
    MEMBER_ADDED = "member.added"
    # No longer made (task.changed says it since): older notifications keep the type.
    TASK_WATCHED = "task.watched"  # a task the user watches moved or got a new due date
    COMMENT_WATCHED = "comment.watched"  # a comment on a task the user watches
    TASK_CHANGED = "task.changed"  # a task the user watches changed (data.changes says how)
    TASK_CREATED = "task.created"  # a task was added to a board the user watches
    TASK_DUE_SOON = "task.due_soon"
    TASK_OVERDUE = "task.overdue"


# The store keeps this many notifications per user, dropping the oldest in the write that
# adds more, so an account's list stays bounded however busy its boards are.
NOTIFICATIONS_KEPT_PER_USER = 500


@dataclasses.dataclass(slots=True)
class NotificationDraft:
    """A notification the event of the same write causes; the store completes it from
    the event (``notification_of``)."""

    id: str
    user_id: str
    type: NotificationType
    board_name: str
    actor_name: str
    data: dict[str, Any]  # what renders it: task title, comment excerpt, role
    task_id: str | None = None
    comment_id: str | None = None
    # Where it goes (app.domain.mail.Channel values): the bell, an email, the daily digest;
    # the services set them from the user's preferences. ``email_at``: not before then
    # (quiet hours); None: at once.
    channels: tuple[str, ...] = ("app",)
    email_at: str | None = None


@dataclasses.dataclass(slots=True)
class EventDraft:
    """An event before the store gives it the board's next seq in the same write."""

    type: str
    actor: str
    at: str
    data: dict[str, Any]
    # Every draft made while serving a request carries that request's client mutation id,
    # so the author's client can recognise (and skip) the echo of its own change.
    client_mutation_id: str | None = dataclasses.field(default_factory=CLIENT_MUTATION_ID.get)
    # Likewise the API token the change is made with, so the feed can say "via <token>".
    via: dict[str, str] | None = dataclasses.field(default_factory=ACTING_TOKEN.get)
    # Written with the event, so a crash can never keep the event and lose these.
    notify: list[NotificationDraft] = dataclasses.field(default_factory=list)

    def logged(self, board_id: str, seq: int) -> Event:
        """The event the store logs for this draft as the board's ``seq``-th."""
        return Event(board_id=board_id, seq=seq, **_carried(self, Event))


@record
class Notification:
    id: str  # time-ordered, so id order is creation order
    user_id: str = field(view=None)
    type: NotificationType
    board_id: str
    board_name: str = field(doc="The board's name when the notification was made.")
    task_id: str | None = field(default=None, kw_only=True)
    comment_id: str | None = field(default=None, kw_only=True)
    actor: str = field(view="actor.id")
    actor_name: str = field(view="actor.name")
    at: str
    read_at: str | None = field(default=None, kw_only=True)
    seq: int = field(doc="The seq of the board event that caused it.")
    data: dict[str, Any] = field(
        doc=(
            "What renders it: task_title (all but member.added), excerpt (comment.mentioned, comment.watched), "
            "role (member.added), column or due_at (task.watched), due_at (task.due_soon, task.overdue); "
            "changes (task.changed: what changed, some of title, description, column, priority, labels, "
            "assignees, due_date, checklist, attachment_added, attachment_removed, archived, unarchived, "
            "trashed, restored, recurrence) with column, due_at and attachment as they apply."
        )
    )


@record
class Event:
    board_id: str
    seq: int
    type: str
    actor: str
    at: str
    data: dict[str, Any]
    # Absent rather than null when unset: clients that never send one see the v1 shape unchanged.
    client_mutation_id: str | None = field(
        default=None, omit_none=True, doc="Present when the write that caused it sent one."
    )
    via: dict[str, str] | None = field(
        default=None,
        omit_none=True,
        doc="Present when the change was made with a personal API token (an MCP assistant, a script): "
        "{token_id, token_name}.",
    )
    # Only on the event a write returns (never in the log): what it notified, for the
    # publisher to send on each user's channel once the write has committed.
    notifications: list[Notification] = field(default_factory=list, view=None, stored=False, compare=False, repr=False)


def notification_of(event: Event, draft: NotificationDraft) -> Notification:
    """The notification ``draft`` describes, of the board, actor, time and seq of ``event``."""
    values = _carried(draft, Notification) | {"type": NotificationType(draft.type), "data": dict(draft.data)}
    return Notification(**values, board_id=event.board_id, actor=event.actor, at=event.at, seq=event.seq)


def _carried(draft: Any, made: type[Any]) -> dict[str, Any]:
    """The values of ``draft``'s fields that ``made`` declares too (by name): what a draft
    hands on to the record made from it, so that a field added to both is carried without
    another line here."""
    declared = {item.name for item in dataclasses.fields(made)}
    return {item.name: getattr(draft, item.name) for item in dataclasses.fields(draft) if item.name in declared}


@dataclasses.dataclass(frozen=True, slots=True)
class NotificationScope:
    """Whose notifications a store call may see or change: the user's own, and with an API
    token limited to some boards, only those boards'."""

    user_id: str
    board_ids: frozenset[str] | None = None


@dataclasses.dataclass(slots=True)
class TaskFilter:
    status: str | None = None
    assignee: str | None = None
    label: str | None = None
    text: str | None = None  # full-text query over title and description
    archived: bool = False  # archived tasks only (True) or the others only (False)


@dataclasses.dataclass(slots=True)
class TaskPageRequest:
    board_id: str
    filter: TaskFilter
    sort: TaskSort
    limit: int
    # Keyset: the (sort key, id) of the last task of the previous page; see task_sort_key.
    after: tuple[str | int, str] | None = None
    include_total: bool = False


@dataclasses.dataclass(slots=True)
class TaskPage:
    items: list[Task]
    has_more: bool
    total: int | None = None


def task_sort_key(task: Task, sort: TaskSort) -> str | int:
    """The value a store orders tasks by for ``sort``; ties are broken by task id ascending.

    Descending sorts order by (key desc, id desc), ascending ones by (key asc, id asc).
    """
    match sort:
        case TaskSort.POSITION:
            return task.position
        case TaskSort.CREATED_DESC:
            return task.created_at
        case TaskSort.UPDATED_DESC:
            return task.updated_at
        case TaskSort.DUE_AT:
            return task.due_at or NO_DUE_DATE_KEY
        case TaskSort.PRIORITY:
            return PRIORITY_RANK[task.priority]
    raise ValueError(sort)


def stored_sort_keys(task: Task) -> dict[str, str | int]:
    """The sort keys both stores keep beside a task, so that every sort of list_tasks is an
    index scan: the priority's rank and the due date with NO_DUE_DATE_KEY for none."""
    return {"priority_rank": PRIORITY_RANK[Priority(task.priority)], "due_key": task.due_at or NO_DUE_DATE_KEY}


def sort_is_descending(sort: TaskSort) -> bool:
    return sort in (TaskSort.CREATED_DESC, TaskSort.UPDATED_DESC)


class TokenScope(StrEnum):
    READ = "read"  # GET/HEAD on REST, subscribing over the WebSocket
    WRITE = "write"  # everything a session of the same user may do


@record
class ApiToken:
    """A personal API token. The secret itself is never stored: only its sha256 and the
    first characters (``prefix``), so that a user can tell tokens apart in a list."""

    id: str
    user_id: str = field(view=None)
    name: str
    token_hash: str = field(view=None)
    scopes: list[str]
    board_ids: list[str] | None = field(view="boards")  # None: every board the user is a member of
    prefix: str = field(kw_only=True, doc="The first characters of the token, to tell tokens apart.")
    created_at: str
    last_used_at: str | None = None
    expires_at: str | None = None


@record
class Comment:
    id: str  # time-ordered, so id order is creation order
    board_id: str
    task_id: str
    author_id: str
    body: str
    mentions: list[str] = field(doc="Ids of the board members the body @mentions.")
    created_at: str
    updated_at: str


@record
class Attachment:
    """A file on a task. Its bytes (and an image's thumbnail) are kept by the store beside
    the record, never in it: the record is what lists, events and exports carry."""

    id: str  # time-ordered, so id order is upload order
    board_id: str
    task_id: str
    name: str = field(doc="The file name as uploaded, without any folder.")
    content_type: str = field(doc="Decided by reading the file's bytes, never taken from the client.")
    size: int = field(doc="Bytes.")
    has_thumbnail: bool = field(doc="An image whose thumbnail GET /api/v1/attachments/{id}/thumbnail serves.")
    uploaded_by: str
    created_at: str


@dataclasses.dataclass(frozen=True, slots=True)
class AttachmentSummary:
    """What a card shows of a task's attachments: how many, and the newest one with a thumbnail."""

    count: int
    cover_id: str | None = None
