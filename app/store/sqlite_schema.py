"""The SQLite schema as numbered migrations; ``PRAGMA user_version`` is the last one applied.

Append a new tuple to add a migration; never edit one that has shipped. Each migration is a
list of single statements (``executescript`` would commit the surrounding transaction).
"""

from __future__ import annotations

import sqlite3


def _members_table(name: str) -> str:
    """Board members; a trashed board's are moved aside into a table of the same columns."""
    return f"""CREATE TABLE {name} (
        board_id TEXT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
        user_id TEXT NOT NULL,
        role TEXT NOT NULL,
        added_at TEXT NOT NULL,
        PRIMARY KEY (board_id, user_id)
    ) WITHOUT ROWID"""


def _task_side_table(name: str, key: str) -> tuple[str, str]:
    """A side table of tasks by one ``key`` (an assignee, a label) within a board, and its
    index by task (for rewriting a task's rows)."""
    return (
        f"""CREATE TABLE {name} (
        board_id TEXT NOT NULL,
        {key} TEXT NOT NULL,
        task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        PRIMARY KEY (board_id, {key}, task_id)
    ) WITHOUT ROWID""",
        f"CREATE INDEX {name}_task ON {name} (task_id)",
    )


_INITIAL = (
    """CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    # Emails are stored lower-case, so a plain unique index is case-insensitive.
    "CREATE UNIQUE INDEX users_email ON users (email)",
    """CREATE TABLE refresh_tokens (
        token_hash TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        family_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT,
        revoked INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID""",
    "CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)",
    """CREATE TABLE boards (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        columns TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        seq INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID""",
    _members_table("members"),
    "CREATE INDEX members_user ON members (user_id, board_id)",
    # rid is an explicit INTEGER PRIMARY KEY because the FTS table refers to tasks by rowid,
    # and VACUUM may renumber implicit rowids.
    """CREATE TABLE tasks (
        rid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        board_id TEXT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
        title TEXT NOT NULL,
        description TEXT NOT NULL,
        status TEXT NOT NULL,
        priority TEXT NOT NULL,
        priority_rank INTEGER NOT NULL,
        assignees TEXT NOT NULL,
        labels TEXT NOT NULL,
        due_at TEXT,
        due_key TEXT NOT NULL,
        position TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        version INTEGER NOT NULL
    )""",
    # One index per sort (and the column-scoped position order); id ends each so that
    # the keyset (key, id) is walked straight from the index.
    "CREATE INDEX tasks_status_position ON tasks (board_id, status, position, id)",
    "CREATE INDEX tasks_position ON tasks (board_id, position, id)",
    "CREATE INDEX tasks_created ON tasks (board_id, created_at, id)",
    "CREATE INDEX tasks_updated ON tasks (board_id, updated_at, id)",
    "CREATE INDEX tasks_due ON tasks (board_id, due_key, id)",
    "CREATE INDEX tasks_priority ON tasks (board_id, priority_rank, id)",
    # The JSON columns of tasks stay the source of the returned record; these side tables
    # only exist to make "tasks of one assignee / with one label" an index lookup.
    *_task_side_table("task_assignees", "user_id"),
    *_task_side_table("task_labels", "label"),
    """CREATE VIRTUAL TABLE tasks_fts USING fts5 (
        title, description, content = 'tasks', content_rowid = 'rid',
        tokenize = 'unicode61 remove_diacritics 2'
    )""",
    # Triggers keep the external-content index in the same transaction as every change,
    # including the rows a cascade removes.
    """CREATE TRIGGER tasks_fts_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO tasks_fts (rowid, title, description) VALUES (new.rid, new.title, new.description);
    END""",
    """CREATE TRIGGER tasks_fts_delete AFTER DELETE ON tasks BEGIN
        INSERT INTO tasks_fts (tasks_fts, rowid, title, description)
        VALUES ('delete', old.rid, old.title, old.description);
    END""",
    """CREATE TRIGGER tasks_fts_update AFTER UPDATE OF title, description ON tasks BEGIN
        INSERT INTO tasks_fts (tasks_fts, rowid, title, description)
        VALUES ('delete', old.rid, old.title, old.description);
        INSERT INTO tasks_fts (rowid, title, description) VALUES (new.rid, new.title, new.description);
    END""",
    """CREATE TABLE events (
        board_id TEXT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        type TEXT NOT NULL,
        actor TEXT NOT NULL,
        at TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (board_id, seq)
    ) WITHOUT ROWID""",
)

# Personal API tokens, task comments, and the client mutation id events echo.
_TOKENS_AND_COMMENTS = (
    """CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        scopes TEXT NOT NULL,
        board_ids TEXT,
        created_at TEXT NOT NULL,
        expires_at TEXT,
        last_used_at TEXT
    ) WITHOUT ROWID""",
    "CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at, id)",
    """CREATE TABLE comments (
        id TEXT PRIMARY KEY,
        board_id TEXT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
        task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        author_id TEXT NOT NULL,
        body TEXT NOT NULL,
        mentions TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX comments_task ON comments (task_id, id)",
    "CREATE INDEX comments_board ON comments (board_id)",
    "ALTER TABLE events ADD COLUMN client_mutation_id TEXT",
)

# Webhooks per board and their delivery log (one row per HTTP attempt).
_WEBHOOKS = (
    """CREATE TABLE webhooks (
        id TEXT PRIMARY KEY,
        board_id TEXT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
        url TEXT NOT NULL,
        secret TEXT NOT NULL,
        events TEXT,
        active INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        cursor INTEGER NOT NULL,
        failures INTEGER NOT NULL,
        next_attempt_at TEXT,
        disabled_reason TEXT,
        redeliveries TEXT NOT NULL,
        lease_owner TEXT,
        lease_until TEXT
    ) WITHOUT ROWID""",
    "CREATE INDEX webhooks_board ON webhooks (board_id, id)",
    # The delivery workers' scan walks only the active ones.
    "CREATE INDEX webhooks_active ON webhooks (id) WHERE active = 1",
    """CREATE TABLE webhook_attempts (
        id TEXT PRIMARY KEY,
        webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
        board_id TEXT NOT NULL,
        delivery_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        event_type TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        manual INTEGER NOT NULL,
        status_code INTEGER,
        latency_ms INTEGER NOT NULL,
        error TEXT,
        response_body TEXT,
        at TEXT NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX webhook_attempts_webhook ON webhook_attempts (webhook_id, id)",
    "CREATE INDEX webhook_attempts_delivery ON webhook_attempts (webhook_id, delivery_id, id)",
    "CREATE INDEX webhook_attempts_board ON webhook_attempts (board_id)",
)

# Each user's notifications, written with the board event that causes them.
_NOTIFICATIONS = (
    """CREATE TABLE notifications (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        type TEXT NOT NULL,
        board_id TEXT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
        board_name TEXT NOT NULL,
        actor TEXT NOT NULL,
        actor_name TEXT NOT NULL,
        at TEXT NOT NULL,
        seq INTEGER NOT NULL,
        task_id TEXT,
        comment_id TEXT,
        data TEXT NOT NULL,
        read_at TEXT
    ) WITHOUT ROWID""",
    # Newest first per user, and the unread ones alone (the badge count and the unread list).
    "CREATE INDEX notifications_user ON notifications (user_id, id)",
    "CREATE INDEX notifications_user_unread ON notifications (user_id, id) WHERE read_at IS NULL",
    "CREATE INDEX notifications_board ON notifications (board_id)",
)

# The full-text index also holds each task's board id, so that a search matches within one
# board instead of listing every match in the file (issue 13). Rebuilt from the tasks.
_FTS_BY_BOARD = (
    "DROP TRIGGER tasks_fts_insert",
    "DROP TRIGGER tasks_fts_delete",
    "DROP TRIGGER tasks_fts_update",
    "DROP TABLE tasks_fts",
    """CREATE VIRTUAL TABLE tasks_fts USING fts5 (
        board_id, title, description, content = 'tasks', content_rowid = 'rid',
        tokenize = 'unicode61 remove_diacritics 2'
    )""",
    """CREATE TRIGGER tasks_fts_insert AFTER INSERT ON tasks BEGIN
        INSERT INTO tasks_fts (rowid, board_id, title, description)
        VALUES (new.rid, new.board_id, new.title, new.description);
    END""",
    """CREATE TRIGGER tasks_fts_delete AFTER DELETE ON tasks BEGIN
        INSERT INTO tasks_fts (tasks_fts, rowid, board_id, title, description)
        VALUES ('delete', old.rid, old.board_id, old.title, old.description);
    END""",
    # A task never changes board, so only title and description changes reindex it.
    """CREATE TRIGGER tasks_fts_update AFTER UPDATE OF title, description ON tasks BEGIN
        INSERT INTO tasks_fts (tasks_fts, rowid, board_id, title, description)
        VALUES ('delete', old.rid, old.board_id, old.title, old.description);
        INSERT INTO tasks_fts (rowid, board_id, title, description)
        VALUES (new.rid, new.board_id, new.title, new.description);
    END""",
    "INSERT INTO tasks_fts (tasks_fts) VALUES ('rebuild')",
)

# Revoked login sessions, until their last access token has expired: what authentication
# checks when the broker (which holds the same marks for speed) is down.
_REVOKED_SESSIONS = (
    """CREATE TABLE revoked_sessions (
        session_id TEXT PRIMARY KEY,
        until TEXT NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX revoked_sessions_until ON revoked_sessions (until)",
    # One row, rewritten by /readyz to find out whether writes go through.
    "CREATE TABLE write_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at TEXT NOT NULL)",
)

# A password change ends the user's other sessions: it finds them by user.
_SESSIONS_BY_USER = ("CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id, family_id)",)

# The task an event is about: a task event's data is the task (its id), a comment event's
# the comment (its task_id). Ids are unique across kinds, so no other event matches a task.
EVENT_TASK_ID = "coalesce(json_extract(data, '$.task_id'), json_extract(data, '$.id'))"

# A task's own history (the task dialog) without reading the board's whole log.
_EVENTS_BY_TASK = (f"CREATE INDEX events_task ON events (board_id, {EVENT_TASK_ID}, seq)",)

# Attachments: the record, an image's thumbnail beside it, and the bytes in chunks of their
# own rows (so a file is written and read a chunk at a time, never whole in memory). In the
# database file, so backups, every process and the deletes of a task or board include them.
_ATTACHMENT_INDEXES = (
    "CREATE INDEX attachments_task ON attachments (task_id, id)",
    # The quota's sum reads this index alone.
    "CREATE INDEX attachments_board ON attachments (board_id, size)",
)
# A rowid table: rows of large blobs do not belong in a WITHOUT ROWID b-tree.
_ATTACHMENT_CHUNKS = """CREATE TABLE attachment_chunks (
    attachment_id TEXT NOT NULL REFERENCES attachments (id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (attachment_id, n)
)"""


def _attachments_table(task_id: str) -> str:
    """The table as each migration creates it; only its ``task_id`` column changed."""
    return f"""CREATE TABLE attachments (
        id TEXT PRIMARY KEY,
        board_id TEXT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
        {task_id},
        name TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        has_thumbnail INTEGER NOT NULL,
        uploaded_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        thumbnail BLOB
    )"""


_ATTACHMENTS = (
    _attachments_table("task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE"),
    *_ATTACHMENT_INDEXES,
    _ATTACHMENT_CHUNKS,
)

# The shared description documents: CRDT updates, deleted with their task (and so their board).
_TASK_DOCUMENTS = (
    """CREATE TABLE task_document_updates (
        id INTEGER PRIMARY KEY,
        task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        board_id TEXT NOT NULL,
        data BLOB NOT NULL
    )""",
    "CREATE INDEX task_document_updates_task ON task_document_updates (task_id, id)",
)

# Columns with display names and work-in-progress limits beside their keys, and tasks'
# checklists (a JSON array on the task: a checklist is read and written with its task).
_COLUMN_NAMES_AND_CHECKLISTS = (
    "ALTER TABLE boards ADD COLUMN column_names TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE boards ADD COLUMN wip_limits TEXT NOT NULL DEFAULT '{}'",
    "ALTER TABLE tasks ADD COLUMN checklist TEXT NOT NULL DEFAULT '[]'",
)
# The API token an event's change was made with (Event.via), as JSON.
_EVENTS_VIA_TOKEN = ("ALTER TABLE events ADD COLUMN via TEXT",)

# The instance administrator disables accounts and switches registration (app/services/admin.py).
_INSTANCE_ADMIN = (
    "ALTER TABLE users ADD COLUMN disabled_at TEXT",
    "CREATE TABLE instance_values (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
)

# Each user's TOTP second factor (app/services/two_factor.py).
_TWO_FACTOR = (
    """CREATE TABLE two_factor (
        user_id TEXT PRIMARY KEY,
        secret TEXT NOT NULL,
        created_at TEXT NOT NULL,
        confirmed_at TEXT,
        recovery_hashes TEXT NOT NULL,
        last_used_step INTEGER NOT NULL
    ) WITHOUT ROWID""",
)

# Accounts at OpenID Connect providers linked to users (app/services/oidc.py).
_EXTERNAL_IDENTITIES = (
    """CREATE TABLE external_identities (
        provider TEXT NOT NULL,
        subject TEXT NOT NULL,
        user_id TEXT NOT NULL,
        email TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (provider, subject)
    ) WITHOUT ROWID""",
    "CREATE INDEX external_identities_user ON external_identities (user_id)",
)

# Email (app/mail/): the outbox, written in the write that causes a message and drained
# under per-message leases; its delivery log; each user's notification preferences.
_MAIL = (
    """CREATE TABLE mail_outbox (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        data TEXT NOT NULL,
        key TEXT UNIQUE,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        last_error TEXT,
        lease_owner TEXT,
        lease_until TEXT
    ) WITHOUT ROWID""",
    "CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at, id)",
    "CREATE INDEX mail_outbox_user ON mail_outbox (user_id, status, id)",
    """CREATE TABLE mail_attempts (
        id TEXT PRIMARY KEY,
        message_id TEXT NOT NULL REFERENCES mail_outbox(id) ON DELETE CASCADE,
        attempt INTEGER NOT NULL,
        ok INTEGER NOT NULL,
        error TEXT,
        owner TEXT NOT NULL,
        at TEXT NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX mail_attempts_message ON mail_attempts (message_id, id)",
    """CREATE TABLE preferences (
        user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        channels TEXT NOT NULL,
        time_zone TEXT NOT NULL,
        quiet_start TEXT,
        quiet_end TEXT,
        reminder_lead_minutes INTEGER NOT NULL,
        digest_hour INTEGER NOT NULL,
        updated_at TEXT
    ) WITHOUT ROWID""",
)

# Who watches a task or a board by choice (the defaults are not stored).
_WATCHES = (
    """CREATE TABLE watches (
        board_id TEXT NOT NULL REFERENCES boards(id) ON DELETE CASCADE,
        task_id TEXT NOT NULL,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        watching INTEGER NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (board_id, task_id, user_id)
    ) WITHOUT ROWID""",
)

# The reminder and digest scheduler (app/mail/scheduler.py): tasks by due date across
# boards, what was done once (a key per reminder and digest), and named leases.
_SCHEDULE = (
    "CREATE INDEX tasks_by_due ON tasks (due_key, id)",
    "CREATE TABLE schedule_marks (key TEXT PRIMARY KEY, at TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, until TEXT NOT NULL) WITHOUT ROWID",
)

# Account emails: single-use password reset and address confirmation links, and the
# addresses confirmed.
_ACCOUNT_EMAILS = (
    """CREATE TABLE account_tokens (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        purpose TEXT NOT NULL,
        email TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT
    ) WITHOUT ROWID""",
    """CREATE TABLE verified_emails (
        user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        email TEXT NOT NULL,
        at TEXT NOT NULL
    ) WITHOUT ROWID""",
)

# Recurring tasks: one rule per task (app/domain/recurrence.py), gone with its task.
_RECURRENCES = (
    """CREATE TABLE recurrences (
        task_id TEXT PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
        board_id TEXT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        interval INTEGER NOT NULL,
        weekdays TEXT NOT NULL,
        day_of_month INTEGER,
        series_id TEXT NOT NULL,
        previous_task_id TEXT,
        next_task_id TEXT,
        created_by TEXT NOT NULL,
        updated_at TEXT NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX recurrences_board ON recurrences (board_id)",
)

# Import jobs (app/domain/imports.py): the file is on the instance's disk, the job here.
_IMPORT_JOBS = (
    """CREATE TABLE import_jobs (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        source TEXT NOT NULL,
        state TEXT NOT NULL,
        file_name TEXT NOT NULL,
        size INTEGER NOT NULL,
        received INTEGER NOT NULL,
        options TEXT NOT NULL,
        board_id TEXT,
        progress INTEGER NOT NULL,
        result TEXT NOT NULL,
        error TEXT,
        lease_until TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX import_jobs_state ON import_jobs (state)",
)

# Archive (tasks and boards), the trash of deleted tasks (purged under the scheduler's
# named leases, _SCHEDULE), and invitations by link.
_ARCHIVE_TRASH_INVITATIONS = (
    "ALTER TABLE tasks ADD COLUMN archived_at TEXT",
    "ALTER TABLE boards ADD COLUMN archived_at TEXT",
    # The archived tasks of a board are few: the ?archived=true list walks only them.
    "CREATE INDEX tasks_archived ON tasks (board_id, archived_at, id) WHERE archived_at IS NOT NULL",
    """CREATE TABLE trash (
        id TEXT PRIMARY KEY,
        board_id TEXT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
        title TEXT NOT NULL,
        deleted_by TEXT NOT NULL,
        deleted_at TEXT NOT NULL,
        task TEXT NOT NULL,
        comments TEXT NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX trash_board ON trash (board_id, deleted_at, id)",
    "CREATE INDEX trash_deleted ON trash (deleted_at, id)",
    """CREATE TABLE invitations (
        id TEXT PRIMARY KEY,
        board_id TEXT NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
        email TEXT NOT NULL,
        role TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        accepted_at TEXT,
        accepted_by TEXT,
        revoked_at TEXT
    ) WITHOUT ROWID""",
    "CREATE INDEX invitations_board ON invitations (board_id, created_at, id)",
)

# A deleted board stays in its tables, marked trashed_at (it then reads as gone), with its
# members moved aside into trashed_members so no membership check or list finds it.
_BOARD_TRASH = (
    "ALTER TABLE boards ADD COLUMN trashed_at TEXT",
    """CREATE TABLE board_trash (
        id TEXT PRIMARY KEY REFERENCES boards (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        description TEXT NOT NULL,
        deleted_by TEXT NOT NULL,
        deleted_at TEXT NOT NULL
    ) WITHOUT ROWID""",
    "CREATE INDEX board_trash_deleted ON board_trash (deleted_at, id)",
    _members_table("trashed_members"),
    "CREATE INDEX trashed_members_user ON trashed_members (user_id, role, board_id)",
)

# An import job's file, uploaded in parts to any instance and read by whichever runs the
# job: chunks of its bytes by where they start in the file. A rowid table: rows of large
# blobs do not belong in a WITHOUT ROWID b-tree.
_IMPORT_FILES = (
    """CREATE TABLE import_chunks (
        job_id TEXT NOT NULL,
        start INTEGER NOT NULL,
        data BLOB NOT NULL,
        UNIQUE (job_id, start)
    )""",
)

# A pending email change is the newest unspent link of its purpose for the user; when each
# session signed in (app/services/auth.py: a recent sign-in).
_ACCOUNT_CHANGES = (
    "CREATE INDEX account_tokens_user_purpose ON account_tokens (user_id, purpose, created_at)",
    "ALTER TABLE refresh_tokens ADD COLUMN signed_in_at TEXT",
)

# A trashed task's files wait in the trash with it (restored with it, deleted by its purge),
# so an attachment no longer goes with its task's row: the table is rebuilt without that
# foreign key. Its chunks are moved to a rebuilt table first: dropping a table their foreign
# key refers to would delete them with it (foreign keys are on, and a migration runs inside
# a transaction, where they cannot be switched off).
_ATTACHMENTS_OUTLIVE_THEIR_TASK_ROW = (
    # Renamed, the old table takes the chunks' foreign key and its indexes along.
    "ALTER TABLE attachments RENAME TO attachments_old",
    "DROP INDEX attachments_task",
    "DROP INDEX attachments_board",
    _attachments_table("task_id TEXT NOT NULL"),
    "INSERT INTO attachments SELECT * FROM attachments_old",
    *_ATTACHMENT_INDEXES,
    "ALTER TABLE attachment_chunks RENAME TO attachment_chunks_old",
    _ATTACHMENT_CHUNKS,
    "INSERT INTO attachment_chunks (attachment_id, n, data) SELECT attachment_id, n, data FROM attachment_chunks_old",
    "DROP TABLE attachment_chunks_old",
    "DROP TABLE attachments_old",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    _INITIAL,
    _TOKENS_AND_COMMENTS,
    _WEBHOOKS,
    _NOTIFICATIONS,
    _FTS_BY_BOARD,
    _REVOKED_SESSIONS,
    _SESSIONS_BY_USER,
    _EVENTS_BY_TASK,
    _ATTACHMENTS,
    _TASK_DOCUMENTS,
    _COLUMN_NAMES_AND_CHECKLISTS,
    _INSTANCE_ADMIN,
    _TWO_FACTOR,
    _EXTERNAL_IDENTITIES,
    _MAIL,
    _WATCHES,
    _SCHEDULE,
    _ACCOUNT_EMAILS,
    _EVENTS_VIA_TOKEN,
    _RECURRENCES,
    _IMPORT_JOBS,
    _ARCHIVE_TRASH_INVITATIONS,
    _BOARD_TRASH,
    _IMPORT_FILES,
    _ACCOUNT_CHANGES,
    _ATTACHMENTS_OUTLIVE_THEIR_TASK_ROW,
)


class SchemaTooNew(RuntimeError):
    """The file was migrated by a newer Taskwire than this one."""


def apply_migrations(conn: sqlite3.Connection) -> int:
    """Bring the file to the latest version and return it. Run it inside BEGIN IMMEDIATE:
    holding the write lock while reading and bumping the version is what makes two
    processes opening one file at once apply each migration exactly once."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    if current > len(MIGRATIONS):
        raise SchemaTooNew(f"database schema version {current} is newer than {len(MIGRATIONS)}")
    for version in range(current + 1, len(MIGRATIONS) + 1):
        for statement in MIGRATIONS[version - 1]:
            conn.execute(statement)
        # PRAGMA takes no bound parameters; the value is an int from this module.
        conn.execute(f"PRAGMA user_version = {int(version)}")
    return len(MIGRATIONS)
