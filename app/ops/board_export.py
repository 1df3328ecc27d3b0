"""``export-board``: one board as a JSON file, with its members (by email), its webhooks'
configuration, its pending invitations, its tasks, their comments and attachments (the
files' bytes in base64), who watches the board and its tasks, the tasks' recurrence rules
and its whole event log, read through the store protocols only, so it works on either store.

Webhook signing secrets and invitation links are never written (``omitted`` in the file
says so): a file of tasks is handed around more freely than the keys that sign deliveries
or let someone join the board. ``omitted`` also names what else of the board the file does
not carry (the trash) or an import does not bring back (the event log).

Users are referred to by email in the file (``users`` maps every user id the board
mentions to an email): ids mean nothing in another deployment, emails do.

The file is written as the pages are read, so memory stays bounded by a page whatever
the board's size. ``users`` comes before the tasks and events in the file but is only
known after reading them, so they are spooled to an unnamed temporary file beside the
output first, then copied after the head.
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any, Protocol

from app.domain import clock
from app.domain.invitations import InvitationStatus
from app.domain.mail import Watch
from app.domain.models import Board, Task, TaskFilter, TaskPageRequest, TaskSort
from app.domain.views import (
    attachment_view,
    board_view,
    comment_view,
    event_view,
    member_view,
    record_view,
    recurrence_view,
    task_view,
)
from app.domain.webhooks import webhook_view
from app.ops.common import OpsError, check_output_free, opened_store, progress, written_atomically
from app.services.invitations import invitation_view
from app.settings import Settings
from app.store.base import BoardContentStore, BoardTrashStore, EventStore, TaskStore, UserStore

COMMAND = "export-board"
FORMAT = "taskwire.board-export"
# 2 added "omitted", "webhooks" and "comments", then "attachments", then "invitations",
# "watches" and "recurrences" (a file without them is still version 2: an older import-board
# skips the key); import-board still reads version 1.
FORMAT_VERSION = 2
# What a user sees of the board that the file leaves out on purpose, and why.
OMITTED = {
    "webhooks.secret": "Signing secrets are not exported; import-board creates each webhook switched off "
    "(disabled_reason imported_without_secret) with a fresh secret: recreate it with the "
    "receiver's secret to resume deliveries.",
    "notifications": "They belong to each user's inbox, not to the board; an import notifies nobody.",
    "webhook_deliveries": "The delivery log refers to the source's event seqs.",
    "events": "The event log is in the file but import-board does not replay it (it refers to the source's "
    "ids): the imported board's history, its tasks' histories and its activity feed start at the import.",
    "trash": "Deleted tasks in the board's trash, with their comments and files, are not exported.",
    "invitations.link": "Pending invitations are exported without their links (only the link's hash is kept, "
    "and it belongs to the source); import-board issues each a new link, printed for the operator to pass on: "
    "the source's links do not open the imported board. Accepted, revoked and expired invitations are not exported.",
}
watch_view = record_view(Watch)
PAGE_SIZE = 500
PROGRESS_EVERY = 1000
# The layout of json.dumps(document, ensure_ascii=False, indent=1), which the file has
# always had: the streamed file is byte for byte what encoding the whole document gives.
INDENT = 1


async def export_board(settings: Settings, board_id: str, output: Path, *, force: bool = False) -> None:
    check_output_free(output, force)
    async with opened_store(settings) as store:
        with written_atomically(output) as handle:
            # The spool goes where the operator made room for the file.
            tasks, events = await write_export(store, board_id, handle, output.parent)
    progress(COMMAND, f"wrote {output} ({tasks} tasks, {events} events); webhook secrets are not exported")


class BoardExportStore(BoardContentStore, BoardTrashStore, EventStore, UserStore, Protocol): ...


async def write_export(
    store: BoardExportStore, board_id: str, out: IO[bytes], spool_dir: Path | None = None
) -> tuple[int, int]:
    """Write the board's export to ``out``; return how many tasks and events it holds."""
    board = await store.get_board(board_id)
    if board is None and await store.get_trashed_board(board_id) is not None:
        # Exported, it would come back by import while its owners think it deleted.
        raise OpsError(f"board {board_id!r} is in the trash: an owner restores it first to export it")
    if board is None:
        raise OpsError(f"no board with id {board_id!r}")
    progress(COMMAND, f"board {board.id} {board.name!r} at seq {board.seq}")
    members = await store.list_members(board_id)
    progress(COMMAND, f"{len(members)} members")
    users = {member.user_id: member.email for member in members}
    webhooks = await store.list_webhooks(board_id)
    mentioned = {webhook.created_by for webhook in webhooks}
    at = clock.now()
    invitations = [
        invitation
        for invitation in await store.list_invitations(board_id)
        if invitation.status(at) is InvitationStatus.PENDING
    ]
    mentioned.update(invitation.created_by for invitation in invitations)
    with tempfile.TemporaryFile(dir=spool_dir) as spool:
        tasks = await _write_array(spool, "tasks", _task_views(store, board_id, mentioned))
        comments = await _write_array(spool, "comments", _comment_views(store, board_id, mentioned))
        progress(COMMAND, f"{comments} comments")
        attachments = await _write_attachments(spool, store, board_id, mentioned)
        progress(COMMAND, f"{attachments} attachments")
        watches = await _write_array(spool, "watches", _watch_views(store, board_id, mentioned))
        recurrences = await _write_array(spool, "recurrences", _recurrence_views(store, board_id, mentioned))
        progress(COMMAND, f"{watches} watches, {recurrences} recurring tasks, {len(invitations)} pending invitations")
        events = await _write_array(spool, "events", _event_views(store, board_id, mentioned))
        await _add_other_users(store, users, mentioned)
        _warn_if_changed(board, await store.get_board(board_id))
        head = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "exported_at": at,
            "omitted": OMITTED,
            "board": board_view(board),
            "members": [member_view(member) for member in members],
            "users": users,
            # webhook_view is the public shape: it never holds the secret.
            "webhooks": [webhook_view(webhook) for webhook in webhooks],
            # invitation_view never holds the link's token nor its hash.
            "invitations": [invitation_view(invitation, at) for invitation in invitations],
        }
        # The head's closing "\n}" is written after the arrays instead.
        out.write(_encode(head)[:-2])
        spool.seek(0)
        shutil.copyfileobj(spool, out)
        out.write(b"\n}")
    return tasks, events


def _encode(value: Any, depth: int = 0) -> bytes:
    text = json.dumps(value, ensure_ascii=False, indent=INDENT)
    # No line of it can start inside a string: the encoder escapes newlines in strings.
    return text.replace("\n", "\n" + " " * (INDENT * depth)).encode()


async def _write_array(out: IO[bytes], key: str, items: AsyncIterator[dict[str, Any]]) -> int:
    """``,\\n "key": [...]`` as a member of the top-level object, one item at a time."""
    inner = b"\n" + b" " * (2 * INDENT)
    out.write(f",\n{' ' * INDENT}{json.dumps(key)}: [".encode())
    count = 0
    async for item in items:
        out.write(b"," + inner if count else inner)
        out.write(_encode(item, 2))
        count += 1
    out.write(f"\n{' ' * INDENT}]".encode() if count else b"]")
    return count


async def _task_views(store: TaskStore, board_id: str, mentioned: set[str]) -> AsyncIterator[dict[str, Any]]:
    count = 0
    async for page in _task_pages(store, board_id):
        for task in page:
            # Former members still appear as assignees and authors: their emails go in users.
            mentioned.update(task.assignees)
            mentioned.add(task.created_by)
            yield task_view(task)
        count += len(page)
        if count % PROGRESS_EVERY < len(page):
            progress(COMMAND, f"{count} tasks")
    progress(COMMAND, f"{count} tasks")


async def _comment_views(store: BoardContentStore, board_id: str, mentioned: set[str]) -> AsyncIterator[dict[str, Any]]:
    """Every task's comments, task after task in board order, each task's oldest first (the
    order import-board recreates them in). The tasks are paged again rather than kept from
    the first pass, so that memory stays bounded by a page."""
    async for page in _task_pages(store, board_id):
        for task in page:
            after: str | None = None
            while batch := await store.list_comments(task.id, after, PAGE_SIZE):
                for comment in batch:
                    mentioned.add(comment.author_id)
                    mentioned.update(comment.mentions)
                    yield comment_view(comment)
                after = batch[-1].id


async def _write_attachments(out: IO[bytes], store: BoardContentStore, board_id: str, mentioned: set[str]) -> int:
    """``"attachments": [...]``: every task's attachments, task after task in board order, each
    with its bytes (``content_base64``, streamed a chunk at a time: a file is never whole in
    memory) and its thumbnail's (``thumbnail_base64``, null for a file without one)."""
    inner = b"\n" + b" " * (2 * INDENT)
    out.write(f",\n{' ' * INDENT}{json.dumps('attachments')}: [".encode())
    count = 0
    async for page in _task_pages(store, board_id):
        for task in page:
            after: str | None = None
            while batch := await store.list_attachments(task.id, after, PAGE_SIZE):
                for attachment in batch:
                    chunks = await store.open_attachment(attachment.id)
                    if chunks is None:
                        continue  # deleted since it was listed
                    mentioned.add(attachment.uploaded_by)
                    thumbnail = await store.get_attachment_thumbnail(attachment.id)
                    item = {
                        **attachment_view(attachment),
                        "thumbnail_base64": base64.b64encode(thumbnail).decode() if thumbnail else None,
                        "content_base64": "",
                    }
                    # The item as _encode lays it out, its last value (the empty string)
                    # filled in between the quotes as the bytes are read.
                    encoded = _encode(item, 2)
                    closing = b'"\n' + b" " * (2 * INDENT) + b"}"
                    out.write(b"," + inner if count else inner)
                    out.write(encoded[: -len(closing)])
                    await _write_base64(out, chunks)
                    out.write(closing)
                    count += 1
                after = batch[-1].id
    out.write(f"\n{' ' * INDENT}]".encode() if count else b"]")
    return count


async def _write_base64(out: IO[bytes], chunks: AsyncIterator[bytes]) -> None:
    pending = b""
    async for chunk in chunks:
        pending += chunk
        whole = len(pending) - len(pending) % 3  # base64 of whole 3-byte groups joins seamlessly
        out.write(base64.b64encode(pending[:whole]))
        pending = pending[whole:]
    out.write(base64.b64encode(pending))


async def _watch_views(store: BoardContentStore, board_id: str, mentioned: set[str]) -> AsyncIterator[dict[str, Any]]:
    """The board's own watches (task_id ""), then each task's, in board order."""
    for watch in await store.list_watches(board_id, None):
        mentioned.add(watch.user_id)
        yield watch_view(watch)
    async for page in _task_pages(store, board_id):
        for task in page:
            for watch in await store.list_watches(board_id, task.id):
                if watch.task_id == task.id:
                    mentioned.add(watch.user_id)
                    yield watch_view(watch)


async def _recurrence_views(
    store: BoardContentStore, board_id: str, mentioned: set[str]
) -> AsyncIterator[dict[str, Any]]:
    async for page in _task_pages(store, board_id):
        for task in page:
            if (recurrence := await store.get_recurrence(task.id)) is not None:
                mentioned.add(recurrence.created_by)
                yield recurrence_view(recurrence)


async def _task_pages(store: TaskStore, board_id: str) -> AsyncIterator[list[Task]]:
    # The archived tasks after the others: an export keeps all the board has (not its trash).
    for archived in (False, True):
        after: tuple[str | int, str] | None = None
        while True:
            request = TaskPageRequest(board_id, TaskFilter(archived=archived), TaskSort.POSITION, PAGE_SIZE, after)
            page = await store.list_tasks(request)
            if page.items:
                yield page.items
            if not page.has_more or not page.items:
                break
            last = page.items[-1]
            after = (last.position, last.id)


async def _event_views(store: EventStore, board_id: str, mentioned: set[str]) -> AsyncIterator[dict[str, Any]]:
    count = 0
    after_seq = 0
    while batch := await store.list_events(board_id, after_seq, PAGE_SIZE):
        for event in batch:
            mentioned.add(event.actor)
            yield event_view(event)
        count += len(batch)
        after_seq = batch[-1].seq
        if count % PROGRESS_EVERY < len(batch):
            progress(COMMAND, f"{count} events")
    progress(COMMAND, f"{count} events")


async def _add_other_users(store: UserStore, users: dict[str, str], mentioned: set[str]) -> None:
    for user_id in sorted(mentioned - users.keys()):
        user = await store.get_user(user_id)
        if user is not None:
            users[user_id] = user.email


def _warn_if_changed(board: Board, latest: Board | None) -> None:
    if latest is not None and latest.seq != board.seq:
        # Tasks and events were read at different moments; the file is still usable, but
        # not one instant of the board. A quiet moment gives an exact snapshot.
        progress(COMMAND, f"warning: the board changed during the export (seq {board.seq} -> {latest.seq})")
