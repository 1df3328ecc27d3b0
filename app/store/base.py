"""The storage contract, one protocol per aggregate; ``Store`` composes them with the
lifecycle. Every adapter implements ``Store`` whole (one part class per aggregate, composed
the same way in sqlite.py and mongo.py); each consumer takes only the protocols it uses.

Rules every adapter keeps (tests/store/ checks each of them on every adapter):

- Methods are use cases: one call is one atomic store write (a transaction where the
  store has one). No business rules and no permission checks live here.
- Every method that takes an ``EventDraft`` appends it to the board's event log with the
  board's next seq (previous seq + 1, starting at 1) in the same write as the change and
  returns the resulting ``Event``; ``Board.seq`` is that latest seq. Seqs are gapless and
  unique per board even with several processes writing to one store.
- In that same write it stores the draft's ``notify`` as ``Notification`` records
  (``notification_of`` the event, unread), returns them in ``Event.notifications``, and
  keeps each notified user's newest ``NOTIFICATIONS_KEPT_PER_USER`` (by id), deleting older ones.
- Records come back as the dataclasses of ``app.domain.models``, never as driver rows,
  and lists/dicts in them are fresh copies the caller may keep.
- No value from a request is ever interpreted as a query operator.
- ``StoreUnavailable`` is raised when the database cannot be reached.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from typing import IO, Protocol

from app.domain.imports import ImportJob
from app.domain.invitations import Invitation
from app.domain.mail import AccountPurpose, AccountToken, MailAttempt, MailStatus, OutboxMessage, Preferences, Watch
from app.domain.models import (
    ApiToken,
    Attachment,
    AttachmentSummary,
    Board,
    Comment,
    Event,
    EventDraft,
    ExternalIdentity,
    Member,
    Notification,
    NotificationScope,
    RefreshToken,
    Role,
    Task,
    TaskPage,
    TaskPageRequest,
    TwoFactor,
    User,
    UserRecords,
)
from app.domain.recurrence import Recurrence
from app.domain.trash import TrashedBoard, TrashedTask
from app.domain.webhooks import Webhook, WebhookAttempt, WebhookProgress


class StoreError(Exception):
    """Base of the errors a store raises on purpose."""


class StoreUnavailable(StoreError):
    """The database cannot be reached right now."""


class StoreNotWritable(StoreUnavailable):
    """Reads work but writes cannot be made; ``reason`` is ``disk_full``, ``read_only`` or
    ``write_failed``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"the store cannot write: {reason} {detail}".strip())
        self.reason = reason


class EmailTaken(StoreError):
    """Another user already has this email (compared case-insensitively)."""


class AlreadyMember(StoreError):
    """The user is already a member of the board."""


class NotFound(StoreError):
    """The record the write was about no longer exists."""


class BoardChanged(StoreError):
    """The board was written since it was read (its updated_at moved on)."""


class LastOwner(StoreError):
    """The write would leave the board without an owner."""


class QuotaExceeded(StoreError):
    """The board's attachments would take more than its quota; ``used`` is what they take now."""

    def __init__(self, used: int) -> None:
        super().__init__(f"the board's attachments take {used} bytes")
        self.used = used


class VersionConflict(StoreError):
    """The task's version is not the one the write expected; ``current`` is the task as stored."""

    def __init__(self, current: Task) -> None:
        super().__init__(f"task {current.id} is at version {current.version}")
        self.current = current


@dataclasses.dataclass(slots=True, frozen=True)
class TaskAccess:
    """A task with the caller's membership of its board (and the board, when asked for),
    read from one snapshot. ``member`` and ``board`` are None when ``task`` is."""

    task: Task | None
    member: Member | None = None
    board: Board | None = None
    # With the board: the watch choices on the board and on the task, so that telling the
    # task's watchers of a change costs no trip of its own.
    watches: tuple[Watch, ...] = ()


@dataclasses.dataclass(slots=True, frozen=True)
class NewTaskPlace:
    """What creating a task reads first, from one snapshot: the caller's membership, the
    board, the greatest position in the task's column (None if it is empty) and the
    board's watch choices (who hears of the new task)."""

    member: Member | None
    board: Board | None
    last_position: str | None
    watches: tuple[Watch, ...] = ()


class UserStore(Protocol):
    """Accounts and their login sessions (refresh token families)."""

    # -- users -----------------------------------------------------------------------
    async def create_user(self, user: User) -> None:
        """Raise EmailTaken if the (lower-case) email exists."""

    async def get_user(self, user_id: str) -> User | None: ...

    async def get_user_by_email(self, email: str) -> User | None:
        """``email`` is already lower-case."""

    async def update_user(self, user: User) -> User | None:
        """Replace name, password_hash and updated_at of ``user.id``; None if it does not exist."""

    # -- refresh tokens (one family per login session) --------------------------------
    async def create_refresh_token(self, token: RefreshToken) -> None: ...

    async def spend_refresh_token(self, token_hash: str, at: str) -> tuple[RefreshToken | None, bool]:
        """Atomically mark the token used at ``at``.

        Returns (the token as it was before this call or None if unknown, True if this
        call spent it). A second call for the same hash returns (token, False): a reuse.
        """

    async def revoke_refresh_family(self, family_id: str) -> None:
        """Mark every token of the family revoked."""

    async def list_session_families(self, user_id: str, at: str) -> list[str]:
        """The families (login sessions) of ``user_id`` that still hold a token neither
        revoked nor expired at ``at``, in any order."""

    # -- revoked sessions (a login session is a refresh family; access tokens carry its id)
    async def revoke_session(self, session_id: str, until: str) -> None:
        """Remember the session as revoked until ``until`` (when its last access token has
        expired) and mark its refresh tokens revoked, the first before the second (or in one
        write). Idempotent: revoking again keeps the later ``until``. Sessions whose
        ``until`` has passed may be forgotten."""

    async def session_revoked(self, session_id: str, at: str) -> bool:
        """True if the session was revoked and ``at`` is before its ``until``."""

    async def list_revoked_sessions(self, at: str) -> list[tuple[str, str]]:
        """Every (session_id, until) still revoked at ``at``."""


class InstanceStore(Protocol):
    """What the instance administrator reads and switches (app/services/admin.py)."""

    async def list_users(self, after_id: str | None, limit: int) -> list[User]:
        """Users ordered by id (creation order), after ``after_id``, at most ``limit``."""

    async def set_user_disabled(self, user_id: str, disabled_at: str | None) -> User | None:
        """Set (or clear, with None) when the user was disabled; None if there is no such user."""

    async def instance_figures(self) -> dict[str, int]:
        """Counts of ``users``, ``disabled_users``, ``boards``, ``tasks`` and ``comments``."""

    async def get_instance_value(self, key: str) -> str | None: ...

    async def set_instance_value(self, key: str, value: str) -> None: ...


class TwoFactorStore(Protocol):
    """Each user's TOTP second factor (at most one)."""

    async def get_two_factor(self, user_id: str) -> TwoFactor | None: ...

    async def put_two_factor(self, factor: TwoFactor) -> None:
        """Create or replace the user's second factor."""

    async def use_totp_step(self, user_id: str, step: int) -> bool:
        """Record ``step`` as used if it is newer than the last one used; False otherwise
        (a replayed or older code), atomically."""

    async def use_recovery_code(self, user_id: str, code_hash: str) -> bool:
        """Remove ``code_hash`` from the user's unused recovery codes; False if it was not
        there (spent, or never issued), atomically."""

    async def delete_two_factor(self, user_id: str) -> bool: ...


class IdentityStore(Protocol):
    """Accounts at OpenID Connect providers linked to users."""

    async def get_identity(self, provider: str, subject: str) -> ExternalIdentity | None: ...

    async def link_identity(self, identity: ExternalIdentity) -> None:
        """Keep the link; an existing link of the same provider and subject stays as it is."""

    async def list_identities(self, user_id: str) -> list[ExternalIdentity]:
        """The user's links, oldest first."""


class AccountStore(Protocol):
    """An account's own lifecycle (app/services/account.py)."""

    async def update_user_email(self, user_id: str, email: str, at: str) -> User | None:
        """Raise EmailTaken if another user has the (lower-case) email; None if no such user."""

    async def user_records(self, user_id: str) -> UserRecords:
        """The tasks the user created or is assigned to, their comments and notifications."""

    async def erase_user(self, user_id: str, email: str, name: str, board_ids: list[str]) -> None:
        """Delete the user and what is theirs alone (sessions, tokens, second factor, links,
        notifications, memberships, mail, preferences, watches, schedule marks, the pending
        invitations they sent); what others keep names ``DELETED_USER_ID`` instead
        (comments, tasks, boards, webhooks, attachments, recurrences, invitations, trash
        entries, notifications' actor, events' actor) and ``DELETED_USER_NAME`` for ``name``
        (notifications' and other people's emails' ``actor_name``), drops the id from
        assignees and mentions (also in trashed tasks), and scrubs the user's id, email and
        name out of the events of ``board_ids`` and of the trashed boards the user was a
        member of (app/store/erasure.py). Erasing again is harmless."""


class BoardStore(Protocol):
    """Boards and their members."""

    # -- boards ----------------------------------------------------------------------
    async def create_board(self, board: Board, owner: Member) -> None:
        """Create the board (seq 0) with its first owner in one write."""

    async def get_board(self, board_id: str) -> Board | None: ...

    async def list_boards_for_user(
        self, user_id: str, after_board_id: str | None, limit: int, archived: bool = False
    ) -> list[tuple[Board, Role]]:
        """The user's boards ordered by board id ascending, after ``after_board_id``, at most
        ``limit``: the archived ones only with ``archived``, the others only without."""

    async def update_board(self, board: Board, event: EventDraft, expected_updated_at: str | None = None) -> Event:
        """Replace name, description, the columns with their names and limits, and updated_at;
        NotFound if the board is gone; with ``expected_updated_at``, BoardChanged (and nothing
        written) unless the board's updated_at is still that."""

    async def delete_board(self, board_id: str) -> bool:
        """Delete the board with its members, tasks, events and notifications; False if it did not exist."""

    async def set_board_archived(self, board_id: str, archived_at: str | None, event: EventDraft) -> Event:
        """Set (a time) or clear (None) the board's archived_at; NotFound if the board is gone."""

    # -- members ---------------------------------------------------------------------
    async def get_member(self, board_id: str, user_id: str) -> Member | None:
        """The hot path of every permission check: one indexed lookup."""

    async def list_members(self, board_id: str) -> list[Member]:
        """Members with email and name filled in, ordered by added_at then user id."""

    async def add_member(self, member: Member, event: EventDraft) -> Event:
        """AlreadyMember if present; NotFound if the board is gone."""

    async def update_member_role(self, board_id: str, user_id: str, role: Role, event: EventDraft) -> Event:
        """NotFound if not a member; LastOwner if it would leave no owner."""

    async def remove_member(self, board_id: str, user_id: str, event: EventDraft) -> Event:
        """NotFound if not a member; LastOwner if it would leave no owner."""


class TaskStore(Protocol):
    # -- tasks -----------------------------------------------------------------------
    async def create_task(self, task: Task, event: EventDraft) -> Event:
        """NotFound if the board is gone."""

    async def get_task(self, task_id: str) -> Task | None: ...

    async def update_task(self, task: Task, expected_version: int, event: EventDraft) -> Event:
        """Replace every field of the stored task with ``task`` if its version is still
        ``expected_version`` (``task.version`` is the new one).

        VersionConflict(current) otherwise; NotFound if the task is gone.
        """

    async def delete_task(self, task_id: str, expected_version: int | None, event: EventDraft) -> Event:
        """VersionConflict if ``expected_version`` is given and stale; NotFound if gone."""

    async def last_position(self, board_id: str, status: str) -> str | None:
        """The greatest position key among the tasks of one column, None if it is empty."""

    async def get_task_access(self, task_id: str, user_id: str, with_board: bool) -> TaskAccess:
        """The first read of every task operation: the task, ``user_id``'s membership of its
        board and, if ``with_board``, the board, in one round trip instead of three."""

    async def get_new_task_place(self, board_id: str, user_id: str, status: str | None) -> NewTaskPlace:
        """The first read of a task creation: ``user_id``'s membership, the board and the
        last position of column ``status`` (the board's first column when None), in one
        round trip instead of three."""

    async def list_tasks(self, request: TaskPageRequest) -> TaskPage:
        """One page in the order of ``request.sort`` (see domain.models.task_sort_key),
        filtered, keyset-paged after ``request.after``; ``has_more`` tells whether another
        page exists. A bounded number of round trips whatever the page size.

        ``filter.text`` is a full-text query (words, all must match, prefix match on the
        last one is welcome); ``filter.assignee``/``label`` match one element of the list;
        ``filter.archived`` keeps the archived tasks only (True) or the others only (False).
        """


class EventStore(Protocol):
    # -- events ----------------------------------------------------------------------
    async def list_events(self, board_id: str, after_seq: int, limit: int, task_id: str | None = None) -> list[Event]:
        """Events with seq > after_seq in seq order, at most ``limit``. With ``task_id``, only
        that task's: its ``task.*`` events (``data.id``) and its comments' (``data.task_id``)."""


class ApiTokenStore(Protocol):
    # -- personal API tokens -----------------------------------------------------------
    async def create_api_token(self, token: ApiToken) -> None: ...

    async def get_api_token_by_hash(self, token_hash: str) -> ApiToken | None:
        """The hot path of API-token authentication: one indexed lookup."""

    async def list_api_tokens(self, user_id: str) -> list[ApiToken]:
        """The user's tokens, oldest first (created_at, then id)."""

    async def delete_api_token(self, user_id: str, token_id: str) -> bool:
        """Delete the token if it is the user's; False if there is no such token of theirs."""

    async def touch_api_token(self, token_id: str, at: str) -> None:
        """Set last_used_at; nothing happens if the token is gone."""


class CommentStore(Protocol):
    # -- comments (each write appends its event like every board change) ---------------
    async def create_comment(self, comment: Comment, event: EventDraft) -> Event:
        """NotFound if the task (or its board) is gone."""

    async def get_comment(self, comment_id: str) -> Comment | None: ...

    async def list_comments(self, task_id: str, after_comment_id: str | None, limit: int) -> list[Comment]:
        """The task's comments in id order (oldest first), after ``after_comment_id``, at most ``limit``."""

    async def count_comments(self, task_ids: Sequence[str]) -> dict[str, int]:
        """How many comments each of these tasks has (a task without any is left out)."""

    async def update_comment(self, comment: Comment, event: EventDraft) -> Event:
        """Replace body, mentions and updated_at; NotFound if the comment is gone."""

    async def delete_comment(self, comment_id: str, event: EventDraft) -> Event:
        """NotFound if the comment is gone. Deleting a task or a board deletes its comments."""


class AttachmentStore(Protocol):
    # -- attachments: the record, its bytes and an image's thumbnail, kept where every
    # instance reads them (SQLite: tables of the same file; MongoDB: GridFS) ----------------
    async def create_attachment(
        self, attachment: Attachment, content: IO[bytes], thumbnail: bytes | None, quota: int, event: EventDraft
    ) -> Event:
        """Store the record, the bytes of ``content`` (read from where it stands to its end,
        ``attachment.size`` of them, a chunk at a time: never all in memory) and the thumbnail.
        NotFound if the task (or its board) is gone; QuotaExceeded if ``quota`` > 0 and the
        board's attachments would then take more than ``quota`` bytes. Nothing is kept then."""

    async def get_attachment(self, attachment_id: str) -> Attachment | None: ...

    async def list_attachments(self, task_id: str, after_attachment_id: str | None, limit: int) -> list[Attachment]:
        """The task's attachments in id order (oldest first), after ``after_attachment_id``, at most ``limit``."""

    async def summarize_attachments(self, task_ids: Sequence[str]) -> dict[str, AttachmentSummary]:
        """Each of these tasks' attachment count and newest attachment with a thumbnail (a task
        without any is left out)."""

    async def open_attachment(self, attachment_id: str) -> AsyncIterator[bytes] | None:
        """The stored bytes as chunks in order (each read when asked for), None if the
        attachment is gone. A delete while they are read ends them early."""

    async def get_attachment_thumbnail(self, attachment_id: str) -> bytes | None: ...

    async def delete_attachment(self, attachment_id: str, event: EventDraft) -> Event:
        """NotFound if gone. Deleting a task or a board deletes its attachments with their bytes."""


class WebhookStore(Protocol):
    # -- webhooks (app.domain.webhooks; the delivery worker is app/webhooks/) ------------
    async def create_webhook(self, webhook: Webhook) -> None:
        """NotFound if the board is gone."""

    async def get_webhook(self, webhook_id: str) -> Webhook | None: ...

    async def list_webhooks(self, board_id: str) -> list[Webhook]:
        """The board's webhooks in id order (oldest first)."""

    async def update_webhook(self, webhook: Webhook, reset_backoff: bool) -> Webhook | None:
        """Replace url, events, active, disabled_reason and updated_at; with ``reset_backoff``
        also set failures to 0 and next_attempt_at to None. The webhook as stored, None if gone."""

    async def delete_webhook(self, webhook_id: str) -> bool:
        """Delete it with its delivery log; False if it did not exist. Deleting a board deletes its webhooks."""

    async def list_due_webhooks(self, now: str, after_id: str | None, limit: int) -> list[Webhook]:
        """Active webhooks in id order after ``after_id`` whose lease is free or expired at
        ``now`` and that have something due: next_attempt_at unset or not after ``now``,
        or a queued redelivery."""

    async def claim_webhook(self, webhook_id: str, owner: str, now: str, until: str) -> Webhook | None:
        """Atomically take or renew the lease (lease_owner = ``owner``, lease_until = ``until``)
        if it is free, expired at ``now``, or already ``owner``'s. The webhook after the
        claim, or None when another owner holds a live lease or the webhook is gone."""

    async def release_webhook(self, webhook_id: str, owner: str) -> None:
        """Clear the lease if ``owner`` holds it; nothing otherwise."""

    async def record_webhook_attempt(
        self, webhook_id: str, owner: str, attempt: WebhookAttempt | None, progress: WebhookProgress | None
    ) -> Webhook | None:
        """Log ``attempt`` (if the webhook still exists) and, if ``owner`` still holds the
        lease, save ``progress`` (cursor, failures, next_attempt_at). The webhook as stored
        when ``owner`` holds the lease, None otherwise (the caller must stop: a
        concurrent owner's progress is never overwritten)."""

    async def disable_webhook(self, webhook_id: str, owner: str, reason: str, event: EventDraft) -> Event | None:
        """If ``owner`` holds the lease: set active false and disabled_reason, clear the
        lease, and append ``event`` to the webhook's board log in the same write.
        None (nothing written) otherwise."""

    async def queue_webhook_redelivery(self, webhook_id: str, seq: int, limit: int) -> bool:
        """Append ``seq`` to the redelivery queue unless it already holds ``limit`` entries
        or the webhook is gone (False)."""

    async def pop_webhook_redelivery(self, webhook_id: str, owner: str) -> int | None:
        """Remove and return the oldest queued seq if ``owner`` holds the lease."""

    async def list_webhook_attempts(self, webhook_id: str, before_id: str | None, limit: int) -> list[WebhookAttempt]:
        """The delivery log newest first (id descending), before ``before_id``, at most ``limit``."""

    async def get_webhook_attempt(self, webhook_id: str, delivery_id: str) -> WebhookAttempt | None:
        """The latest attempt of one delivery (one event) of the webhook."""

    async def prune_webhook_attempts(self, webhook_id: str, keep: int) -> int:
        """Delete all but the newest ``keep`` attempts of the webhook; how many went."""


class TrashStore(Protocol):
    # -- the trash (deleted tasks, restorable until purged) ------------------------------
    async def trash_task(self, task_id: str, expected_version: int | None, deleted_by: str, event: EventDraft) -> Event:
        """Move the task and its comments into the trash (a TrashedTask under the task's id,
        deleted_at = ``event.at``) and append ``event``, in one write. Afterwards the task
        reads as gone everywhere. VersionConflict if ``expected_version`` is given and
        stale; NotFound if the task is gone."""

    async def get_trashed_task(self, task_id: str) -> TrashedTask | None: ...

    async def list_trash(self, board_id: str, limit: int) -> list[TrashedTask]:
        """The board's trash, most recently deleted first (deleted_at, then id, descending)."""

    async def restore_task(self, task: Task, comments: list[Comment], event: EventDraft) -> Event:
        """Take ``task.id`` out of the trash and store ``task`` and ``comments`` again, with
        ``event``, in one write. NotFound if it is not in the trash (restored or purged)
        or its board is gone."""

    async def purge_trashed_task(self, task_id: str, event: EventDraft) -> Event:
        """Delete the trashed task for good and append ``event``; NotFound if it is not in the trash."""

    async def list_expired_trash(self, deleted_before: str, limit: int) -> list[TrashedTask]:
        """Trashed tasks of any board deleted before ``deleted_before``, oldest first."""


class BoardTrashStore(Protocol):
    # -- the trash of deleted boards (restorable by their owners until purged) ---------------
    async def trash_board(self, board_id: str, deleted_by: str, event: EventDraft) -> Event:
        """Put the board in the trash (a TrashedBoard under its id, deleted_at = ``event.at``)
        with ``event`` appended to its log, in one write. Everything it holds stays; its
        members are kept aside: afterwards the board reads as gone everywhere (get_board,
        get_member, the boards lists). NotFound if it is gone or in the trash already."""

    async def get_trashed_board(self, board_id: str) -> TrashedBoard | None: ...

    async def get_trashed_member(self, board_id: str, user_id: str) -> Member | None:
        """The user's membership of a board in the trash, as it was when it was deleted."""

    async def list_trashed_boards(self, owner_id: str, limit: int) -> list[TrashedBoard]:
        """The trashed boards ``owner_id`` was an owner of, most recently deleted first."""

    async def list_solely_owned_trashed_boards(self, owner_id: str, limit: int) -> list[TrashedBoard]:
        """The trashed boards ``owner_id`` was the only owner of, most recently deleted first."""

    async def restore_board(self, board_id: str, event: EventDraft) -> Event:
        """Take the board out of the trash with its members (those whose account still
        exists) and append ``event``, in one write. NotFound if it is not in the trash."""

    async def purge_trashed_board(self, board_id: str) -> bool:
        """Delete a board in the trash for good, as delete_board; False if it is not in the trash."""

    async def list_expired_board_trash(self, deleted_before: str, limit: int) -> list[TrashedBoard]:
        """Trashed boards deleted before ``deleted_before``, oldest first."""


class InvitationStore(Protocol):
    # -- invitations (app.domain.invitations) -------------------------------------------
    async def create_invitation(self, invitation: Invitation, event: EventDraft) -> Event:
        """NotFound if the board is gone."""

    async def get_invitation(self, invitation_id: str) -> Invitation | None: ...

    async def get_invitation_by_token_hash(self, token_hash: str) -> Invitation | None: ...

    async def list_invitations(self, board_id: str) -> list[Invitation]:
        """The board's invitations neither accepted nor revoked (expired ones too), oldest first."""

    async def revoke_invitation(self, invitation_id: str, at: str, event: EventDraft) -> Event:
        """Set revoked_at; NotFound unless it is neither accepted nor revoked."""

    async def accept_invitation(self, invitation_id: str, member: Member, event: EventDraft) -> Event:
        """Mark it accepted by ``member.user_id`` at ``member.added_at`` and add ``member``,
        with ``event``, in one write: exactly one caller wins. NotFound unless it is pending
        (neither accepted nor revoked, expires_at after added_at) and its board exists;
        AlreadyMember (nothing written) if the user is a member already."""


class NotificationStore(Protocol):
    # -- notifications (written by the event-appending writes above; see EventDraft.notify)
    async def list_notifications(
        self, scope: NotificationScope, unread_only: bool, before_id: str | None, limit: int
    ) -> list[Notification]:
        """The scope's notifications newest first (id descending), before ``before_id``, at most ``limit``."""

    async def count_unread_notifications(self, scope: NotificationScope) -> int: ...

    async def mark_notifications_read(
        self, scope: NotificationScope, ids: list[str] | None, up_to_id: str | None, at: str
    ) -> int:
        """Set read_at = ``at`` on the scope's unread notifications among ``ids`` (None: all of
        them), only those with id <= ``up_to_id`` when given; how many changed. Ids outside
        the scope are ignored."""

    async def set_notification_read(
        self, scope: NotificationScope, notification_id: str, read_at: str | None
    ) -> Notification | None:
        """Mark one of the scope's notifications read (an already read one keeps its read_at)
        or, with None, unread. The notification after the write; None if it is not in scope."""


class TaskDocumentStore(Protocol):
    """The shared text of a task's description, a CRDT (Yjs): a set of binary updates that
    give the same document whatever order they are applied in, and applied twice are applied
    once. So none of these needs a transaction or an order; each only must not lose an update."""

    async def seed_task_document(self, task_id: str, board_id: str, state: bytes) -> bool:
        """Keep ``state`` as the document's first update unless it has one already: two
        instances seeding at once keep one seed, never both (their texts would add up).
        True when this one was kept; raise NotFound when the task is gone."""

    async def append_task_document_update(self, task_id: str, board_id: str, update: bytes) -> None:
        """Keep one more update; raise NotFound when the task is gone."""

    async def load_task_document(self, task_id: str) -> list[tuple[str, bytes]]:
        """Every update kept, as (id, bytes); empty when the document was never seeded."""

    async def compact_task_document(self, task_id: str, replaced: Sequence[str], state: bytes) -> None:
        """Keep ``state``, which holds every update in ``replaced`` (ids from
        load_task_document), in their place. Updates kept meanwhile stay."""


class MailStore(Protocol):
    # -- the email outbox (app.domain.mail; the worker is app/mail/). The event-appending
    # writes above also queue the email and digest rows of their notices (outbox_of).
    async def enqueue_mail(self, message: OutboxMessage) -> bool:
        """Queue ``message``; False (nothing written) when a message with its ``key`` exists."""

    async def get_mail(self, message_id: str) -> OutboxMessage | None: ...

    async def list_mail(self, user_id: str, limit: int) -> list[OutboxMessage]:
        """The user's messages newest first (id descending), at most ``limit``."""

    async def claim_mail(self, owner: str, now: str, until: str, limit: int) -> list[OutboxMessage]:
        """Atomically lease (lease_owner = ``owner``, lease_until = ``until``) at most ``limit``
        pending messages whose next_attempt_at is not after ``now`` and whose lease is free
        or expired at ``now``, the longest waiting first. Two callers never get one message
        while its lease lives."""

    async def finish_mail(
        self, owner: str, attempt: MailAttempt, status: MailStatus, next_attempt_at: str, error: str | None
    ) -> bool:
        """Log ``attempt`` and, if ``owner`` still holds the message's lease, count the attempt,
        set status, next_attempt_at, last_error (and sent_at = attempt.at when SENT) and
        clear the lease. True if the message was updated."""

    async def list_mail_attempts(self, message_id: str) -> list[MailAttempt]:
        """The message's delivery log, oldest first."""

    # -- notification preferences ----------------------------------------------------
    async def get_preferences(self, user_ids: Sequence[str]) -> dict[str, Preferences]:
        """The saved preferences of those users (one who never saved any is left out)."""

    async def save_preferences(self, preferences: Preferences) -> None:
        """Insert or replace the user's preferences."""


class WatchStore(Protocol):
    # -- watching ------------------------------------------------------------------------
    async def save_watch(self, watch: Watch) -> None:
        """Insert or replace the user's choice for that task (or board, task_id "")."""

    async def list_watches(self, board_id: str, task_id: str | None) -> list[Watch]:
        """The board's own watches (task_id ""), and with ``task_id`` that task's too."""


class ScheduleStore(Protocol):
    # -- the reminder and digest scheduler (app/mail/scheduler.py) -------------------------
    async def claim_lease(self, name: str, owner: str, now: str, until: str) -> bool:
        """Take or renew the named lease if it is free, expired at ``now`` or ``owner``'s."""

    async def release_lease(self, name: str, owner: str) -> None: ...

    async def list_tasks_due(
        self, after: str, until: str, after_task: tuple[str, str] | None, limit: int
    ) -> list[Task]:
        """Tasks of every board whose due_at is after ``after`` and not after ``until``, in
        (due_at, id) order, keyset-paged after ``after_task`` (its due_at and id)."""

    async def marked(self, keys: Sequence[str]) -> set[str]:
        """Those of ``keys`` that were recorded (record_reminder, queue_digest)."""

    async def record_reminder(
        self, key: str, at: str, notifications: list[Notification], mail: list[OutboxMessage]
    ) -> bool:
        """Record ``key`` and, in the same write, store the notifications (keeping each
        user's newest NOTIFICATIONS_KEPT_PER_USER) and queue the mail; False (nothing
        written) when ``key`` was recorded before."""

    async def list_held_mail(self, user_id: str, limit: int) -> list[OutboxMessage]:
        """The user's waiting digest lines, oldest first (id order), at most ``limit``."""

    async def queue_digest(self, key: str, message: OutboxMessage, held_ids: Sequence[str]) -> bool:
        """Record ``key``, queue ``message`` and mark the held lines DIGESTED in one write;
        False (nothing written) when ``key`` was recorded before."""


class AccountEmailStore(Protocol):
    # -- account emails: password reset, address confirmation -----------------------------
    async def create_account_token(self, token: AccountToken, mail: OutboxMessage) -> None:
        """Store the token and queue the email that carries it, in one write."""

    async def spend_account_token(self, token_id: str, purpose: AccountPurpose, at: str) -> AccountToken | None:
        """Atomically mark the token used at ``at`` if it is of ``purpose``, unused and not
        expired at ``at``; the token as it was, or None (then nothing changed)."""

    async def pending_account_token(self, user_id: str, purpose: AccountPurpose, at: str) -> AccountToken | None:
        """The user's newest token of ``purpose`` that is unused and not expired at ``at``."""

    async def mark_email_verified(self, user_id: str, email: str, at: str) -> None: ...

    async def verified_email(self, user_id: str) -> str | None:
        """The address the user confirmed last, None if none."""


class RecurrenceStore(Protocol):
    # -- recurring tasks (app/domain/recurrence.py): one rule per task, gone with the task
    async def get_recurrence(self, task_id: str) -> Recurrence | None: ...

    async def set_recurrence(self, recurrence: Recurrence, event: EventDraft) -> Event:
        """Create or replace the task's rule; NotFound if the task is gone."""

    async def delete_recurrence(self, task_id: str, event: EventDraft) -> Event:
        """NotFound if the task has no rule."""

    async def create_next_occurrence(
        self, previous_task_id: str, task: Task, recurrence: Recurrence, events: Sequence[EventDraft]
    ) -> list[Event] | None:
        """In one write: set the previous task's rule's ``next_task_id`` to ``task.id`` if it
        had none, insert ``task`` and its ``recurrence``, append ``events`` in order. None,
        writing nothing, when that rule is gone or already has its next occurrence (made
        by another request or instance): this is what makes the next occurrence happen once."""


class ImportStore(Protocol):
    # -- import jobs (app/domain/imports.py) -----------------------------------------------
    async def create_import_job(self, job: ImportJob) -> None: ...

    async def get_import_job(self, job_id: str) -> ImportJob | None: ...

    async def save_import_job(self, job: ImportJob) -> None:
        """Replace the stored job with ``job``."""

    async def claim_import_job(self, job_id: str, lease_until: str, now: str) -> ImportJob | None:
        """Mark a queued or running job running, held until ``lease_until``, if nobody holds
        it at ``now``; the job after the claim, or None when it is not to be run by us."""

    async def list_unfinished_import_jobs(self) -> list[ImportJob]:
        """Queued and running jobs: those a crash may have left behind."""

    # The job's file, kept where every instance reads it (SQLite: a table of the same file;
    # MongoDB: GridFS), so its parts may reach any instance and any instance may run it.
    async def append_import_part(self, job: ImportJob, offset: int, content: IO[bytes]) -> bool:
        """Store the bytes of ``content`` (from where it stands to its end, a chunk at a
        time: never all in memory) as the part of the job's file that starts at ``offset``,
        and replace the stored job with ``job`` (its ``received`` past the part), in one
        write, if the stored job is uploading and has received exactly ``offset`` bytes.
        False, keeping nothing, otherwise (the same part sent twice at once, a job that
        moved on)."""

    async def open_import_file(self, job_id: str) -> AsyncIterator[bytes]:
        """The job's file as stored: its parts' bytes in order, a chunk at a time (each read
        when asked for); nothing when it has none."""

    async def delete_import_file(self, job_id: str) -> None:
        """Delete the job's stored file (with whatever an interrupted upload left of it)."""


# -- combinations that several consumers need (a consumer that alone uses a combination
# declares it next to itself) -------------------------------------------------------------
class BoardTaskStore(BoardStore, TaskStore, Protocol):
    """Boards and their tasks, with the permission checks of app/services/access.py: the
    checklist and column services."""


class BoardLogStore(BoardStore, EventStore, Protocol):
    """A board and its event log: what the hub's feeds replay and what analytics counts."""


class UserMailStore(UserStore, MailStore, Protocol):
    """Users with their mail and preferences: the outbox worker and the preference service."""


class BoardContentStore(
    AttachmentStore,
    BoardStore,
    CommentStore,
    InvitationStore,
    RecurrenceStore,
    TaskStore,
    WatchStore,
    WebhookStore,
    Protocol,
):
    """What a board holds, for the commands that export and import whole boards (app/ops)."""


class Store(
    UserStore,
    InstanceStore,
    TwoFactorStore,
    IdentityStore,
    AccountStore,
    ApiTokenStore,
    BoardStore,
    TaskStore,
    EventStore,
    CommentStore,
    AttachmentStore,
    WebhookStore,
    NotificationStore,
    TaskDocumentStore,
    MailStore,
    WatchStore,
    ScheduleStore,
    AccountEmailStore,
    RecurrenceStore,
    ImportStore,
    TrashStore,
    BoardTrashStore,
    InvitationStore,
    Protocol,
):
    # -- lifecycle -------------------------------------------------------------------
    async def open(self) -> None:
        """Connect, create the schema/indexes, apply migrations. Idempotent across processes."""

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Return when the database answers; raise StoreUnavailable otherwise."""

    async def check_writable(self) -> None:
        """Return when a write can be made now (one small write is made to find out);
        raise StoreNotWritable when it cannot (or StoreUnavailable when nothing answers)."""
