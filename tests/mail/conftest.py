"""Email against a real SMTP server: the real app (both stores, see tests/support/
app_fixtures.py) with its real mail worker, timings shrunk, sending to aiosmtpd on a free
loopback port (tests/support/smtp.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.domain.mail import MailStatus, OutboxMessage
from app.settings import Settings, load_settings
from app.store.base import Store
from tests.support.apiclient import Account, Api
from tests.support.app_fixtures import SECRET
from tests.support.smtp import SmtpSink, smtp_sink

PUBLIC_URL = "http://taskwire.test:8080"


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with smtp_sink() as server:
        yield server


def mail_settings(database_url: str, data_dir: Path, smtp_url: str, **extra: object) -> Settings:
    """Settings for an app that mails ``smtp_url``; the scheduler runs once at start-up
    unless ``scheduler_interval_seconds`` says otherwise (reminders and digests are the
    business of tests/mail/test_reminders.py)."""
    extra = {"scheduler_interval_seconds": 3600, **extra}
    return load_settings().model_copy(
        update=dict(
            data_dir=data_dir,
            database_url=database_url,
            redis_url="",
            secret_key=SECRET,
            smtp_url=smtp_url,
            public_url=PUBLIC_URL,
            mail_from="Taskwire <notify@taskwire.test>",
            mail_poll_seconds=0.05,
            mail_retry_base_seconds=0.05,
            mail_retry_cap_seconds=0.1,
            mail_max_attempts=3,
            **extra,
        )
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path, sink: SmtpSink) -> Settings:
    return mail_settings(database_url, tmp_path, sink.url())


def store_of(api: Api) -> Store:
    store: Store = api.client.app.extensions["taskwire"].store
    return store


async def settled(api: Api, user_id: str, kind: str, status: MailStatus, timeout: float = 5.0) -> OutboxMessage:
    """The user's one message of ``kind`` once it has ``status`` (or as it is at the timeout)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        [message] = [m for m in await store_of(api).list_mail(user_id, 50) if m.kind == kind]
        if message.status is status or asyncio.get_running_loop().time() > deadline:
            return message
        await asyncio.sleep(0.02)


async def assign(api: Api, owner: Account, member: Account, title: str = "Ship the release") -> dict:
    """A task on a board of ``owner``'s that ``member`` is assigned to."""
    board = await api.board(owner, "Launch")
    await api.add_member(owner, board["id"], member, "editor")
    task = await api.task(owner, board["id"], title, assignees=[member.id])
    return task
