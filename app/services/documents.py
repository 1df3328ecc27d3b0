"""Task descriptions as shared documents: a Yjs CRDT per task (pycrdt here, Yjs in the
browser), so people typing in one description at once all keep every keystroke.

- An update is stored before its sender is told ``doc.ack``; it then goes to every instance
  through the broker, and each hub hands it to the sockets that opened the document.
- The task's ``description`` stays the document's text for REST, search, webhooks and the
  activity feed: when an editing burst settles, the instance that took the last update
  writes one ``task.updated`` (versioned like any other write), which is also the one
  ``task.changed`` notice the task's watchers get for the burst. Other instances that saw
  the burst check again later, so a crashed instance's burst is settled all the same.
- A REST PATCH of ``description`` is merged into the document as the edits between the
  text it was based on and the new one, so it does not overwrite what others typed; the
  edit enters the document only once the task's versioned write succeeded, so a PATCH
  answered 409 leaves the document as it was.
- The document of a task that never had one is seeded from its description, once
  (``Store.seed_task_document``).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import difflib
import logging
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from pycrdt import Doc, Text, get_state

from app.domain import clock
from app.domain.errors import InvalidInputError
from app.domain.models import ROLE_RANK, EventDraft, Role, Task, User
from app.domain.request_context import current_token_limits
from app.domain.views import task_view
from app.events.publisher import EventPublisher
from app.jsonutil import dumps
from app.services.access import require_role, task_not_found
from app.services.watching import WatchService
from app.services.wiring import service
from app.store.base import BoardStore, NotFound, TaskDocumentStore, TaskStore, UserStore, VersionConflict

log = logging.getLogger(__name__)

TEXT_NAME = "description"  # the shared type's name: the browser's ydoc.getText("description")
MAX_DESCRIPTION_CHARS = 5000  # as TaskIn's description
# A document read back from more updates than this is compacted into one.
COMPACT_AFTER_UPDATES = 64
SETTLE_ATTEMPTS = 3
# An instance that only relayed a burst settles it this many times later than the one
# that took it: normally it then finds nothing to do.
REMOTE_SETTLE_FACTOR = 4
# Documents kept in memory per instance (the most recently used).
LIVE_DOCUMENTS_KEPT = 512


def encode_update(update: bytes) -> str:
    return base64.b64encode(update).decode()


def _document(updates: list[tuple[str, bytes]]) -> tuple[Doc[Any], Text]:
    doc: Doc[Any] = Doc()
    text = doc.get(TEXT_NAME, type=Text)
    for _, update in updates:
        doc.apply_update(update)
    return doc, text


def _seed_state(description: str) -> bytes:
    doc: Doc[Any] = Doc()
    if description:
        doc.get(TEXT_NAME, type=Text).insert(0, description)
    else:
        doc.get(TEXT_NAME, type=Text)
    return doc.get_update()


def _mapper(base: str, current: str) -> Callable[[int], int]:
    """Where a position in ``base`` is in ``current``: kept text moves with the edits made
    around it; a position inside text that was changed lands at the start of the change."""
    opcodes = difflib.SequenceMatcher(None, base, current, autojunk=False).get_opcodes()

    def mapped(position: int) -> int:
        for tag, i1, i2, j1, _ in opcodes:
            if i1 <= position < i2:
                return j1 + (position - i1) if tag == "equal" else j1
        return len(current)

    return mapped


def merge_text_change(doc: Doc[Any], text: Text, base: str, new: str) -> bytes:
    """Apply the edits that turn ``base`` into ``new`` to the document, whose text may have
    moved on from ``base``; the update that does it (empty when nothing changes)."""
    current = str(text)
    where = _mapper(base, current)
    edits = [
        (i1, i2, new[j1:j2])
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, base, new, autojunk=False).get_opcodes()
        if tag != "equal"
    ]
    before = doc.get_state()
    with doc.transaction():
        # From the end backwards, so the positions of the edits still to make stay valid;
        # pycrdt counts UTF-8 bytes where Python counts characters.
        for start, end, replacement in reversed(edits):
            first = where(start)
            last = max(first, where(end))
            offset = len(current[:first].encode())
            removed = len(current[first:last].encode())
            if removed:
                del text[offset : offset + removed]
            if replacement:
                text.insert(offset, replacement)
            current = current[:first] + replacement + current[last:]
    return doc.get_update(before) if edits else b""


@dataclasses.dataclass(frozen=True, slots=True)
class OpenedDocument:
    board_id: str
    missing: bytes  # what the client's state vector lacks
    state: bytes  # the server's state vector: the client sends back what this lacks
    writable: bool


@dataclasses.dataclass(frozen=True, slots=True)
class DescriptionMerge:
    text: str  # the document's text with the edit made
    update: bytes  # what makes the edit in the document; empty when it changes nothing


class _Live:
    """A document this instance works on, kept in memory between keystrokes: read from the
    store once, then every update taken here or relayed from another instance is applied
    to it. It only decides what is answered at once (the length check, what an opening
    client lacks); settling and compaction read the store, which holds every update."""

    __slots__ = ("board_id", "doc", "since_compaction", "text")

    def __init__(self, board_id: str, updates: list[tuple[str, bytes]]) -> None:
        self.board_id = board_id
        self.doc, self.text = _document(updates)
        self.since_compaction = len(updates)


class TaskDocumentServiceStore(BoardStore, TaskDocumentStore, TaskStore, UserStore, Protocol): ...


@service
class TaskDocumentService:
    _store: TaskDocumentServiceStore
    _publisher: EventPublisher
    _settle_seconds: float
    _watching: WatchService
    _settles: dict[str, asyncio.TimerHandle] = dataclasses.field(init=False, default_factory=dict)
    _running: set[asyncio.Task[None]] = dataclasses.field(init=False, default_factory=set)
    _live: OrderedDict[str, _Live] = dataclasses.field(init=False, default_factory=OrderedDict)

    # -- the WebSocket side ------------------------------------------------------------
    async def open(self, actor: User, task_id: str, client_state: bytes | None) -> OpenedDocument:
        task = await self._task(task_id)
        member = await require_role(self._store, task.board_id, actor.id, Role.VIEWER)
        # Read afresh: this is where a client gets what it lacks, so it must be complete.
        live = await self._load(task)
        if str(live.text) != task.description:
            self._settle_later(task_id, actor.id, self._settle_seconds)  # a burst nobody settled
        try:
            missing = live.doc.get_update(client_state) if client_state else live.doc.get_update()
        except ValueError:
            raise InvalidInputError("invalid_update", '"state_vector" is not a Yjs state vector.') from None
        limits = current_token_limits()
        writable = ROLE_RANK[member.role] >= ROLE_RANK[Role.EDITOR] and (limits is None or limits.writable)
        return OpenedDocument(task.board_id, missing, live.doc.get_state(), writable)

    async def apply(self, actor: User, task_id: str, update: bytes, origin: str) -> str:
        """Store one update from ``actor`` and send it to everyone else who has the
        document open; its board id. Refused (nothing stored) for a viewer, for bytes
        that are no update, and for text past the description's limit."""
        try:
            get_state(update)
        except ValueError:
            raise InvalidInputError("invalid_update", "That is not a Yjs update.") from None
        live = self._live.get(task_id)
        if live is None:
            live = await self._load(await self._task(task_id))
        else:
            self._live.move_to_end(task_id)
        # The task's board never changes; whether the task still exists is checked as the
        # update is stored.
        await require_role(self._store, live.board_id, actor.id, Role.EDITOR)
        try:
            live.doc.apply_update(update)
        except ValueError:
            self._live.pop(task_id, None)  # half applied, perhaps: read it again next time
            raise InvalidInputError("invalid_update", "That is not a Yjs update.") from None
        if len(str(live.text)) > MAX_DESCRIPTION_CHARS:
            self._live.pop(task_id, None)
            raise InvalidInputError(
                "description_too_long", f"A description holds at most {MAX_DESCRIPTION_CHARS} characters."
            )
        try:
            await self._store.append_task_document_update(task_id, live.board_id, update)
        except NotFound:
            self._live.pop(task_id, None)
            raise task_not_found() from None
        await self._send(task_id, "doc.update", update, origin, actor.id)
        live.since_compaction += 1
        if live.since_compaction > 2 * COMPACT_AFTER_UPDATES:
            # A burst that never pauses would otherwise never be compacted (settling waits
            # for a pause): opening the document would read ever more updates.
            live.since_compaction = 0
            self._run(self._compact(task_id))
        self._settle_later(task_id, actor.id, self._settle_seconds)
        return live.board_id

    async def relay_awareness(self, task_id: str, update: bytes, origin: str) -> None:
        """Who is editing and where their cursor is: not stored, only passed on."""
        await self._publisher.publish_document(
            task_id,
            dumps({"type": "doc.awareness", "task": task_id, "update": encode_update(update), "origin": origin}),
        )

    def settle_now(self, task_id: str, actor_id: str) -> None:
        """Someone closed the document: if a burst taken here waits to settle, settle it
        now, so that a dialog closed after typing shows its text everywhere at once."""
        if (pending := self._settles.pop(task_id, None)) is not None:
            pending.cancel()
            self._run(self.settle(task_id, actor_id))

    def note_remote_update(self, task_id: str, actor_id: str, update: bytes) -> None:
        """Another instance took an update: keep our copy current, and settle the burst
        from here too, later, in case that instance does not live to."""
        if (live := self._live.get(task_id)) is not None:
            try:
                live.doc.apply_update(update)
            except ValueError:
                self._live.pop(task_id, None)
        if task_id not in self._settles:
            self._settle_later(task_id, actor_id, self._settle_seconds * REMOTE_SETTLE_FACTOR)

    # -- the REST side -------------------------------------------------------------------
    async def merge_description(self, task: Task, new: str) -> DescriptionMerge | None:
        """Work a REST edit of the description out against the task's document, without
        storing it: the caller writes the task first and calls ``commit_description`` only
        once that versioned write succeeded, so a PATCH answered 409 leaves the document as
        it was and its retry does not apply the edit twice. None when the task has no
        document (nobody opened it live): the description is then written as sent."""
        updates = await self._store.load_task_document(task.id)
        if not updates:
            return None
        doc, text = _document(updates)
        update = merge_text_change(doc, text, task.description, new)
        return DescriptionMerge(str(text), update)

    async def commit_description(self, actor: User, task: Task, merge: DescriptionMerge) -> None:
        """Put a merge whose task write succeeded into the document and send it to its
        editors."""
        if not merge.update:
            return
        try:
            await self._store.append_task_document_update(task.id, task.board_id, merge.update)
        except NotFound:
            return  # the task went since its write, and its document with it
        if (live := self._live.get(task.id)) is not None:
            live.doc.apply_update(merge.update)
        await self._send(task.id, "doc.update", merge.update, "rest", actor.id)
        # Live editors may have typed, or a settle written the older text, between the merge
        # and the task write: the description then catches up with the document.
        self._settle_later(task.id, actor.id, self._settle_seconds)

    # -- settling --------------------------------------------------------------------------
    def _settle_later(self, task_id: str, actor_id: str, delay: float) -> None:
        if (pending := self._settles.pop(task_id, None)) is not None:
            pending.cancel()
        loop = asyncio.get_running_loop()
        self._settles[task_id] = loop.call_later(delay, self._start_settle, task_id, actor_id)

    def _start_settle(self, task_id: str, actor_id: str) -> None:
        self._settles.pop(task_id, None)
        self._run(self.settle(task_id, actor_id))

    def _run(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.warning("description document work failed: %r", error)

    async def _compact(self, task_id: str) -> None:
        updates = await self._store.load_task_document(task_id)
        if len(updates) > 1:
            await self._keep_as_one(task_id, updates, _document(updates)[0])

    async def _keep_as_one(self, task_id: str, updates: list[tuple[str, bytes]], doc: Doc[Any]) -> None:
        """Store ``doc``, read from ``updates``, in their place."""
        await self._store.compact_task_document(task_id, [update_id for update_id, _ in updates], doc.get_update())

    async def settle(self, task_id: str, actor_id: str) -> None:
        """Write the document's text into the task's description if they differ, as one
        ``task.updated`` by ``actor_id``; compact the document while at it."""
        for _ in range(SETTLE_ATTEMPTS):
            task = await self._store.get_task(task_id)
            updates = await self._store.load_task_document(task_id)
            if task is None or not updates:
                self._live.pop(task_id, None)
                return
            doc, text = _document(updates)
            if len(updates) > COMPACT_AFTER_UPDATES:
                await self._keep_as_one(task_id, updates, doc)
            content = str(text)
            if content == task.description:
                return
            at = clock.now()
            updated = dataclasses.replace(
                task,
                description=content,
                assignees=list(task.assignees),
                labels=list(task.labels),
                version=task.version + 1,
                updated_at=at,
            )
            # The settled burst is the one change watchers hear of, not each keystroke.
            actor = await self._store.get_user(actor_id)
            notify = [] if actor is None else await self._watching.changed(actor, updated, ["description"])
            draft = EventDraft("task.updated", actor_id, at, task_view(updated), notify=notify)
            try:
                event = await self._store.update_task(updated, task.version, draft)
            except VersionConflict:
                continue  # someone else wrote the task meanwhile: read it again
            except NotFound:
                return
            await self._publisher.publish(event)
            return

    async def close(self) -> None:
        for pending in self._settles.values():
            pending.cancel()
        self._settles.clear()
        running = list(self._running)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    # -- helpers ---------------------------------------------------------------------------
    async def _task(self, task_id: str) -> Task:
        task = await self._store.get_task(task_id)
        if task is None:
            raise task_not_found()
        return task

    async def _load(self, task: Task) -> _Live:
        updates = await self._store.load_task_document(task.id)
        if not updates:
            try:
                await self._store.seed_task_document(task.id, task.board_id, _seed_state(task.description))
            except NotFound:
                raise task_not_found() from None
            updates = await self._store.load_task_document(task.id)
        live = self._live[task.id] = _Live(task.board_id, updates)
        self._live.move_to_end(task.id)
        while len(self._live) > LIVE_DOCUMENTS_KEPT:
            self._live.popitem(last=False)
        return live

    async def _send(self, task_id: str, kind: str, update: bytes, origin: str, actor_id: str) -> None:
        message = {"type": kind, "task": task_id, "update": encode_update(update), "origin": origin, "actor": actor_id}
        await self._publisher.publish_document(task_id, dumps(message))
