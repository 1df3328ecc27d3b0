"""Notification emails as the recipient's mail server gets them: over the network from the
outbox, with a plain-text and an HTML part, a link to the task, and a signed one-click
unsubscribe link that works; retried when the server is busy, given up when it refuses."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlsplit

from app.domain.mail import MailStatus
from tests.mail.conftest import PUBLIC_URL, assign, settled, store_of
from tests.support.apiclient import Api
from tests.support.smtp import SmtpSink


async def test_an_assignment_is_emailed_with_both_parts_a_link_and_unsubscribe_headers(
    api: Api, sink: SmtpSink
) -> None:
    ada, bob = await api.register("Ada"), await api.register("Bob")
    task = await assign(api, ada, bob, "Ship the <release>")
    await sink.wait_for(lambda: len(sink.to(bob.email)) == 1)

    [got] = sink.to(bob.email)
    message = got.message
    assert message["From"] == "Taskwire <notify@taskwire.test>"
    assert message["To"].addresses[0].addr_spec == bob.email.lower()
    assert message["Subject"] == "Ada assigned you to “Ship the <release>”"
    assert re.fullmatch(r"<[0-9A-Z]{26}@taskwire\.test>", message["Message-ID"])
    assert message["Auto-Submitted"] == "auto-generated"
    link = f"{PUBLIC_URL}/boards/{task['board_id']}?task={task['id']}"
    text, html = got.part("plain"), got.part("html")
    assert "Hello Bob," in text and "On the board Launch." in text and link in text
    assert f'href="{link}"' in html and "Ship the &lt;release&gt;" in html  # escaped in HTML
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith(f"{PUBLIC_URL}/unsubscribe?token=")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in text and unsubscribe.replace("&", "&amp;") in html
    # Ada assigned herself nothing and gets nothing; Bob's bell has it too.
    assert sink.to(ada.email) == []
    status, bell = await api.call("GET", "/api/v1/notifications", bob)
    assert status == 200 and [n["type"] for n in bell["items"]] == ["task.assigned", "member.added"]


async def test_the_one_click_unsubscribe_link_turns_that_email_off(api: Api, sink: SmtpSink) -> None:
    ada, bob = await api.register("Ada"), await api.register("Bob")
    await assign(api, ada, bob)
    await sink.wait_for(lambda: len(sink.to(bob.email)) == 1)
    parts = urlsplit(sink.to(bob.email)[0].message["List-Unsubscribe"].strip("<>"))
    path = f"{parts.path}?{parts.query}"

    page = await api.client.get(path)
    assert page.status_code == 200
    assert "Stop emails when you are assigned to a task?" in await page.get_data(as_text=True)
    # What a mail provider sends (RFC 8058): a POST with this form body, no cookie, no token.
    done = await api.client.post(
        path, data="List-Unsubscribe=One-Click", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert done.status_code == 200
    assert "You will no longer get emails when you are assigned" in await done.get_data(as_text=True)
    status, preferences = await api.call("GET", "/api/v1/preferences", bob)
    assert status == 200 and preferences["channels"]["assigned"] == ["app"]
    assert preferences["channels"]["mentioned"] == ["app", "email"]  # only that kind

    await assign(api, ada, bob, "Another one")
    status, bell = await api.call("GET", "/api/v1/notifications", bob)
    assigned = [n["data"]["task_title"] for n in bell["items"] if n["type"] == "task.assigned"]
    assert sorted(assigned) == ["Another one", "Ship the release"]  # still in the bell
    await asyncio.sleep(0.3)
    assert len(sink.to(bob.email)) == 1  # but no second email

    forged = await api.client.post(path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb"))
    assert forged.status_code == 400


async def test_a_busy_server_is_retried_and_every_attempt_logged(api: Api, sink: SmtpSink) -> None:
    sink.refuse = [451, 421]
    ada, bob = await api.register("Ada"), await api.register("Bob")
    await assign(api, ada, bob)
    await sink.wait_for(lambda: len(sink.to(bob.email)) == 1)
    store = store_of(api)
    queued = await settled(api, bob.id, "assigned", MailStatus.SENT)
    assert queued.status is MailStatus.SENT and queued.attempts == 3
    log = await store.list_mail_attempts(queued.id)
    assert [(a.attempt, a.ok) for a in log] == [(1, False), (2, False), (3, True)]
    assert log[0].error is not None and "451" in log[0].error


async def test_a_refusal_for_good_is_not_retried(api: Api, sink: SmtpSink) -> None:
    sink.refuse = [550]
    ada, bob = await api.register("Ada"), await api.register("Bob")
    await assign(api, ada, bob)
    queued = await settled(api, bob.id, "assigned", MailStatus.FAILED)
    assert queued.status is MailStatus.FAILED and queued.attempts == 1 and "550" in (queued.last_error or "")
    await asyncio.sleep(0.3)
    assert sink.to(bob.email) == []
