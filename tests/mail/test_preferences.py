"""Preferences honoured for each kind and channel: the bell, an email at once, the daily
digest, or nothing; quiet hours in the user's time zone hold emails back until they end;
without SMTP nothing is queued and the preferences say so."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from app.domain.mail import MailStatus
from app.factory import create_app
from tests.mail.conftest import assign, mail_settings, store_of
from tests.support.apiclient import Account, Api
from tests.support.smtp import SmtpSink


async def _prefer(api: Api, account: Account, **changes: object) -> dict:
    status, body = await api.call("PATCH", "/api/v1/preferences", account, json=changes)
    assert status == 200, body
    return body


async def _bell(api: Api, account: Account) -> list[str]:
    status, body = await api.call("GET", "/api/v1/notifications", account)
    assert status == 200
    return [n["type"] for n in body["items"]]


async def _queued(api: Api, account: Account) -> dict[str, list[MailStatus]]:
    by_kind: dict[str, list[MailStatus]] = {}
    for message in await store_of(api).list_mail(account.id, 50):
        by_kind.setdefault(message.kind, []).append(message.status)
    return by_kind


async def test_the_defaults(api: Api) -> None:
    ada = await api.register("Ada")
    status, body = await api.call("GET", "/api/v1/preferences", ada)
    assert status == 200
    assert body == {
        "channels": {
            "assigned": ["app", "email"],
            "mentioned": ["app", "email"],
            "due_soon": ["app", "email"],
            "overdue": ["app", "email"],
            "watched": ["app", "digest"],
            "changed": ["app", "digest"],
            "added_to_board": ["app", "digest"],
        },
        "time_zone": "UTC",
        "quiet_start": None,
        "quiet_end": None,
        "reminder_lead_minutes": 1440,
        "digest_hour": 8,
        "email_enabled": True,
    }


async def test_each_kind_goes_where_its_owner_chose(api: Api, sink: SmtpSink) -> None:
    ada, bob = await api.register("Ada"), await api.register("Bob")
    await _prefer(
        api, bob, channels={"assigned": [], "mentioned": ["email"], "added_to_board": ["app", "email", "digest"]}
    )
    task = await assign(api, ada, bob)  # added to a board (all three), assigned (nowhere)
    status, _ = await api.call("POST", f"/api/v1/tasks/{task['id']}/comments", ada, json={"body": "@Bob look"})
    assert status == 201
    await sink.wait_for(lambda: len(sink.to(bob.email)) == 2)
    await asyncio.sleep(0.2)

    subjects = sorted(str(r.message["Subject"]) for r in sink.to(bob.email))
    assert subjects == ["Ada added you to the board Launch", "Ada mentioned you on “Ship the release”"]
    assert await _bell(api, bob) == ["member.added"]  # neither the mention nor the assignment
    queued = await _queued(api, bob)
    assert sorted(queued) == ["added_to_board", "mentioned"]  # nothing for the assignment
    assert sorted(queued["added_to_board"]) == sorted([MailStatus.SENT, MailStatus.HELD])  # email + digest line
    assert queued["mentioned"] == [MailStatus.SENT]


async def test_quiet_hours_hold_emails_until_they_end_in_the_users_zone(api: Api, sink: SmtpSink) -> None:
    ada, bob = await api.register("Ada"), await api.register("Bob")
    tokyo = datetime.now(UTC).astimezone(ZoneInfo("Asia/Tokyo"))
    start, end = tokyo - timedelta(hours=1), tokyo + timedelta(hours=2)
    await _prefer(api, bob, time_zone="Asia/Tokyo", quiet_start=f"{start:%H:%M}", quiet_end=f"{end:%H:%M}")
    await assign(api, ada, bob)
    await asyncio.sleep(0.4)
    assert sink.to(bob.email) == []
    [held] = [m for m in await store_of(api).list_mail(bob.id, 10) if m.kind == "assigned"]
    assert held.status is MailStatus.PENDING
    expected = end.replace(second=0, microsecond=0).astimezone(UTC)
    assert held.next_attempt_at == expected.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert sorted(await _bell(api, bob)) == ["member.added", "task.assigned"]  # the bell has no quiet hours


async def test_bad_preferences_are_refused_and_change_nothing(api: Api) -> None:
    ada = await api.register("Ada")
    for body, code in (
        ({"time_zone": "Mars/Olympus"}, "validation_error"),
        ({"channels": {"assigned": ["pigeon"]}}, "validation_error"),
        ({"channels": {"everything": ["app"]}}, "validation_error"),
        ({"quiet_start": "25:00", "quiet_end": "07:00"}, "validation_error"),
        ({"quiet_start": "22:00"}, "invalid_quiet_hours"),
        ({"digest_hour": 24}, "validation_error"),
    ):
        status, answer = await api.call("PATCH", "/api/v1/preferences", ada, json=body)
        assert status == 422 and answer["error"]["code"] == code, (body, answer)
    # null leaves a field as it is, but for the quiet hours, where it means none.
    status, kept = await api.call("PATCH", "/api/v1/preferences", ada, json={"time_zone": None, "channels": None})
    assert status == 200 and kept["time_zone"] == "UTC"
    status, now = await api.call("GET", "/api/v1/preferences", ada)
    assert now["time_zone"] == "UTC" and now["quiet_start"] is None and now["channels"]["assigned"] == ["app", "email"]


async def test_without_smtp_nothing_is_queued_and_the_preferences_say_so(database_url: str, tmp_path: Path) -> None:
    application = create_app(mail_settings(database_url, tmp_path, ""))
    async with application.test_app():
        api = Api(application.test_client())
        ada, bob = await api.register("Ada"), await api.register("Bob")
        await assign(api, ada, bob)
        status, body = await api.call("GET", "/api/v1/preferences", bob)
        assert status == 200 and body["email_enabled"] is False
        assert await store_of(api).list_mail(bob.id, 10) == []
        assert sorted(await _bell(api, bob)) == ["member.added", "task.assigned"]


async def test_changes_to_a_watched_task_go_where_their_kind_says(api: Api, sink: SmtpSink) -> None:
    ada, bob = await api.register("Ada"), await api.register("Bob")
    task = await assign(api, ada, bob)
    await _prefer(api, bob, channels={"changed": []})  # off; comments still reach him
    path = f"/api/v1/tasks/{task['id']}"
    status, _ = await api.call("PATCH", path, ada, json={"title": "Ship 2.0", "version": task["version"]})
    assert status == 200
    status, _ = await api.call("POST", f"{path}/comments", ada, json={"body": "Renamed"})
    assert status == 201
    assert "task.changed" not in await _bell(api, bob) and "comment.watched" in await _bell(api, bob)

    await _prefer(api, bob, channels={"changed": ["email"]})
    status, current = await api.call("GET", path, ada)
    status, _ = await api.call("PATCH", path, ada, json={"priority": "urgent", "version": current["version"]})
    assert status == 200
    await sink.wait_for(lambda: any("priority" in str(r.message["Subject"]) for r in sink.to(bob.email)))
    [email] = [r for r in sink.to(bob.email) if r.message["X-Taskwire-Kind"] == "changed"]
    assert email.message["Subject"] == "Ada changed the priority of “Ship 2.0”"
    assert f"/boards/{task['board_id']}?task={task['id']}" in email.part("plain")
    assert "task.changed" not in await _bell(api, bob)


async def test_preferences_saved_before_a_kind_existed_get_its_default(api: Api) -> None:
    ada = await api.register("Ada")
    await _prefer(api, ada, channels={"watched": ["email"]})
    store = store_of(api)
    saved = (await store.get_preferences([ada.id]))[ada.id]
    del saved.channels["changed"]  # as saved by a server that did not know the kind
    await store.save_preferences(saved)
    status, body = await api.call("GET", "/api/v1/preferences", ada)
    assert body["channels"]["changed"] == ["app", "digest"] and body["channels"]["watched"] == ["email"]
