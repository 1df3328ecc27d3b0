"""Import jobs: create one, upload its file in parts (to any instance: the parts are kept
in the store), and run it, on any instance, once.

A job runs under a lease in the store (``claim_import_job``), renewed as it goes; every
instance sweeps for unfinished jobs (at start and every lease period) and takes over one
whose lease has run out, so a job cut by a crash is resumed by whichever instance is up. Resuming is re-reading the file from the start:
every record is made under an id derived from the source's ids (``stable_id``), so what
was made before the crash is found and skipped, never made twice. The same file imported
again fills the same board the same way, skipping everything already there.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Protocol

from app.domain import clock
from app.domain.caller import Caller
from app.domain.errors import ConflictError, InvalidInputError, NotFoundError
from app.domain.ids import new_id
from app.domain.imports import ImportJob, ImportSource, ImportState, stable_id
from app.domain.models import Board, Comment, EventDraft, Member, Priority, Role, Task, User
from app.domain.ordering import key_between
from app.domain.views import comment_view, member_view, task_view
from app.events.publisher import EventPublisher
from app.private_files import PRIVATE_DIR_MODE, restrict
from app.services.checklists import MAX_CHECKLIST_ITEMS
from app.services.importing.sources import (
    CsvFile,
    ImportFileError,
    Item,
    PlankaExport,
    Skipped,
    SourceBoard,
    SourceCard,
    SourceChecklist,
    SourceComment,
    TrelloExport,
)
from app.services.notifications import member_added_notices
from app.services.preferences import PreferenceService
from app.services.retry import WRITE_ATTEMPTS, before_retry
from app.services.wiring import service
from app.settings import Settings
from app.store.base import (
    AlreadyMember,
    BoardStore,
    CommentStore,
    ImportStore,
    NotFound,
    StoreUnavailable,
    TaskStore,
    UserStore,
    VersionConflict,
)

log = logging.getLogger(__name__)

BATCH = 200  # records read per trip to the parser's thread
SAVE_EVERY_SECONDS = 0.5  # progress written at most this often
SKIPPED_ITEMS_KEPT = 200  # the report names this many skipped records; the rest are counted
PASSES = 2  # cards, then comments (and checklists): each a read of the whole file


def job_not_found() -> NotFoundError:
    return NotFoundError("import_not_found", "No such import job.")


def _empty_result() -> dict[str, Any]:
    return {"imported": {}, "skipped": {}, "skipped_items": []}


class ImportRunStore(BoardStore, CommentStore, TaskStore, UserStore, Protocol): ...


class ImportServiceStore(ImportRunStore, ImportStore, Protocol): ...


@service
class ImportService:
    _settings: Settings
    _store: ImportServiceStore
    _publisher: EventPublisher
    _notices: PreferenceService
    _directory: Path = dataclasses.field(init=False)
    _running: dict[str, asyncio.Task[None]] = dataclasses.field(init=False, default_factory=dict)
    _sweeping: asyncio.Task[None] | None = dataclasses.field(init=False, default=None)

    def __post_init__(self) -> None:
        self._directory = self._settings.data_dir / "imports"

    # -- the API's calls ---------------------------------------------------------------
    async def create(
        self, caller: Caller, source: ImportSource, file_name: str, size: int, options: dict[str, Any]
    ) -> ImportJob:
        if size > self._settings.import_max_bytes:
            raise InvalidInputError(
                "import_too_large",
                f"Imports are limited to {self._settings.import_max_bytes} bytes (TASKWIRE_IMPORT_MAX_BYTES).",
            )
        if source is ImportSource.CSV and not (options.get("columns") or {}).get("title"):
            raise InvalidInputError("invalid_mapping", "A CSV import needs options.columns.title, the title column.")
        at = clock.now()
        job = ImportJob(
            id=new_id(),
            user_id=caller.user.id,
            source=source,
            state=ImportState.UPLOADING,
            file_name=file_name,
            size=size,
            received=0,
            options=options,
            board_id=None,
            progress=0,
            result=_empty_result(),
            error=None,
            lease_until=None,
            created_at=at,
            updated_at=at,
        )
        await self._store.create_import_job(job)
        return job

    async def get(self, caller: Caller, job_id: str) -> ImportJob:
        job = await self._store.get_import_job(job_id)
        if job is None or job.user_id != caller.user.id:
            raise job_not_found()
        return job

    async def upload(
        self, caller: Caller, job_id: str, offset: int, parts: AsyncIterator[bytes], spool: IO[bytes]
    ) -> ImportJob:
        """Store the part at ``offset``, which must be where the upload stands (a part sent
        again after a lost answer is refused with ``received``, to resume from). The part
        is written to ``spool`` (a local unnamed file) as it arrives, then into the store,
        where every instance reads it: the parts may reach different instances."""
        job = await self.get(caller, job_id)
        self._check_part(job, offset)
        written = 0
        async for part in parts:
            written += len(part)
            if offset + written > job.size:
                raise InvalidInputError("import_too_large", "The parts add up to more than the announced size.")
            await asyncio.to_thread(spool.write, part)
        await asyncio.to_thread(spool.seek, 0)
        received = offset + written
        state = ImportState.QUEUED if received == job.size else ImportState.UPLOADING
        updated = dataclasses.replace(job, received=received, state=state, updated_at=clock.now())
        if not await self._store.append_import_part(updated, offset, spool):
            self._check_part(await self.get(caller, job_id), offset)  # another request's part got there first
            raise ConflictError("upload_offset_mismatch", "Send the part that starts at `received`.")
        if updated.state is ImportState.QUEUED:
            self._start(updated.id)
        return updated

    @staticmethod
    def _check_part(job: ImportJob, offset: int) -> None:
        if job.state is not ImportState.UPLOADING:
            raise ConflictError("import_not_uploading", "This import's file is complete.", details={"state": job.state})
        if offset != job.received:
            raise ConflictError(
                "upload_offset_mismatch", "Send the part that starts at `received`.", details={"received": job.received}
            )

    # -- running -----------------------------------------------------------------------
    async def open(self) -> None:
        """Sweep for jobs to run: queued ones whose upload ended on an instance that stopped
        before it could start them, and running ones whose instance crashed (their lease
        ran out). Every server instance sweeps (not ``python -m app mcp``); the lease lets
        one run each job."""
        if self._sweeping is not None:
            return
        unfinished = {job.id for job in await self._store.list_unfinished_import_jobs()}
        # A local copy a crash left behind, of a job that has ended since.
        for path in await asyncio.to_thread(lambda: list(self._directory.glob("*.upload"))):
            if path.stem not in unfinished:
                path.unlink(missing_ok=True)
        self._sweeping = asyncio.create_task(self._sweep(), name="import-sweep")

    async def _sweep(self) -> None:
        while True:
            try:
                for job in await self._store.list_unfinished_import_jobs():
                    self._start(job.id)
            except StoreUnavailable:
                log.warning("imports: the store is unavailable; sweeping again later")
            await asyncio.sleep(self._settings.import_lease_seconds)

    async def close(self) -> None:
        tasks = [*self._running.values(), *([self._sweeping] if self._sweeping else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _file(self, job_id: str) -> Path:
        return self._directory / f"{job_id}.upload"

    def _start(self, job_id: str) -> None:
        if job_id not in self._running:
            task = asyncio.create_task(self._run_if_free(job_id), name=f"import-{job_id}")
            self._running[job_id] = task
            task.add_done_callback(lambda _: self._running.pop(job_id, None))

    def _lease(self) -> str:
        return clock.format_time(datetime.now(UTC) + timedelta(seconds=self._settings.import_lease_seconds))

    async def _run_if_free(self, job_id: str) -> None:
        """Claim the job and run it, unless another instance holds it (the sweep comes
        back once its lease may have run out)."""
        job = await self._store.claim_import_job(job_id, self._lease(), clock.now())
        if job is None:
            return
        try:
            await Run(self, job).run()
        except asyncio.CancelledError:
            raise
        except StoreUnavailable:
            # Not the file's fault: the job stays running, its lease runs out, and a sweep
            # (here or on another instance) resumes it, skipping what this run made.
            log.warning("import %s paused: the store is unavailable", job.id, exc_info=True)
        except ImportFileError as error:
            await self._finish(job, ImportState.FAILED, str(error))
        except Exception as error:
            log.exception("import %s failed", job.id)
            await self._finish(job, ImportState.FAILED, f"the import stopped: {error.__class__.__name__}")

    async def _copy_file(self, job: ImportJob) -> Path:
        """The job's file from the store to this instance's disk, a chunk at a time: the
        parsers read it from there, in several passes."""
        path = self._file(job.id)
        await asyncio.to_thread(self._directory.mkdir, mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        file = await asyncio.to_thread(open, path, "wb")
        try:
            restrict(path)
            async for chunk in await self._store.open_import_file(job.id):
                await asyncio.to_thread(file.write, chunk)
        finally:
            await asyncio.to_thread(file.close)
        return path

    async def _finish(self, job: ImportJob, state: ImportState, error: str | None = None) -> None:
        job.state, job.error, job.lease_until, job.updated_at = state, error, None, clock.now()
        if state is ImportState.DONE:
            job.progress = 100
        await self._store.save_import_job(job)
        # The file was the user's data: not kept past its job, in the store or here.
        await self._store.delete_import_file(job.id)
        with contextlib.suppress(OSError):
            self._file(job.id).unlink()

    async def _save(self, job: ImportJob) -> None:
        job.lease_until, job.updated_at = self._lease(), clock.now()
        await self._store.save_import_job(job)


@dataclasses.dataclass
class Run:
    """One run of one job: reads its file and makes what is not made yet."""

    service: ImportService
    job: ImportJob
    saved_at: float = 0.0
    # Checklist item id -> its checklist's rank, for the cards with several checklists
    # only: where the next checklist's items go among the ones already there.
    ranks: dict[str, int] = dataclasses.field(default_factory=dict)
    importer: User | None = None  # the job's user, once read

    @property
    def store(self) -> ImportRunStore:
        return self.service._store

    async def run(self) -> None:
        job = self.job
        job.result = _empty_result()  # counted afresh: a resumed run reports the whole file
        heartbeat = asyncio.create_task(self._keep_lease())
        try:
            await self._run(str(await self.service._copy_file(job)))
        finally:
            heartbeat.cancel()
            # Waited for: a renewal still in flight must not land after the final state.
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        await self.service._finish(job, ImportState.DONE)

    async def _run(self, path: str) -> None:
        job = self.job
        readers: dict[ImportSource, type[TrelloExport | CsvFile]] = {
            ImportSource.TRELLO: TrelloExport,
            ImportSource.PLANKA: PlankaExport,
            ImportSource.CSV: CsvFile,
        }
        source = readers[job.source](path)
        options = dict(job.options)
        board_source = await asyncio.to_thread(source.board, options)
        board = await self._board(board_source)
        job.board_id = board.id
        emails: dict[str, str] = options.get("_emails", {})
        users = await self._members(board, board_source, emails)
        for number, items in enumerate((source.cards, source.comments)):
            async for item in self._batches(items()):
                await self._make(board, board_source, item, users)
                await self._progress(number, source.reader.count if source.reader else 0)

    async def _keep_lease(self) -> None:
        """Renew the lease while the file is copied and while a pass reads long stretches
        that make nothing (a large export's comments pass), so no other instance takes the
        job over meanwhile."""
        while True:
            await asyncio.sleep(self.service._settings.import_lease_seconds / 3)
            await self.service._save(self.job)

    async def _batches(self, items: Iterator[Item]) -> AsyncIterator[Item]:
        """The parser runs in a thread, a batch at a time, so the event loop never waits on it."""
        while True:
            batch = await asyncio.to_thread(lambda: [item for _, item in zip(range(BATCH), items, strict=False)])
            if not batch:
                return
            for item in batch:
                yield item

    async def _progress(self, number: int, read: int) -> None:
        self.job.progress = min(99, int(100 * (number + read / max(self.job.size, 1)) / PASSES))
        if time.monotonic() - self.saved_at >= SAVE_EVERY_SECONDS:
            self.saved_at = time.monotonic()
            await self.service._save(self.job)

    def _count(self, kind: str) -> None:
        imported = self.job.result["imported"]
        imported[kind] = imported.get(kind, 0) + 1

    def _skip(self, skipped: Skipped) -> None:
        counts = self.job.result["skipped"]
        key = f"{skipped.kind}: {skipped.reason}"
        counts[key] = counts.get(key, 0) + 1
        items = self.job.result["skipped_items"]
        if len(items) < SKIPPED_ITEMS_KEPT:
            items.append(dataclasses.asdict(skipped))

    async def _board(self, source: SourceBoard) -> Board:
        board_id = stable_id(self.job.user_id, self.job.source, source.source_id)
        board = await self.store.get_board(board_id)
        if board is None:
            at = clock.now()
            board = Board(board_id, source.name, "", source.columns, self.job.user_id, at, at)
            await self.store.create_board(board, Member(board_id, self.job.user_id, Role.OWNER, at))
            self._count("board")
        elif await self.store.get_member(board_id, self.job.user_id) is None:
            raise ImportFileError("this file was imported before into a board you are no longer a member of")
        return board

    async def _members(self, board: Board, source: SourceBoard, emails: dict[str, str]) -> dict[str, str | None]:
        """Source member id -> user id on the board, for the members the source gives an
        email for; each with an account here is added as an editor."""
        users: dict[str, str | None] = {}
        for key, email in emails.items():
            users[key] = await self._user(board, email)
        return users

    async def _user(self, board: Board, email: str) -> str | None:
        user = await self.store.get_user_by_email(email)
        if user is None:
            return None
        if await self.store.get_member(board.id, user.id) is None:
            member = Member(board.id, user.id, Role.EDITOR, clock.now(), email=user.email, name=user.name)
            # Told like a member added by hand: the board is new to them.
            notify = await self.service._notices.route(member_added_notices(await self._importer(), board, member))
            draft = EventDraft("member.added", self.job.user_id, member.added_at, member_view(member), notify=notify)
            with contextlib.suppress(AlreadyMember):
                event = await self.store.add_member(member, draft)
                await self.service._publisher.publish(event)
                self._count("member")
        return user.id

    async def _importer(self) -> User:
        """Who started the import: named in the notices of the members it adds."""
        if self.importer is None:
            self.importer = await self.store.get_user(self.job.user_id)
            if self.importer is None:
                raise ImportFileError("the account that started this import is gone")
        return self.importer

    async def _assignees(self, board: Board, card: SourceCard, users: dict[str, str | None]) -> list[str]:
        """A CSV names assignees by email: looked up (and made editors) on first sight."""
        for key in card.members:
            if key not in users and "@" in key:
                users[key] = await self._user(board, key)
        found = [user for key in card.members if (user := users.get(key))]
        if len(found) < len(card.members):
            self._skip(Skipped("assignee", card.source_id, "a member with no account here (add an email mapping)"))
        return list(dict.fromkeys(found))

    async def _make(self, board: Board, source: SourceBoard, item: Item, users: dict[str, str | None]) -> None:
        if isinstance(item, Skipped):
            self._skip(item)
        elif isinstance(item, SourceCard):
            await self._card(board, source, item, users)
        elif isinstance(item, SourceChecklist):
            await self._checklist(board, item)
        else:
            await self._comment(board, source, item, users)

    async def _card(self, board: Board, source: SourceBoard, card: SourceCard, users: dict[str, str | None]) -> None:
        task_id = stable_id(board.id, "card", card.source_id, at=card.created_at)
        if await self.store.get_task(task_id) is not None:
            self._count("card (already there)")
            return
        first = source.columns[0] if card.column_key == "" or card.archived else None
        status = source.column_of.get(card.column_key) or first
        if status is None or status not in board.columns:
            self._skip(Skipped("card", card.source_id, "in a list that is archived or beyond the 20 columns"))
            return
        assignees = await self._assignees(board, card, users)
        at = clock.now()
        task = Task(
            id=task_id,
            board_id=board.id,
            title=card.title,
            description=card.description,
            status=status,
            priority=Priority.MEDIUM,
            assignees=assignees,
            labels=card.labels,
            due_at=card.due_at,
            position=key_between(await self.store.last_position(board.id, status), None),
            created_by=self.job.user_id,
            created_at=at,
            updated_at=at,
            archived_at=at if card.archived else None,
        )
        # One write for an archived card too: a crash cannot leave it made but not archived.
        event = await self.store.create_task(task, EventDraft("task.created", self.job.user_id, at, task_view(task)))
        await self.service._publisher.publish(event)
        self._count("card")

    async def _comment(
        self, board: Board, source: SourceBoard, item: SourceComment, users: dict[str, str | None]
    ) -> None:
        comment_id = stable_id(board.id, "comment", item.source_id, at=item.at)
        if await self.store.get_comment(comment_id) is not None:
            self._count("comment (already there)")
            return
        task = await self.store.get_task(stable_id(board.id, "card", item.card_id, at=item.card_created))
        if task is None:
            self._skip(Skipped("comment", item.source_id, "its card was not imported"))
            return
        author = users.get(item.author)
        body = item.text if author else f"{source.members.get(item.author, item.author_name)} wrote:\n\n{item.text}"
        comment = Comment(comment_id, board.id, task.id, author or self.job.user_id, body[:10000], [], item.at, item.at)
        event = await self.store.create_comment(
            comment, EventDraft("comment.created", comment.author_id, clock.now(), comment_view(comment))
        )
        await self.service._publisher.publish(event)
        self._count("comment")

    async def _checklist(self, board: Board, item: SourceChecklist) -> None:
        """Add the items the card's task does not have yet (their ids come from the source's,
        so a re-import adds none twice), in one write and one ``task.updated`` event."""
        task_id = stable_id(board.id, "card", item.card_id, at=item.card_created)
        for attempt in range(WRITE_ATTEMPTS):
            task = await self.store.get_task(task_id)
            if task is None:
                self._skip(Skipped("checklist", item.source_id, "its card was not imported"))
                return
            checklist = [dict(entry) for entry in task.checklist]
            present = {entry["id"] for entry in checklist}
            outcome: dict[str, list[str]] = {"added": [], "there": [], "full": [], "empty": []}
            for source_id, text, done in item.items:
                item_id = stable_id(board.id, "checklist item", source_id)
                if item.rank is not None:
                    self.ranks[item_id] = item.rank
                if item_id in present:
                    outcome["there"].append(source_id)
                elif not text:
                    outcome["empty"].append(source_id)
                elif len(checklist) >= MAX_CHECKLIST_ITEMS:
                    outcome["full"].append(source_id)
                else:
                    checklist.insert(self._place(checklist, item.rank), {"id": item_id, "text": text, "done": done})
                    outcome["added"].append(source_id)
            if outcome["added"]:
                at = clock.now()
                updated = dataclasses.replace(task, checklist=checklist, version=task.version + 1, updated_at=at)
                draft = EventDraft("task.updated", self.job.user_id, at, task_view(updated))
                try:
                    event = await self.store.update_task(updated, task.version, draft)
                except VersionConflict:  # someone changed the task meanwhile: merge into theirs
                    await before_retry(attempt, "task")
                    continue
                except NotFound:
                    self._skip(Skipped("checklist", item.source_id, "its card was not imported"))
                    return
                await self.service._publisher.publish(event)
            break
        for _ in outcome["added"]:
            self._count("checklist item")
        for _ in outcome["there"]:
            self._count("checklist item (already there)")
        for source_id in outcome["empty"]:
            self._skip(Skipped("checklist item", source_id, "no text"))
        for source_id in outcome["full"]:
            self._skip(Skipped("checklist item", source_id, f"beyond the {MAX_CHECKLIST_ITEMS} items of a checklist"))

    def _place(self, checklist: list[dict[str, Any]], rank: int | None) -> int:
        """Where an item of the checklist of ``rank`` goes: after the items of its own and
        earlier checklists, before those of later ones; at the end when the card has one."""
        if rank is None:
            return len(checklist)
        known = [(index, self.ranks[entry["id"]]) for index, entry in enumerate(checklist) if entry["id"] in self.ranks]
        after = [index + 1 for index, other in known if other <= rank]
        if after:
            return after[-1]
        return next((index for index, other in known if other > rank), len(checklist))
