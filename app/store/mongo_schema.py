"""The MongoDB schema: collections and every index (INDEXES, for the ops docs)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid, OperationFailure

Document = dict[str, Any]
type Client = AsyncMongoClient[Document]
type Database = AsyncDatabase[Document]

USERS = "users"
REFRESH_TOKENS = "refresh_tokens"
BOARDS = "boards"
MEMBERS = "members"
TASKS = "tasks"
EVENTS = "events"
API_TOKENS = "api_tokens"
COMMENTS = "comments"
WEBHOOKS = "webhooks"
WEBHOOK_ATTEMPTS = "webhook_attempts"
NOTIFICATIONS = "notifications"
REVOKED_SESSIONS = "revoked_sessions"
ATTACHMENTS = "attachments"
# The GridFS bucket of the attachments' bytes: collections <bucket>.files and <bucket>.chunks.
ATTACHMENT_BUCKET = "attachment_content"
ATTACHMENT_FILES = f"{ATTACHMENT_BUCKET}.files"
TASK_DOCUMENT_UPDATES = "task_document_updates"
TWO_FACTOR = "two_factor"  # by user id (_id)
EXTERNAL_IDENTITIES = "external_identities"  # by "<provider> <subject>" (_id)
INSTANCE_VALUES = "instance_values"  # the administrator's switches, by key (_id)
MAIL_OUTBOX = "mail_outbox"
MAIL_ATTEMPTS = "mail_attempts"
PREFERENCES = "preferences"
WATCHES = "watches"
SCHEDULE_MARKS = "schedule_marks"
LEASES = "leases"
ACCOUNT_TOKENS = "account_tokens"
VERIFIED_EMAILS = "verified_emails"
RECURRENCES = "recurrences"
IMPORT_JOBS = "import_jobs"
IMPORT_BUCKET = "import_content"
IMPORT_FILES = f"{IMPORT_BUCKET}.files"
TRASH = "trash"
BOARD_TRASH = "board_trash"  # deleted boards, by board id (_id)
TRASHED_MEMBERS = "trashed_members"  # a trashed board's members, kept aside as in MEMBERS
INVITATIONS = "invitations"
# Written only by the transaction check in open(); holds nothing of value.
PROBE = "_taskwire_probe"


@dataclass(frozen=True, slots=True)
class IndexSpec:
    collection: str
    name: str
    keys: tuple[tuple[str, int | str], ...]
    options: dict[str, Any] = field(default_factory=dict)

    def model(self) -> IndexModel:
        return IndexModel(list(self.keys), name=self.name, **self.options)


def _index(collection: str, name: str, *keys: tuple[str, int | str], **options: Any) -> IndexSpec:
    return IndexSpec(collection, name, keys, options)


# Every index the store relies on; open() creates them all. Names are stable so that
# an ops runbook can refer to them and a changed definition fails loudly at start-up.
INDEXES: tuple[IndexSpec, ...] = (
    # Emails are stored lower-case, so a plain unique index is case-insensitive uniqueness.
    _index(USERS, "users_email_unique", ("email", 1), unique=True),
    # Refresh tokens use the token hash as _id (unique by construction).
    _index(REFRESH_TOKENS, "refresh_tokens_family", ("family_id", 1)),
    # A password change ends the user's other sessions: it finds them by user.
    _index(REFRESH_TOKENS, "refresh_tokens_user", ("user_id", 1), ("family_id", 1)),
    _index(REFRESH_TOKENS, "refresh_tokens_purge_ttl", ("purge_after", 1), expireAfterSeconds=0),
    # Revoked sessions use the session id as _id; they go once their last access token has expired.
    _index(REVOKED_SESSIONS, "revoked_sessions_until", ("until", 1)),
    # A deleted account's links go with it.
    _index(EXTERNAL_IDENTITIES, "external_identities_user", ("user_id", 1)),
    # A pending email change is the newest unspent link of its purpose for the user.
    _index(ACCOUNT_TOKENS, "account_tokens_user_purpose", ("user_id", 1), ("purpose", 1), ("created_at", -1)),
    _index(REVOKED_SESSIONS, "revoked_sessions_purge_ttl", ("purge_after", 1), expireAfterSeconds=0),
    _index(MEMBERS, "members_board_user_unique", ("board_id", 1), ("user_id", 1), unique=True),
    _index(MEMBERS, "members_user_board", ("user_id", 1), ("board_id", 1)),
    _index(TASKS, "tasks_board_status_position", ("board_id", 1), ("status", 1), ("position", 1), ("_id", 1)),
    _index(TASKS, "tasks_board_position", ("board_id", 1), ("position", 1), ("_id", 1)),
    _index(TASKS, "tasks_board_created", ("board_id", 1), ("created_at", 1), ("_id", 1)),
    _index(TASKS, "tasks_board_updated", ("board_id", 1), ("updated_at", 1), ("_id", 1)),
    _index(TASKS, "tasks_board_due", ("board_id", 1), ("due_key", 1), ("_id", 1)),
    _index(TASKS, "tasks_board_priority", ("board_id", 1), ("priority_rank", 1), ("_id", 1)),
    # An assignee's or a label's tasks in board order straight from the index: without the
    # sort keys the server must sort every match, or walk the board and filter (issue 13).
    # (The earlier tasks_board_assignees and tasks_board_labels are prefixes of these.)
    _index(TASKS, "tasks_board_assignees_position", ("board_id", 1), ("assignees", 1), ("position", 1), ("_id", 1)),
    _index(TASKS, "tasks_board_labels_position", ("board_id", 1), ("labels", 1), ("position", 1), ("_id", 1)),
    # board_id as an equality prefix keeps each search inside one board's postings.
    # Language "none": no stemming or stop words, so every word the user typed counts,
    # whatever language the tasks are written in.
    _index(
        TASKS,
        "tasks_board_text",
        ("board_id", 1),
        ("title", "text"),
        ("description", "text"),
        default_language="none",
    ),
    _index(EVENTS, "events_board_seq_unique", ("board_id", 1), ("seq", 1), unique=True),
    # A task's own history: its task events (data.id) and its comments' (data.task_id).
    _index(EVENTS, "events_board_task_id", ("board_id", 1), ("data.id", 1), ("seq", 1)),
    _index(EVENTS, "events_board_comment_task", ("board_id", 1), ("data.task_id", 1), ("seq", 1)),
    # Every API request looks its token up by hash; listing is per user, oldest first.
    _index(API_TOKENS, "api_tokens_hash_unique", ("token_hash", 1), unique=True),
    _index(API_TOKENS, "api_tokens_user_created", ("user_id", 1), ("created_at", 1), ("_id", 1)),
    # Comment ids are time-ordered: (task_id, _id) walks a task's comments oldest first.
    _index(COMMENTS, "comments_task", ("task_id", 1), ("_id", 1)),
    _index(COMMENTS, "comments_board", ("board_id", 1)),
    _index(RECURRENCES, "recurrences_board", ("board_id", 1)),
    _index(IMPORT_JOBS, "import_jobs_state", ("state", 1)),
    # An import job's parts in the order of the file (GridFS files of their own).
    _index(IMPORT_FILES, "import_files_job", ("metadata.job_id", 1), ("metadata.offset", 1)),
    # A board's webhooks; the delivery workers' scan over the active ones in id order.
    _index(WEBHOOKS, "webhooks_board", ("board_id", 1), ("_id", 1)),
    _index(WEBHOOKS, "webhooks_active", ("active", 1), ("_id", 1)),
    # The delivery log newest first, one delivery's latest attempt, and a board's (to delete them with it).
    _index(WEBHOOK_ATTEMPTS, "webhook_attempts_webhook", ("webhook_id", 1), ("_id", 1)),
    _index(WEBHOOK_ATTEMPTS, "webhook_attempts_delivery", ("webhook_id", 1), ("delivery_id", 1), ("_id", 1)),
    _index(WEBHOOK_ATTEMPTS, "webhook_attempts_board", ("board_id", 1)),
    # A user's notifications newest first, the unread ones alone (read_at null), and a board's.
    _index(NOTIFICATIONS, "notifications_user", ("user_id", 1), ("_id", 1)),
    _index(NOTIFICATIONS, "notifications_user_unread", ("user_id", 1), ("read_at", 1), ("_id", 1)),
    _index(NOTIFICATIONS, "notifications_board", ("board_id", 1)),
    # A task's attachments oldest first; a board's with their sizes (its quota's sum).
    _index(ATTACHMENTS, "attachments_task", ("task_id", 1), ("_id", 1)),
    _index(ATTACHMENTS, "attachments_board", ("board_id", 1), ("size", 1)),
    # The stored files of a task or board, found to delete them with it (GridFS makes its own
    # indexes on first use; these are ours).
    _index(ATTACHMENT_FILES, "attachment_files_task", ("metadata.task_id", 1)),
    _index(ATTACHMENT_FILES, "attachment_files_board", ("metadata.board_id", 1)),
    # A description document's updates, and a board's (to delete them with it).
    _index(TASK_DOCUMENT_UPDATES, "task_document_updates_task", ("task_id", 1), ("_id", 1)),
    _index(TASK_DOCUMENT_UPDATES, "task_document_updates_board", ("board_id", 1)),
    # The mail workers' scan for due messages, a user's messages, and keys queued once.
    _index(MAIL_OUTBOX, "mail_outbox_due", ("status", 1), ("next_attempt_at", 1), ("_id", 1)),
    _index(MAIL_OUTBOX, "mail_outbox_user", ("user_id", 1), ("status", 1), ("_id", 1)),
    _index(
        MAIL_OUTBOX,
        "mail_outbox_key_unique",
        ("key", 1),
        unique=True,
        partialFilterExpression={"key": {"$type": "string"}},
    ),
    _index(MAIL_ATTEMPTS, "mail_attempts_message", ("message_id", 1), ("_id", 1)),
    # A task's watchers with its board's, in one range; a board's (to delete them with it).
    _index(WATCHES, "watches_board_task", ("board_id", 1), ("task_id", 1), ("user_id", 1)),
    # The reminder scheduler's walk over every board's tasks by due date.
    _index(TASKS, "tasks_due_everywhere", ("due_key", 1), ("_id", 1)),
    # A board's trash newest first, and the purge's walk over what is due, oldest first.
    _index(TRASH, "trash_board_deleted", ("board_id", 1), ("deleted_at", -1), ("_id", -1)),
    _index(TRASH, "trash_deleted", ("deleted_at", 1), ("_id", 1)),
    # The deleted boards an owner may restore, newest first; the purge's walk, oldest first.
    _index(TRASHED_MEMBERS, "trashed_members_board_user", ("board_id", 1), ("user_id", 1)),
    _index(TRASHED_MEMBERS, "trashed_members_user_role", ("user_id", 1), ("role", 1), ("board_id", 1)),
    _index(BOARD_TRASH, "board_trash_deleted", ("deleted_at", 1), ("_id", 1)),
    # An invitation link is looked up by its token's hash; a board lists its own.
    _index(INVITATIONS, "invitations_token_hash_unique", ("token_hash", 1), unique=True),
    _index(INVITATIONS, "invitations_board", ("board_id", 1), ("created_at", 1), ("_id", 1)),
)

# IndexBuildAlreadyInProgress (older servers, when another process builds the same index).
_INDEX_BUILD_IN_PROGRESS = 276


async def ensure_indexes(db: Database) -> None:
    """Create every index; identical definitions are a no-op, so several processes may race here."""
    by_collection: dict[str, list[IndexModel]] = {}
    for spec in INDEXES:
        by_collection.setdefault(spec.collection, []).append(spec.model())
    for name in (
        USERS,
        REFRESH_TOKENS,
        BOARDS,
        MEMBERS,
        TASKS,
        EVENTS,
        API_TOKENS,
        COMMENTS,
        WEBHOOKS,
        WEBHOOK_ATTEMPTS,
        NOTIFICATIONS,
        REVOKED_SESSIONS,
        ATTACHMENTS,
        ATTACHMENT_FILES,
        TASK_DOCUMENT_UPDATES,
        INSTANCE_VALUES,
        TWO_FACTOR,
        EXTERNAL_IDENTITIES,
        MAIL_OUTBOX,
        MAIL_ATTEMPTS,
        PREFERENCES,
        WATCHES,
        SCHEDULE_MARKS,
        LEASES,
        ACCOUNT_TOKENS,
        VERIFIED_EMAILS,
        RECURRENCES,
        IMPORT_JOBS,
        IMPORT_FILES,
        TRASH,
        BOARD_TRASH,
        TRASHED_MEMBERS,
        INVITATIONS,
    ):
        models = by_collection.get(name)
        if models is None:
            # Created up front because older servers cannot create a collection inside a transaction.
            await _create_collection(db, name)
        else:
            await _create_indexes(db, name, models)


async def _create_collection(db: Database, name: str) -> None:
    try:
        await db.create_collection(name)
    except CollectionInvalid:
        pass  # it exists already
    except OperationFailure:
        # Another process created it between the check and the create (NamespaceExists,
        # which some servers send without a code): only a still-missing collection is an error.
        if name not in await db.list_collection_names(filter={"name": name}):
            raise


async def _create_indexes(db: Database, name: str, models: list[IndexModel]) -> None:
    for attempt in range(5):
        try:
            await db[name].create_indexes(models)
            return
        except OperationFailure as exc:
            if exc.code != _INDEX_BUILD_IN_PROGRESS or attempt == 4:
                raise
            await asyncio.sleep(0.2 * (attempt + 1))
