"""Due-date reminders, overdue notices and the daily digest, run by whichever instance
holds the scheduler's lease (every instance tries each ``TASKWIRE_SCHEDULER_INTERVAL``).

Nothing is kept in memory between runs: each run walks the tasks due from a week ago to
two weeks ahead and works out, from the time now, what should have happened by now.
Each reminder and digest is recorded under a key in the same write that makes it (a
reminder's key names the task, its due date, the kind and the user), so it happens once
per task and due date however many instances run, crash or restart; moving the due
date makes new keys, which re-arms them. Reminders that came due while every instance
was down go out on the first run after (an overdue task gets the overdue notice only).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta

from app.domain import clock
from app.domain.ids import new_id
from app.domain.mail import (
    Channel,
    MailStatus,
    OutboxMessage,
    Preferences,
    default_preferences,
    outbox_of,
    routed,
    zone,
)
from app.domain.models import Board, Notification, NotificationDraft, NotificationType, Task
from app.events.publisher import EventPublisher
from app.mail.render import DIGEST, Renderer, local_time
from app.settings import Settings
from app.store.base import Store
from app.webhooks.delivery import seconds_from_now
from app.webhooks.worker import scan_forever

LEASE = "scheduler"
CATCH_UP = timedelta(days=7)  # overdue notices of tasks due longer ago are not sent
LOOKAHEAD = timedelta(days=14)  # the longest reminder lead time a user may choose
DIGEST_WINDOW = timedelta(hours=6)  # after the user's digest hour; later, it waits for the next day
DUE_IN_DIGEST = timedelta(days=1)
PAGE = 200
DIGEST_LINES = 200
HELD_USERS = 10_000
SYSTEM_ACTOR = "system"
SYSTEM_NAME = "Taskwire"


def reminder_key(kind: NotificationType, task: Task, user_id: str) -> str:
    return f"{kind.value}:{task.id}:{task.due_at}:{user_id}"


class Scheduler:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        publisher: EventPublisher,
        renderer: Renderer,
        owner: str,
        wake_mail: Callable[[], None],
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._renderer = renderer
        self._owner = owner
        self._wake_mail = wake_mail
        self._mail = bool(settings.smtp_url)
        self._interval = settings.scheduler_interval_seconds
        self._lease_ttl = max(settings.mail_lease_ttl_seconds, settings.scheduler_interval_seconds * 2)
        self._loop: asyncio.Task[None] | None = None

    async def open(self) -> None:
        # Nothing wakes it: it runs on its interval (and at start-up, to catch up).
        self._loop = asyncio.create_task(
            scan_forever(self.run, asyncio.Event(), self._interval, "scheduler"), name="scheduler"
        )

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self._store.release_lease(LEASE, self._owner)

    async def _hold_lease(self) -> bool:
        return await self._store.claim_lease(LEASE, self._owner, clock.now(), seconds_from_now(self._lease_ttl))

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
        """Send the reminders due by ``now``; returns each user's tasks due within a day."""
        due_soon: dict[str, list[tuple[Task, Board]]] = {}
        boards: dict[str, Board | None] = {}
        after: tuple[str, str] | None = None
        window = (clock.format_time(now - CATCH_UP), clock.format_time(now + LOOKAHEAD))
        while True:
            tasks = await self._store.list_tasks_due(*window, after, PAGE)
            saved = await self._store.get_preferences([user for task in tasks for user in task.assignees])
            wanted: list[tuple[str, NotificationType, Task, Board, str]] = []
            for task in tasks:
                if task.board_id not in boards:
                    boards[task.board_id] = await self._store.get_board(task.board_id)
                board = boards[task.board_id]
                if board is None or task.due_at is None or task.status == board.columns[-1]:
                    continue  # gone, or in the board's last column: done
                due = clock.parse_time(task.due_at)
                for user_id in task.assignees:
                    lead = timedelta(minutes=(saved.get(user_id) or default_preferences(user_id)).reminder_lead_minutes)
                    if now >= due:
                        kind: NotificationType | None = NotificationType.TASK_OVERDUE
                    elif now >= due - lead:
                        kind = NotificationType.TASK_DUE_SOON
                    else:
                        kind = None
                    if kind is not None:
                        wanted.append((reminder_key(kind, task, user_id), kind, task, board, user_id))
                    if now <= due <= now + DUE_IN_DIGEST:
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

    async def _digests(self, now: datetime, due_soon: dict[str, list[tuple[Task, Board]]]) -> None:
        users = sorted(set(await self._store.list_held_users(HELD_USERS)) | set(due_soon))
        saved = await self._store.get_preferences(users)
        keys: dict[str, tuple[str, datetime, Preferences]] = {}
        for user_id in users:
            preferences = saved.get(user_id) or default_preferences(user_id)
            local = now.astimezone(zone(preferences.time_zone))
            morning = local.replace(hour=preferences.digest_hour, minute=0, second=0, microsecond=0)
            if morning <= local < morning + DIGEST_WINDOW:
                keys[user_id] = (f"{DIGEST}:{user_id}:{local.date().isoformat()}", local, preferences)
        done = await self._store.marked([key for key, _, _ in keys.values()])
        for user_id, (key, local, preferences) in keys.items():
            if key not in done:
                await self._digest(key, user_id, local, preferences, due_soon.get(user_id, []))

    async def _digest(
        self, key: str, user_id: str, local: datetime, preferences: Preferences, due: list[tuple[Task, Board]]
    ) -> None:
        tz = preferences.time_zone
        held = await self._store.list_held_mail(user_id, DIGEST_LINES)
        sections = []
        if held:
            sections.append(("What happened", [list(self._renderer.summary(m.kind, m.data, tz)) for m in held]))
        if due:
            lines = [
                [
                    f"“{task.title}” on {board.name}, due {local_time(task.due_at or '', tz)}",
                    self._renderer.links.board(board.id, task.id),
                ]
                for task, board in sorted(due, key=lambda pair: pair[0].due_at or "")
            ]
            sections.append(("Due in the next day", lines))
        if not sections:
            return
        at = clock.now()
        day = f"{local:%A} {local.day} {local:%B %Y}"
        data = {"day": day, "sections": [[heading, lines] for heading, lines in sections]}
        message = OutboxMessage(new_id(), user_id, DIGEST, data, key, MailStatus.PENDING, 0, at, at)
        if await self._store.queue_digest(key, message, [m.id for m in held]):
            self._wake_mail()
