"""Due-date reminders, overdue notices and the daily digest, run by whichever instance
holds the scheduler's lease (every instance tries each ``TASKWIRE_SCHEDULER_INTERVAL``).

Nothing is kept in memory between runs: each run walks the tasks due from a week ago to
two weeks ahead and works out, from the time now, what should have happened by now.
Each reminder and digest is recorded under a key in the same write that makes it (a
reminder's key names the task, its due date, the kind and the user), so it happens once
per task and due date however many instances run, crash or restart; moving the due
date makes new keys, which re-arms them. Reminders that came due while every instance
was down go out on the first run after (an overdue task gets the overdue notice only).

The digest (``DigestBuilder``) tells a user, at their local morning, the notices held for
it, what others did on their boards since the morning before (tasks created, completed,
commented, read from each board's event log) and their tasks due today or overdue. A day
with nothing to say is recorded under the digest's key all the same, so it is looked at
once a day, not on every run.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from app.domain import clock
from app.domain.ids import new_id
from app.domain.mail import (
    Channel,
    MailStatus,
    OutboxMessage,
    Preferences,
    completed,
    default_preferences,
    outbox_of,
    routed,
    takes_digest,
    zone,
)
from app.domain.models import Board, Event, Notification, NotificationDraft, NotificationType, Task
from app.events.publisher import EventPublisher
from app.mail.render import DIGEST, Renderer, local_time
from app.settings import Settings
from app.store.base import BoardStore, EventStore, InstanceStore, MailStore, ScheduleStore, TaskStore
from app.webhooks.worker import scan_forever

LEASE = "scheduler"
CATCH_UP = timedelta(days=7)  # overdue notices of tasks due longer ago are not sent
OVERDUE_IN_DIGEST = timedelta(days=30)  # the digest lists overdue tasks due since then
LOOKAHEAD = timedelta(days=14)  # the longest reminder lead time a user may choose
DIGEST_WINDOW = timedelta(hours=6)  # after the user's digest hour; later, it waits for the next day
DUE_IN_DIGEST = timedelta(days=1)  # the longest rest of a local day
PAGE = 200
DIGEST_LINES = 200
DIGEST_BOARDS = 100  # the boards of a user's a digest looks at
DIGEST_EVENTS = 5000  # of one board's day
EVENT_PAGE = 500
RECENT = 3  # titles a digest names per board and kind of activity
USER_PAGE = 500
SYSTEM_ACTOR = "system"
SYSTEM_NAME = "Taskwire"


def reminder_key(kind: NotificationType, task: Task, user_id: str) -> str:
    return f"{kind.value}:{task.id}:{task.due_at}:{user_id}"


class DigestStore(BoardStore, EventStore, TaskStore, Protocol): ...


class SchedulerStore(DigestStore, InstanceStore, MailStore, ScheduleStore, Protocol): ...


@dataclasses.dataclass(eq=False, slots=True)
class Scheduler:
    settings: dataclasses.InitVar[Settings]
    _store: SchedulerStore
    _publisher: EventPublisher
    _renderer: Renderer
    _owner: str
    _wake_mail: Callable[[], None]
    _mail: bool = dataclasses.field(init=False)
    _interval: float = dataclasses.field(init=False)
    _lease_ttl: timedelta = dataclasses.field(init=False)
    _held_until: datetime | None = dataclasses.field(init=False, default=None)
    _loop: asyncio.Task[None] | None = dataclasses.field(init=False, default=None)

    def __post_init__(self, settings: Settings) -> None:
        self._mail = bool(settings.smtp_url)
        self._interval = settings.scheduler_interval_seconds
        self._lease_ttl = timedelta(
            seconds=max(settings.mail_lease_ttl_seconds, settings.scheduler_interval_seconds * 2)
        )

    async def open(self) -> None:
        # Nothing wakes it: it runs on its interval (and at start-up, to catch up).
        self._loop = asyncio.create_task(
            scan_forever(self.run, asyncio.Event(), self._interval, "scheduler"), name="scheduler"
        )

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
            self._held_until = None
            with contextlib.suppress(Exception):
                await self._store.release_lease(LEASE, self._owner)

    async def _hold_lease(self) -> bool:
        # Renewing is a write, and on a short interval a steady stream of them makes every
        # other transaction on the database more likely to conflict and retry. Nobody else
        # may take the lease before it expires, so one with over half its time left is held.
        now = clock.parse_time(clock.now())
        if self._held_until is not None and self._lease_ttl / 2 < self._held_until - now <= self._lease_ttl:
            return True
        until = now + self._lease_ttl
        held = await self._store.claim_lease(LEASE, self._owner, clock.format_time(now), clock.format_time(until))
        self._held_until = until if held else None
        return held

    async def run(self) -> bool:
        """One run, if this instance holds (or takes) the lease; whether it did."""
        if not await self._hold_lease():
            return False
        now = clock.parse_time(clock.now())
        due_soon = await self._reminders(now)
        if self._mail:
            await self._digests(now, due_soon)
        return True

    async def _reminders(self, now: datetime) -> dict[str, list[tuple[Task, Board]]]:
        """Send the reminders due by ``now``; returns each user's open tasks due within a
        day or overdue (for the digest)."""
        due_soon: dict[str, list[tuple[Task, Board]]] = {}
        boards: dict[str, Board | None] = {}
        after: tuple[str, str] | None = None
        window = (clock.format_time(now - OVERDUE_IN_DIGEST), clock.format_time(now + LOOKAHEAD))
        while True:
            tasks = await self._store.list_tasks_due(*window, after, PAGE)
            saved = await self._store.get_preferences([user for task in tasks for user in task.assignees])
            wanted: list[tuple[str, NotificationType, Task, Board, str]] = []
            for task in tasks:
                if task.board_id not in boards:
                    boards[task.board_id] = await self._store.get_board(task.board_id)
                board = boards[task.board_id]
                if board is None or task.due_at is None or task.status == board.columns[-1] or task.archived_at:
                    continue  # gone, done (in the board's last column) or put away (archived)
                due = clock.parse_time(task.due_at)
                for user_id in task.assignees:
                    lead = timedelta(minutes=(saved.get(user_id) or default_preferences(user_id)).reminder_lead_minutes)
                    if now - CATCH_UP >= due:
                        kind: NotificationType | None = None  # too late for a notice; the digest lists it
                    elif now >= due:
                        kind = NotificationType.TASK_OVERDUE
                    elif now >= due - lead:
                        kind = NotificationType.TASK_DUE_SOON
                    else:
                        kind = None
                    if kind is not None:
                        wanted.append((reminder_key(kind, task, user_id), kind, task, board, user_id))
                    if due <= now + DUE_IN_DIGEST:
                        due_soon.setdefault(user_id, []).append((task, board))
            done = await self._store.marked([item[0] for item in wanted])
            for key, kind, task, board, user_id in wanted:
                if key not in done:
                    preferences = saved.get(user_id) or default_preferences(user_id)
                    await self._remind(key, kind, task, board, user_id, preferences, now)
            if len(tasks) < PAGE or not await self._hold_lease():
                return due_soon
            assert tasks[-1].due_at is not None
            after = (tasks[-1].due_at, tasks[-1].id)

    async def _remind(
        self,
        key: str,
        kind: NotificationType,
        task: Task,
        board: Board,
        user_id: str,
        preferences: Preferences,
        now: datetime,
    ) -> None:
        if await self._store.get_member(board.id, user_id) is None:
            return
        at = clock.format_time(now)
        data = {"task_title": task.title, "due_at": task.due_at}
        draft = NotificationDraft(new_id(), user_id, kind, board.name, SYSTEM_NAME, data, task_id=task.id)
        notice = Notification(
            id=draft.id,
            user_id=user_id,
            type=kind,
            board_id=board.id,
            board_name=board.name,
            actor=SYSTEM_ACTOR,
            actor_name=SYSTEM_NAME,
            at=at,
            seq=board.seq,
            data=dict(data),
            task_id=task.id,
        )
        channels = routed(draft, preferences, self._mail, now)
        shown = [notice] if channels is not None and Channel.APP.value in channels.channels else []
        mail = outbox_of(notice, channels) if channels is not None else []
        if await self._store.record_reminder(key, at, shown, mail):
            await self._publisher.publish_notifications(shown)
            if mail:
                self._wake_mail()

    async def _digests(self, now: datetime, due: dict[str, list[tuple[Task, Board]]]) -> None:
        """Every user at their digest's morning whose digest of the day is not recorded yet."""
        builder = DigestBuilder(self._store, self._renderer)
        after: str | None = None
        while users := await self._store.list_users(after, USER_PAGE):
            after = users[-1].id
            active = [user.id for user in users if user.disabled_at is None]
            saved = await self._store.get_preferences(active)
            keys: dict[str, tuple[str, datetime, datetime, Preferences]] = {}
            for user_id in active:
                preferences = completed(saved[user_id]) if user_id in saved else default_preferences(user_id)
                if not takes_digest(preferences):
                    continue
                local = now.astimezone(zone(preferences.time_zone))
                morning = local.replace(hour=preferences.digest_hour, minute=0, second=0, microsecond=0)
                if morning <= local < morning + DIGEST_WINDOW:
                    keys[user_id] = (f"{DIGEST}:{user_id}:{local.date().isoformat()}", local, morning, preferences)
            done = await self._store.marked([key for key, _, _, _ in keys.values()])
            for user_id, (key, local, morning, preferences) in sorted(keys.items()):
                if key not in done:
                    await self._digest(builder, key, user_id, local, morning, preferences, due.get(user_id, []))
            if len(users) < USER_PAGE or not await self._hold_lease():
                return

    async def _digest(
        self,
        builder: DigestBuilder,
        key: str,
        user_id: str,
        local: datetime,
        morning: datetime,
        preferences: Preferences,
        due: list[tuple[Task, Board]],
    ) -> None:
        tz = preferences.time_zone
        held = await self._store.list_held_mail(user_id, DIGEST_LINES)
        sections: list[tuple[str, list[list[str]]]] = []
        if held:
            sections.append(("What happened", [list(self._renderer.summary(m.kind, m.data, tz)) for m in held]))
        since = clock.format_time((morning - timedelta(days=1)).astimezone(UTC))
        sections += await builder.boards(user_id, since)
        sections += self._due(due, local, tz)
        at = clock.now()
        if not sections:
            # Nothing to say today: recorded, so that later runs do not look again.
            await self._store.record_reminder(key, at, [], [])
            return
        day = f"{local:%A} {local.day} {local:%B %Y}"
        data = {"day": day, "sections": [[heading, lines] for heading, lines in sections]}
        message = OutboxMessage(new_id(), user_id, DIGEST, data, key, MailStatus.PENDING, 0, at, at)
        if await self._store.queue_digest(key, message, [m.id for m in held]):
            self._wake_mail()

    def _due(self, due: list[tuple[Task, Board]], local: datetime, tz: str) -> list[tuple[str, list[list[str]]]]:
        """The user's open tasks past their due date, and those due by the end of their day."""
        now = clock.format_time(local.astimezone(UTC))
        midnight = clock.format_time(
            (local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)).astimezone(UTC)
        )
        ordered = sorted(due, key=lambda pair: pair[0].due_at or "")
        sections = []
        for heading, wanted in (
            ("Overdue", [pair for pair in ordered if (pair[0].due_at or "") < now]),
            ("Due today", [pair for pair in ordered if now <= (pair[0].due_at or "") < midnight]),
        ):
            if wanted:
                lines = [
                    [
                        f"“{task.title}” on {board.name}, due {local_time(task.due_at or '', tz)}",
                        self._renderer.links.board(board.id, task.id),
                    ]
                    for task, board in wanted
                ]
                sections.append((heading, lines))
        return sections


@dataclasses.dataclass(slots=True)
class BoardActivity:
    """What others did on one board in a digest's day."""

    # task id -> title, least recent first (a task done twice in the day counts once).
    created: dict[str, str] = dataclasses.field(default_factory=dict)
    completed: dict[str, str] = dataclasses.field(default_factory=dict)
    comments: int = 0
    commented: dict[str, None] = dataclasses.field(default_factory=dict)  # task ids, least recent first


class DigestBuilder:
    """The digest's per-board summaries, for one scheduler run: each board's events of a
    day are read once however many of its members get a digest."""

    def __init__(self, store: DigestStore, renderer: Renderer) -> None:
        self._store = store
        self._renderer = renderer
        self._events: dict[tuple[str, str], tuple[int, list[Event]]] = {}
        self._status_before: dict[tuple[str, int], str | None] = {}

    async def boards(self, user_id: str, since: str) -> list[tuple[str, list[list[str]]]]:
        sections = []
        for board, _ in await self._store.list_boards_for_user(user_id, None, DIGEST_BOARDS):
            activity = await self._activity(board, user_id, since)
            if activity is not None:
                sections.append(await self._section(board, activity))
        return sections

    async def _activity(self, board: Board, user_id: str, since: str) -> BoardActivity | None:
        start, events = await self._day(board, since)
        done = board.columns[-1] if board.columns else None
        activity = BoardActivity()
        status: dict[str, str | None] = {}  # task id -> its column as the day's events went
        for event in events:
            data = event.data
            task_id = str(data.get("id") or "")
            if event.type in ("task.moved", "task.updated") and task_id:
                if task_id not in status:
                    status[task_id] = await self._status_at(board.id, task_id, start)
                before, status[task_id] = status[task_id], data.get("status")
                if event.actor != user_id and data.get("status") == done != before:
                    _latest(activity.completed, task_id, str(data.get("title", "")))
            elif event.type == "task.created" and task_id:
                status[task_id] = data.get("status")
                if event.actor != user_id:
                    _latest(activity.created, task_id, str(data.get("title", "")))
            elif event.type == "comment.created" and event.actor != user_id:
                activity.comments += 1
                _latest(activity.commented, str(data.get("task_id")), None)
        if not (activity.created or activity.completed or activity.comments):
            return None
        return activity

    async def _day(self, board: Board, since: str) -> tuple[int, list[Event]]:
        """The board's events from ``since`` on (at most DIGEST_EVENTS), and the seq before them."""
        if (board.id, since) not in self._events:
            start = await self._seq_before(board, since)
            events: list[Event] = []
            while len(events) < DIGEST_EVENTS:
                page = await self._store.list_events(board.id, events[-1].seq if events else start, EVENT_PAGE)
                events += page
                if len(page) < EVENT_PAGE:
                    break
            self._events[(board.id, since)] = (start, events[:DIGEST_EVENTS])
        return self._events[(board.id, since)]

    async def _seq_before(self, board: Board, since: str) -> int:
        """The seq of the board's last event before ``since``: a binary search of the log,
        which is in time order, rather than a read of all of it."""
        low, high = 0, board.seq
        while low < high:
            middle = (low + high + 1) // 2
            found = await self._store.list_events(board.id, middle - 1, 1)
            if not found or found[0].at >= since:
                high = middle - 1
            else:
                low = found[0].seq
        return low

    async def _status_at(self, board_id: str, task_id: str, seq: int) -> str | None:
        """The task's column as of the board's event ``seq``; None: it did not exist yet."""
        if (task_id, seq) not in self._status_before:
            history = await self._store.list_events(board_id, 0, EVENT_PAGE, task_id)
            states = [e.data.get("status") for e in history if e.seq <= seq and e.type.startswith("task.")]
            self._status_before[(task_id, seq)] = next((s for s in reversed(states) if s is not None), None)
        return self._status_before[(task_id, seq)]

    async def _section(self, board: Board, activity: BoardActivity) -> tuple[str, list[list[str]]]:
        counts = []
        if activity.created:
            counts.append(_count(len(activity.created), "task") + " created")
        if activity.completed:
            counts.append(_count(len(activity.completed), "task") + " completed")
        if activity.comments:
            counts.append(f"{_count(activity.comments, 'comment')} on {_count(len(activity.commented), 'task')}")
        link = self._renderer.links.board
        lines = [[f"New: “{title}”", link(board.id, task_id)] for task_id, title in _recent(activity.created)]
        lines += [[f"Done: “{title}”", link(board.id, task_id)] for task_id, title in _recent(activity.completed)]
        for task_id, _ in _recent(activity.commented):
            task = await self._store.get_task(task_id)
            if task is not None:
                lines.append([f"Commented: “{task.title}”", link(board.id, task_id)])
        return f"On {board.name}: {', '.join(counts)}", lines


def _latest[V](seen: dict[str, V], key: str, value: V) -> None:
    seen.pop(key, None)
    seen[key] = value


def _recent[V](seen: dict[str, V]) -> list[tuple[str, V]]:
    return list(seen.items())[-RECENT:][::-1]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
