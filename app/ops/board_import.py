"""``import-board``: recreate an exported board under a new id, with its members and tasks,
through the Store protocol only (so on either store, and with every write's event).

Users are matched by email. A member without an account here is skipped with a warning,
and so is an assignee who did not become a member (assignees must be members). The old
event log is not replayed: it refers to ids of the source deployment, and the protocol
appends events only as the effect of a change. It stays in the export file; the new
board's log starts with this import (``member.added``, ``task.created``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.domain import clock
from app.domain.ids import new_id
from app.domain.models import Board, EventDraft, Member, Priority, Role, Task, User
from app.domain.views import member_view, task_view
from app.ops.board_export import FORMAT, FORMAT_VERSION
from app.ops.common import OpsError, opened_store, progress
from app.settings import Settings
from app.store.base import Store

COMMAND = "import-board"
PROGRESS_EVERY = 100


async def import_board(settings: Settings, source: Path, owner_email: str | None = None) -> str:
    """Import the file and return the new board's id."""
    document = _read_export(source)
    async with opened_store(settings) as store:
        owner = await _choose_owner(store, document, owner_email)
        importer = _BoardImport(store, document, owner)
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
    if document.get("format_version") != FORMAT_VERSION:
        raise OpsError(f"{source} has export format version {document.get('format_version')!r}; "
                       f"this Taskwire reads version {FORMAT_VERSION}")
    for key in ("board", "members", "users", "tasks"):
        if key not in document:
            raise OpsError(f"{source} has no {key!r}")
    return document


async def _choose_owner(store: Store, document: dict[str, Any], owner_email: str | None) -> User:
    if owner_email is not None:
        owner = await store.get_user_by_email(owner_email.strip().lower())
        if owner is None:
            raise OpsError(f"no account has the email {owner_email!r}")
        return owner
    for member in document["members"]:
        if member["role"] == Role.OWNER.value and (owner := await store.get_user_by_email(member["email"].lower())):
            return owner
    raise OpsError("none of the board's owners has an account here; pass --owner-email")


class _BoardImport:
    def __init__(self, store: Store, document: dict[str, Any], owner: User) -> None:
        self._store = store
        self._document = document
        self._owner = owner
        self._at = clock.now()
        # Old user id -> user id here, for the people who are members of the new board.
        self._members: dict[str, str] = {}

    async def run(self) -> str:
        board = self._new_board()
        await self._store.create_board(board, Member(board.id, self._owner.id, Role.OWNER, self._at))
        progress(COMMAND, f"created board {board.id} {board.name!r} owned by {self._owner.email}")
        try:
            await self._add_members(board)
            await self._add_tasks(board)
        except BaseException:
            # Half a board is worse than none: the operator can fix the cause and rerun.
            await self._store.delete_board(board.id)
            progress(COMMAND, f"failed: removed the partly imported board {board.id}")
            raise
        skipped_log = len(self._document.get("events", []))
        progress(COMMAND, f"done: board {board.id}; the source's {skipped_log} events stay in the export file")
        return board.id

    def _new_board(self) -> Board:
        source = self._document["board"]
        columns = [str(column) for column in source["columns"]]
        if not columns:
            raise OpsError("the exported board has no columns")
        return Board(id=new_id(), name=str(source["name"]), description=str(source.get("description", "")),
                     columns=columns, created_by=self._owner.id, created_at=self._at, updated_at=self._at)

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
            member = Member(board.id, user.id, role, self._at, email=user.email, name=user.name)
            await self._store.add_member(
                member, EventDraft("member.added", self._owner.id, self._at, member_view(member)))
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
            id=new_id(), board_id=board.id, title=str(exported["title"]),
            description=str(exported.get("description", "")), status=status,
            priority=Priority(exported["priority"]),
            assignees=[self._members[old] for old in exported["assignees"] if old in self._members],
            labels=[str(label) for label in exported["labels"]], due_at=exported.get("due_at"),
            position=str(exported["position"]),
            created_by=self._members.get(exported["created_by"], self._owner.id),
            created_at=str(exported["created_at"]), updated_at=str(exported["updated_at"]), version=1,
        )
