"""Due-date reminders and the daily digest under a clock the test moves (app.domain.clock
.travel): two instances share one store and each runs the scheduler; reminders that came
due while both were down go out once after they return; moving the due date re-arms them;
a task in the board's last column is done, and an archived one is put away: neither
reminds anybody; nor is anybody who turned due-soon and overdue off. The digest gathers a day's
digest lines and what is due, once, at the user's morning."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from quart import Quart

from app.domain import clock
from app.domain.mail import MailStatus
from app.factory import create_app
from app.settings import Settings
from tests.mail.conftest import PUBLIC_URL, mail_settings, store_of
from tests.support.apiclient import Account, Api
from tests.support.smtp import Received, SmtpSink

TICK = 0.05
ZONE = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def settings(database_url: str, tmp_path: Path, sink: SmtpSink) -> Settings:
    return mail_settings(database_url, tmp_path, sink.url(), scheduler_interval_seconds=TICK)


@pytest.fixture
def time_machine() -> Iterator[list[timedelta]]:
    """Moves the clock of this process; puts it back afterwards."""
    moved: list[timedelta] = []
    yield moved
    clock.travel(-sum(moved, timedelta()))


def travel(moved: list[timedelta], by: timedelta) -> None:
    clock.travel(by)
    moved.append(by)


@contextlib.asynccontextmanager
async def instances(settings: Settings, count: int = 2) -> AsyncIterator[list[Api]]:
    """``count`` app instances on the one store, each with its mail worker and scheduler."""
    async with contextlib.AsyncExitStack() as stack:
        apps: list[Quart] = [create_app(settings) for _ in range(count)]
        for application in apps:
            await stack.enter_async_context(application.test_app())
        yield [Api(application.test_client()) for application in apps]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def _bell(api: Api, account: Account) -> list[str]:
    status, body = await api.call("GET", "/api/v1/notifications", account)
    assert status == 200
    return [n["type"] for n in body["items"] if n["type"] in ("task.due_soon", "task.overdue")]


def reminders(sink: SmtpSink, account: Account) -> list[Received]:
    return [r for r in sink.to(account.email) if r.message["X-Taskwire-Kind"] in ("due_soon", "overdue")]


async def _settle() -> None:
    await asyncio.sleep(TICK * 8)  # many scheduler runs on both instances


async def test_reminders_missed_while_down_are_sent_once_and_a_new_due_date_re_arms_them(
    settings: Settings, sink: SmtpSink, time_machine: list[timedelta]
) -> None:
    due = datetime.now(UTC) + timedelta(days=3)
    async with instances(settings) as (first, second):
        ada, bob = await first.register("Ada"), await first.register("Bob")
        board = await first.board(ada, "Launch")
        await first.add_member(ada, board["id"], bob, "editor")
        task = await first.task(ada, board["id"], "Ship it", assignees=[bob.id], due_at=iso(due))
        await first.task(ada, board["id"], "Already done", assignees=[bob.id], due_at=iso(due), status="done")
        shelved = await first.task(ada, board["id"], "Shelved", assignees=[bob.id], due_at=iso(due))
        status, _ = await first.call(
            "POST", f"/api/v1/tasks/{shelved['id']}/archive", ada, json={"version": shelved["version"]}
        )
        assert status == 200
        await _settle()
        assert await _bell(second, bob) == []  # three days ahead: nothing yet

    travel(time_machine, timedelta(days=2, hours=12))  # both down while the reminder comes due
    async with instances(settings) as (first, second):
        await sink.wait_for(lambda: len(reminders(sink, bob)) == 1)
        await _settle()
        [reminder] = reminders(sink, bob)
        assert str(reminder.message["Subject"]).startswith("“Ship it” is due ")
        assert f"/boards/{board['id']}?task={task['id']}" in reminder.part("plain")
        assert await _bell(second, bob) == ["task.due_soon"]

    travel(time_machine, timedelta(days=1))  # down again while it becomes overdue
    async with instances(settings) as (first, _):
        await sink.wait_for(lambda: len(reminders(sink, bob)) == 2)
        await _settle()
        assert reminders(sink, bob)[1].message["Subject"] == "“Ship it” is overdue"
        assert await _bell(first, bob) == ["task.overdue", "task.due_soon"]

        # A new due date (six hours ahead: within Bob's 24 hours) re-arms the reminder.
        status, current = await first.call("GET", f"/api/v1/tasks/{task['id']}", ada)
        later = clock.parse_time(clock.now()) + timedelta(hours=6)
        status, _ = await first.call(
            "PATCH", f"/api/v1/tasks/{task['id']}", ada, json={"due_at": iso(later), "version": current["version"]}
        )
        assert status == 200
        await sink.wait_for(lambda: len(reminders(sink, bob)) == 3)
        await _settle()
    subjects = [str(r.message["Subject"]) for r in reminders(sink, bob)]
    assert len(subjects) == 3 and subjects[2].startswith("“Ship it” is due ")
    assert not any("Already done" in subject or "Shelved" in subject for subject in subjects)


async def test_the_lead_time_is_each_users(settings: Settings, sink: SmtpSink, time_machine: list[timedelta]) -> None:
    due = datetime.now(UTC) + timedelta(hours=5)
    async with instances(settings, 1) as (api,):
        ada, bob, cy = await api.register("Ada"), await api.register("Bob"), await api.register("Cy")
        status, _ = await api.call("PATCH", "/api/v1/preferences", cy, json={"reminder_lead_minutes": 120})
        assert status == 200
        board = await api.board(ada, "Launch")
        for member in (bob, cy):
            await api.add_member(ada, board["id"], member, "editor")
        await api.task(ada, board["id"], "Ship it", assignees=[bob.id, cy.id], due_at=iso(due))
        await sink.wait_for(lambda: len(reminders(sink, bob)) == 1)  # 24 hours ahead by default
        await _settle()
        assert reminders(sink, cy) == []  # two hours ahead for Cy
        travel(time_machine, timedelta(hours=3, minutes=30))
        await sink.wait_for(lambda: len(reminders(sink, cy)) == 1)
        await _settle()
        assert len(reminders(sink, bob)) == 1


async def test_the_daily_digest_comes_once_at_the_users_morning(
    settings: Settings, sink: SmtpSink, time_machine: list[timedelta]
) -> None:
    async with instances(settings) as (first, second):
        ada, bob, carol = await first.register("Ada"), await first.register("Bob"), await first.register("Carol")
        dan = await first.register("Dan")  # on no board, nothing due: no digest
        # Bob's and Dan's morning is two hours away, in their zone.
        tokyo = datetime.now(UTC).astimezone(ZONE)
        morning = (tokyo + timedelta(hours=2)).hour
        for account in (bob, dan):
            status, _ = await first.call(
                "PATCH", "/api/v1/preferences", account, json={"time_zone": "Asia/Tokyo", "digest_hour": morning}
            )
            assert status == 200
        board = await first.board(ada, "Launch")
        for member in (bob, carol):
            await first.add_member(ada, board["id"], member, "editor")
        old = await first.task(ada, board["id"], "Old task")
        travel(time_machine, timedelta(days=1))  # the old task was made before the digest's day

        now = clock.parse_time(clock.now())
        task = await first.task(
            ada, board["id"], "Ship it", assignees=[bob.id], due_at=iso(now + timedelta(hours=2, minutes=1))
        )
        await first.task(ada, board["id"], "Late", assignees=[bob.id], due_at=iso(now - timedelta(hours=1)))
        await second.task(carol, board["id"], "Write notes")
        await first.task(bob, board["id"], "Bob's own")  # his own: not in his digest
        status, _ = await second.call("POST", f"/api/v1/tasks/{old['id']}/move", carol, json={"status": "done"})
        assert status == 200
        status, _ = await second.call(
            "POST", f"/api/v1/tasks/{task['id']}/comments", carol, json={"body": "Looks good"}
        )
        assert status == 201
        await _settle()
        digests = lambda who: [r for r in sink.to(who.email) if r.message["X-Taskwire-Kind"] == "digest"]  # noqa: E731
        assert digests(bob) == []
        travel(time_machine, timedelta(hours=2))
        await sink.wait_for(lambda: len(digests(bob)) == 1)
        await _settle()
        [digest] = digests(bob)
        assert str(digest.message["Subject"]).startswith("Your Taskwire digest for ")
        text = digest.part("plain")
        assert "What happened" in text and "Carol commented on “Ship it”" in text
        assert "Ada added you to the board Launch" in text
        # What others did on his boards since the morning before, with links.
        assert "On Launch: 3 tasks created, 1 task completed, 1 comment on 1 task" in text
        for line in ("New: “Write notes”", "New: “Late”", "New: “Ship it”", "Done: “Old task”"):
            assert line in text
        assert "Bob's own" not in text
        assert f"/boards/{board['id']}?task={old['id']}" in text
        assert "Overdue\r\n  - “Late” on Launch, due " in text
        assert "Due today\r\n  - “Ship it” on Launch, due " in text
        assert "(Asia/Tokyo)" in text
        html = digest.part("html")
        assert "On Launch: 3 tasks created" in html and "Done: “Old task”" in html
        held = [m for m in await store_of(first).list_mail(bob.id, 50) if m.status is MailStatus.HELD]
        assert held == []
        assert len(digests(bob)) == 1
        # Dan had nothing: no email, and his day is recorded so that it is not looked at again.
        assert digests(dan) == []
        day = clock.parse_time(clock.now()).astimezone(ZONE)
        dans_day = f"digest:{dan.id}:{day.date().isoformat()}"
        # The run that queued Bob's digest goes on to Dan: on a loaded box it may still be
        # at it when Bob's has arrived and settled.
        async with asyncio.timeout(10):
            while not await store_of(first).marked([dans_day]):
                await asyncio.sleep(TICK)


async def test_no_digest_for_whom_turned_it_off(
    settings: Settings, sink: SmtpSink, time_machine: list[timedelta]
) -> None:
    async with instances(settings, 1) as (api,):
        ada, bob = await api.register("Ada"), await api.register("Bob")
        morning = (datetime.now(UTC).astimezone(ZONE) + timedelta(hours=2)).hour
        status, _ = await api.call(
            "PATCH", "/api/v1/preferences", bob, json={"time_zone": "Asia/Tokyo", "digest_hour": morning}
        )
        assert status == 200
        board = await api.board(ada, "Launch")
        await api.add_member(ada, board["id"], bob, "editor")
        await api.task(ada, board["id"], "Ship it")
        unsubscribe = api.client.app.extensions["taskwire"].mail_worker.links.unsubscribe(bob.id, "digest")
        done = await api.client.post(
            unsubscribe.removeprefix(PUBLIC_URL),
            data="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert done.status_code == 200
        travel(time_machine, timedelta(hours=2))
        await _settle()
        await _settle()
        assert [r for r in sink.to(bob.email) if r.message["X-Taskwire-Kind"] == "digest"] == []


async def test_due_soon_and_overdue_turned_off_send_no_email_and_no_notice(
    settings: Settings, sink: SmtpSink, time_machine: list[timedelta]
) -> None:
    due = datetime.now(UTC) + timedelta(hours=5)
    async with instances(settings, 1) as (api,):
        ada, bob, cy = await api.register("Ada"), await api.register("Bob"), await api.register("Cy")
        status, _ = await api.call(
            "PATCH", "/api/v1/preferences", bob, json={"channels": {"due_soon": [], "overdue": []}}
        )
        assert status == 200
        board = await api.board(ada, "Launch")
        for member in (bob, cy):
            await api.add_member(ada, board["id"], member, "editor")
        # Cy keeps the defaults: his reminders show the scheduler ran for this task.
        await api.task(ada, board["id"], "Ship it", assignees=[bob.id, cy.id], due_at=iso(due))
        await sink.wait_for(lambda: len(reminders(sink, cy)) == 1)
        travel(time_machine, timedelta(hours=6))
        await sink.wait_for(lambda: len(reminders(sink, cy)) == 2)
        await _settle()
        assert await _bell(api, cy) == ["task.overdue", "task.due_soon"]
        assert reminders(sink, bob) == [] and await _bell(api, bob) == []
        assert [m for m in await store_of(api).list_mail(bob.id, 50) if m.kind in ("due_soon", "overdue")] == []
