"""``import-board``: recreate an exported board under a new id, with its members, tasks,
comments, attachments, webhooks, watches, recurrence rules and pending invitations, through
the store protocols only (so on either store, and with every write's event).

Users are matched by email. A member without an account here is skipped with a warning,
and so is an assignee who did not become a member (assignees must be members), and a
comment whose author has no account here (it would otherwise speak in someone else's
name). Comments keep their authors, text, mentions and times, in their order; nobody is
notified of an import. Attachments keep their names, types, bytes, thumbnails and times
(an uploader without an account here becomes the importing owner); the board's attachment
quota does not apply to an import. Webhooks keep their URL and event types, but their secrets were not
exported: each comes back switched off (``imported_without_secret``) with a fresh secret
that nobody knows, so nothing is sent until an admin recreates it with the receiver's
secret. Watches are kept for the people who are members here (watching needs a place on
the board). A recurring task keeps its rule and its links to the other occurrences of its
series (a link to an occurrence not in the file, deleted in the source, still counts: a
task whose next occurrence was made does not recur again). A pending invitation keeps its
email, role, inviter and expiry, but its link was not exported: each gets a new one,
printed for the operator to pass on (nobody is sent anything); those expired by the time
of the import, and those of people who are members here already, are left out. Each
import makes a new board: importing a file twice gives two boards.

The old event log is not replayed: it refers to ids of the source deployment, and the
protocol appends events only as the effect of a change. It stays in the export file; the
new board's log starts with this import (``member.added``, ``task.created``,
``comment.created``, ``attachment.added``, ``task.recurrence_set``, ``invitation.created``).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import secrets
from pathlib import Path
from typing import Any, Protocol

from app.domain import clock
from app.domain.ids import new_id, new_id_after
from app.domain.invitations import Invitation
from app.domain.mail import Watch
from app.domain.models import Attachment, Board, Comment, EventDraft, Member, Priority, Role, Task, User
from app.domain.recurrence import Recurrence, RecurrenceKind
from app.domain.views import attachment_view, comment_view, member_view, recurrence_view, task_view
from app.domain.webhooks import Webhook
from app.ops.board_export import FORMAT, FORMAT_VERSION
from app.ops.common import OpsError, opened_store, progress
from app.services.invitations import INVITE_PATH, hash_invitation_token, invitation_view
from app.settings import Settings
from app.store.base import BoardContentStore, UserStore
from app.webhooks.signing import new_secret

COMMAND = "import-board"
PROGRESS_EVERY = 100
# Version 1 files have neither comments nor webhooks; they import as before.
READABLE_VERSIONS = (1, FORMAT_VERSION)
IMPORTED_WITHOUT_SECRET = "imported_without_secret"


async def import_board(settings: Settings, source: Path, owner_email: str | None = None) -> str:
    """Import the file and return the new board's id."""
    document = _read_export(source)
    async with opened_store(settings) as store:
        owner = await _choose_owner(store, document, owner_email)
        importer = _BoardImport(store, document, owner, settings.public_base_url)
        return await importer.run()


def _read_export(source: Path) -> dict[str, Any]:
    try:
        document = json.loads(source.read_bytes())
    except OSError as error:
        raise OpsError(f"cannot read {source}: {error.strerror}") from None
    except ValueError as error:
        raise OpsError(f"{source} is not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise OpsError(f"{source} is not a Taskwire board export")
    if document.get("format_version") not in READABLE_VERSIONS:
        raise OpsError(
            f"{source} has export format version {document.get('format_version')!r}; "
            f"this Taskwire reads versions {', '.join(map(str, READABLE_VERSIONS))}"
        )
    for key in ("board", "members", "users", "tasks"):
        if key not in document:
            raise OpsError(f"{source} has no {key!r}")
    return document


async def _choose_owner(store: UserStore, document: dict[str, Any], owner_email: str | None) -> User:
    if owner_email is not None:
        owner = await store.get_user_by_email(owner_email.strip().lower())
        if owner is None:
            raise OpsError(f"no account has the email {owner_email!r}")
        return owner
    for member in document["members"]:
        if member["role"] == Role.OWNER.value and (owner := await store.get_user_by_email(member["email"].lower())):
            return owner
    raise OpsError("none of the board's owners has an account here; pass --owner-email")


class BoardImportStore(BoardContentStore, UserStore, Protocol): ...


class _BoardImport:
    def __init__(self, store: BoardImportStore, document: dict[str, Any], owner: User, link_base: str) -> None:
        self._store = store
        self._link_base = link_base
        self._document = document
        self._owner = owner
        self._at = clock.now()
        # Old user id -> user id here, for the people who are members of the new board.
        self._members: dict[str, str] = {}
        # Old user id -> user id here, for everyone of the file with an account here.
        self._accounts: dict[str, str] = {}
        # Old task id -> new task id.
        self._tasks: dict[str, str] = {}
        # Old task id -> a new id naming no task, for the occurrences a recurrence links to
        # that are not in the file.
        self._gone_tasks: dict[str, str] = {}

    async def run(self) -> str:
        board = self._new_board()
        await self._store.create_board(board, Member(board.id, self._owner.id, Role.OWNER, self._owner_added_at()))
        progress(COMMAND, f"created board {board.id} {board.name!r} owned by {self._owner.email}")
        try:
            await self._find_accounts()
            await self._add_members(board)
            await self._add_tasks(board)
            await self._add_comments(board)
            await self._add_attachments(board)
            await self._add_watches(board)
            await self._add_recurrences(board)
            await self._add_invitations(board)
            # Last: a webhook's cursor is past every event of the import.
            await self._add_webhooks(board)
        except BaseException:
            # Half a board is worse than none: the operator can fix the cause and rerun.
            await self._store.delete_board(board.id)
            progress(COMMAND, f"failed: removed the partly imported board {board.id}")
            raise
        skipped_log = len(self._document.get("events", []))
        progress(COMMAND, f"done: board {board.id}; the source's {skipped_log} events stay in the export file")
        return board.id

    def _owner_added_at(self) -> str:
        for exported in self._document["members"]:
            if str(exported.get("email", "")).lower() == self._owner.email and exported.get("added_at"):
                return str(exported["added_at"])
        return self._at

    def _new_board(self) -> Board:
        source = self._document["board"]
        columns = [str(column) for column in source["columns"]]
        if not columns:
            raise OpsError("the exported board has no columns")
        return Board(
            id=new_id(),
            name=str(source["name"]),
            description=str(source.get("description", "")),
            columns=columns,
            created_by=self._owner.id,
            created_at=self._at,
            updated_at=self._at,
            column_names={str(k): str(v) for k, v in source.get("column_names", {}).items() if k in columns},
            wip_limits={str(k): int(v) for k, v in source.get("wip_limits", {}).items() if k in columns},
            # An archived board stays out of its members' boards lists here too.
            archived_at=source.get("archived_at"),
        )

    async def _find_accounts(self) -> None:
        for old_id, email in self._document["users"].items():
            user = await self._store.get_user_by_email(str(email).lower())
            if user is not None:
                self._accounts[old_id] = user.id

    async def _add_members(self, board: Board) -> None:
        owner_old_ids = {old for old, email in self._document["users"].items() if email == self._owner.email}
        self._members.update(dict.fromkeys(owner_old_ids, self._owner.id))
        for exported in self._document["members"]:
            email = str(exported["email"]).lower()
            if email == self._owner.email:
                continue
            user = await self._store.get_user_by_email(email)
            if user is None:
                progress(COMMAND, f"warning: skipped member {email}: no account has this email")
                continue
            try:
                role = Role(exported["role"])
            except (KeyError, ValueError):
                raise OpsError(f"member {email} has no valid role in the export") from None
            member = Member(
                board.id, user.id, role, str(exported.get("added_at") or self._at), email=user.email, name=user.name
            )
            await self._store.add_member(
                member, EventDraft("member.added", self._owner.id, self._at, member_view(member))
            )
            self._members[exported["user_id"]] = user.id
        progress(COMMAND, f"{len(set(self._members.values()))} members")

    async def _add_tasks(self, board: Board) -> None:
        tasks = self._document["tasks"]
        dropped_assignees = 0
        for count, exported in enumerate(tasks, start=1):
            try:
                task = self._task(board, exported)
            except (KeyError, TypeError, ValueError) as error:
                raise OpsError(f"task {count} of the export is malformed: {error!r}") from None
            dropped_assignees += len(exported["assignees"]) - len(task.assignees)
            self._tasks[str(exported["id"])] = task.id
            await self._store.create_task(task, EventDraft("task.created", self._owner.id, self._at, task_view(task)))
            if count % PROGRESS_EVERY == 0:
                progress(COMMAND, f"{count}/{len(tasks)} tasks")
        progress(COMMAND, f"{len(tasks)} tasks")
        if dropped_assignees:
            progress(COMMAND, f"warning: dropped {dropped_assignees} assignments of people who are not members here")

    def _task(self, board: Board, exported: dict[str, Any]) -> Task:
        status = exported["status"]
        if status not in board.columns:
            raise OpsError(f"task {exported['id']} has status {status!r}, not a column of the board")
        # Positions are copied as they are: they are order keys within a column, valid on
        # any board, so the columns keep their order without rewriting a key.
        return Task(
            id=new_id(),
            board_id=board.id,
            title=str(exported["title"]),
            description=str(exported.get("description", "")),
            status=status,
            priority=Priority(exported["priority"]),
            assignees=[self._members[old] for old in exported["assignees"] if old in self._members],
            labels=[str(label) for label in exported["labels"]],
            due_at=exported.get("due_at"),
            position=str(exported["position"]),
            created_by=self._accounts.get(exported["created_by"], self._owner.id),
            created_at=str(exported["created_at"]),
            updated_at=str(exported["updated_at"]),
            version=1,
            checklist=[
                {"id": str(item["id"]), "text": str(item["text"]), "done": bool(item["done"])}
                for item in exported.get("checklist", [])
            ],
            archived_at=exported.get("archived_at"),
        )

    async def _add_comments(self, board: Board) -> None:
        comments = self._document.get("comments", [])
        last_id, skipped = "", 0
        for count, exported in enumerate(comments, start=1):
            try:
                comment = self._comment(board, exported, new_id_after(last_id))
            except (KeyError, TypeError, ValueError) as error:
                raise OpsError(f"comment {count} of the export is malformed: {error!r}") from None
            if comment is None:
                skipped += 1
                continue
            # Ids in creation order: a task's comments are listed in id order.
            last_id = comment.id
            await self._store.create_comment(
                comment, EventDraft("comment.created", self._owner.id, self._at, comment_view(comment))
            )
        progress(COMMAND, f"{len(comments) - skipped} comments")
        if skipped:
            progress(COMMAND, f"warning: skipped {skipped} comments whose authors have no account here")

    def _comment(self, board: Board, exported: dict[str, Any], comment_id: str) -> Comment | None:
        task_id = self._tasks.get(str(exported["task_id"]))
        if task_id is None:
            raise OpsError(f"comment {exported['id']} is on task {exported['task_id']!r}, not a task of the export")
        author = self._accounts.get(exported["author_id"])
        if author is None:
            return None
        return Comment(
            id=comment_id,
            board_id=board.id,
            task_id=task_id,
            author_id=author,
            body=str(exported["body"]),
            # Mentions are of members; the text keeps the @name of anyone who is not one here.
            mentions=[self._members[old] for old in exported["mentions"] if old in self._members],
            created_at=str(exported["created_at"]),
            updated_at=str(exported["updated_at"]),
        )

    async def _add_attachments(self, board: Board) -> None:
        attachments = self._document.get("attachments", [])
        last_id = ""
        for count, exported in enumerate(attachments, start=1):
            try:
                content = base64.b64decode(exported["content_base64"], validate=True)
                thumbnail = exported.get("thumbnail_base64")
                attachment = Attachment(
                    # Ids in the exported order: a task's attachments are listed in id order.
                    id=new_id_after(last_id),
                    board_id=board.id,
                    task_id=self._tasks[str(exported["task_id"])],
                    name=str(exported["name"]),
                    content_type=str(exported["content_type"]),
                    size=len(content),
                    has_thumbnail=thumbnail is not None,
                    uploaded_by=self._accounts.get(exported["uploaded_by"], self._owner.id),
                    created_at=str(exported["created_at"]),
                )
                thumbnail_bytes = None if thumbnail is None else base64.b64decode(thumbnail, validate=True)
            except (KeyError, TypeError, ValueError, binascii.Error) as error:
                raise OpsError(f"attachment {count} of the export is malformed: {error!r}") from None
            last_id = attachment.id
            await self._store.create_attachment(
                attachment,
                io.BytesIO(content),
                thumbnail_bytes,
                0,
                EventDraft("attachment.added", self._owner.id, self._at, attachment_view(attachment)),
            )
        if attachments:
            progress(COMMAND, f"{len(attachments)} attachments")

    async def _add_webhooks(self, board: Board) -> None:
        webhooks = self._document.get("webhooks", [])
        current = await self._store.get_board(board.id)
        # From the import on: the imported board's own log so far is the import itself.
        cursor = current.seq if current is not None else 0
        last_id = ""
        for exported in webhooks:
            try:
                events = exported["events"]
                # Ids in the exported order: a board's webhooks are listed in id order.
                webhook = Webhook(
                    id=new_id_after(last_id),
                    board_id=board.id,
                    url=str(exported["url"]),
                    secret=new_secret(),
                    events=None if events is None else [str(pattern) for pattern in events],
                    active=False,
                    created_by=self._accounts.get(exported["created_by"], self._owner.id),
                    created_at=str(exported["created_at"]),
                    updated_at=self._at,
                    cursor=cursor,
                    disabled_reason=IMPORTED_WITHOUT_SECRET,
                )
            except (KeyError, TypeError, ValueError) as error:
                raise OpsError(f"a webhook of the export is malformed: {error!r}") from None
            await self._store.create_webhook(webhook)
            last_id = webhook.id
        if webhooks:
            progress(COMMAND, f"{len(webhooks)} webhooks, switched off: their secrets are not exported")

    async def _add_watches(self, board: Board) -> None:
        watches = self._document.get("watches", [])
        skipped = 0
        for exported in watches:
            try:
                user_id = self._members.get(str(exported["user_id"]))
                if user_id is None:
                    skipped += 1
                    continue
                old_task = str(exported["task_id"])
                watch = Watch(
                    user_id=user_id,
                    board_id=board.id,
                    task_id=self._tasks[old_task] if old_task else "",
                    watching=bool(exported["watching"]),
                    at=str(exported["at"]),
                )
            except (KeyError, TypeError, ValueError) as error:
                raise OpsError(f"a watch of the export is malformed: {error!r}") from None
            await self._store.save_watch(watch)
        if watches:
            progress(COMMAND, f"{len(watches) - skipped} watches")
        if skipped:
            progress(COMMAND, f"warning: skipped {skipped} watches of people who are not members here")

    async def _add_recurrences(self, board: Board) -> None:
        recurrences = self._document.get("recurrences", [])
        for exported in recurrences:
            try:
                previous, following = exported["previous_task_id"], exported["next_task_id"]
                recurrence = Recurrence(
                    task_id=self._tasks[str(exported["task_id"])],
                    board_id=board.id,
                    kind=RecurrenceKind(exported["kind"]),
                    interval=int(exported["interval"]),
                    weekdays=[str(day) for day in exported["weekdays"]],
                    day_of_month=None if exported["day_of_month"] is None else int(exported["day_of_month"]),
                    series_id=self._task_link(str(exported["series_id"])),
                    previous_task_id=None if previous is None else self._task_link(str(previous)),
                    next_task_id=None if following is None else self._task_link(str(following)),
                    created_by=self._accounts.get(exported["created_by"], self._owner.id),
                    updated_at=str(exported["updated_at"]),
                )
            except (KeyError, TypeError, ValueError) as error:
                raise OpsError(f"a recurrence of the export is malformed: {error!r}") from None
            await self._store.set_recurrence(
                recurrence, EventDraft("task.recurrence_set", self._owner.id, self._at, recurrence_view(recurrence))
            )
        if recurrences:
            progress(COMMAND, f"{len(recurrences)} recurring tasks")

    def _task_link(self, old_task_id: str) -> str:
        """The imported task, or for one not in the file a new id kept for every link to it:
        occurrences of a series still share their series, and a task whose next occurrence
        was made (and deleted since) still does not recur again."""
        if old_task_id in self._tasks:
            return self._tasks[old_task_id]
        return self._gone_tasks.setdefault(old_task_id, new_id())

    async def _add_invitations(self, board: Board) -> None:
        invitations = self._document.get("invitations", [])
        last_id, left_out = "", 0
        for exported in invitations:
            token = secrets.token_urlsafe(32)
            try:
                invitation = Invitation(
                    # Ids in the exported order: a board's invitations are listed oldest first.
                    id=new_id_after(last_id),
                    board_id=board.id,
                    email=str(exported["email"]).strip().lower(),
                    role=Role(exported["role"]),
                    token_hash=hash_invitation_token(token),
                    created_by=self._accounts.get(exported["created_by"], self._owner.id),
                    created_at=str(exported["created_at"]),
                    expires_at=str(exported["expires_at"]),
                )
            except (KeyError, TypeError, ValueError) as error:
                raise OpsError(f"an invitation of the export is malformed: {error!r}") from None
            if invitation.expires_at <= self._at or await self._is_member(board, invitation.email):
                left_out += 1
                continue
            await self._store.create_invitation(
                invitation,
                EventDraft("invitation.created", self._owner.id, self._at, invitation_view(invitation, self._at)),
            )
            last_id = invitation.id
            link = self._link_base + INVITE_PATH + token
            progress(COMMAND, f"invitation of {invitation.email} as {invitation.role.value} has a new link: {link}")
        if invitations:
            progress(COMMAND, f"{len(invitations) - left_out} pending invitations, each with a new link")
        if left_out:
            progress(COMMAND, f"skipped {left_out} invitations expired since the export or of members here")

    async def _is_member(self, board: Board, email: str) -> bool:
        user = await self._store.get_user_by_email(email)
        return user is not None and await self._store.get_member(board.id, user.id) is not None
