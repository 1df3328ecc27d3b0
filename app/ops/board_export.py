"""``export-board``: one board as a JSON file, with its members (by email), its tasks and
its whole event log, read through the Store protocol only, so it works on either store.

Users are referred to by email in the file (``users`` maps every user id the board
mentions to an email): ids mean nothing in another deployment, emails do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.domain import clock
from app.domain.models import TaskFilter, TaskPageRequest, TaskSort
from app.domain.views import board_view, event_view, member_view, task_view
from app.ops.common import OpsError, check_output_free, opened_store, progress, write_atomically
from app.settings import Settings
from app.store.base import Store

COMMAND = "export-board"
FORMAT = "taskwire.board-export"
FORMAT_VERSION = 1
PAGE_SIZE = 500
PROGRESS_EVERY = 1000


async def export_board(settings: Settings, board_id: str, output: Path, *, force: bool = False) -> None:
    check_output_free(output, force)
    async with opened_store(settings) as store:
        document = await build_export(store, board_id)
    write_atomically(output, json.dumps(document, ensure_ascii=False, indent=1).encode())
    progress(COMMAND, f"wrote {output} ({len(document['tasks'])} tasks, {len(document['events'])} events)")


async def build_export(store: Store, board_id: str) -> dict[str, Any]:
    board = await store.get_board(board_id)
    if board is None:
        raise OpsError(f"no board with id {board_id!r}")
    progress(COMMAND, f"board {board.id} {board.name!r} at seq {board.seq}")
    members = await store.list_members(board_id)
    progress(COMMAND, f"{len(members)} members")
    tasks = [task_view(task) for task in await _all_tasks(store, board_id)]
    events = [event_view(event) for event in await _all_events(store, board_id)]
    users = {member.user_id: member.email for member in members}
    await _add_other_users(store, users, tasks, events)
    latest = await store.get_board(board_id)
    if latest is not None and latest.seq != board.seq:
        # Tasks and events were read at different moments; the file is still usable, but
        # not one instant of the board. A quiet moment gives an exact snapshot.
        progress(COMMAND, f"warning: the board changed during the export (seq {board.seq} -> {latest.seq})")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": clock.now(),
        "board": board_view(board),
        "members": [member_view(member) for member in members],
        "users": users,
        "tasks": tasks,
        "events": events,
    }


async def _all_tasks(store: Store, board_id: str) -> list:
    tasks: list = []
    after: tuple[str | int, str] | None = None
    while True:
        page = await store.list_tasks(TaskPageRequest(board_id, TaskFilter(), TaskSort.POSITION, PAGE_SIZE, after))
        tasks.extend(page.items)
        if len(tasks) % PROGRESS_EVERY < len(page.items) or not page.has_more:
            progress(COMMAND, f"{len(tasks)} tasks")
        if not page.has_more or not page.items:
            return tasks
        last = page.items[-1]
        after = (last.position, last.id)


async def _all_events(store: Store, board_id: str) -> list:
    events: list = []
    after_seq = 0
    while batch := await store.list_events(board_id, after_seq, PAGE_SIZE):
        events.extend(batch)
        after_seq = batch[-1].seq
        if len(events) % PROGRESS_EVERY < len(batch):
            progress(COMMAND, f"{len(events)} events")
    progress(COMMAND, f"{len(events)} events")
    return events


async def _add_other_users(store: Store, users: dict[str, str], tasks: list[dict], events: list[dict]) -> None:
    """Former members still appear as assignees, authors and actors: record their emails too."""
    mentioned: set[str] = set()
    for task in tasks:
        mentioned.update(task["assignees"])
        mentioned.add(task["created_by"])
    mentioned.update(event["actor"] for event in events)
    for user_id in sorted(mentioned - users.keys()):
        user = await store.get_user(user_id)
        if user is not None:
            users[user_id] = user.email
