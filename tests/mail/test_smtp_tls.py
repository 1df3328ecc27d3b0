"""STARTTLS and AUTH against a real server whose certificate comes from a CA the test
makes: the message goes encrypted and signed in, and it never goes in clear when the
server's certificate is not trusted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.domain.mail import MailStatus
from app.factory import create_app
from tests.mail.conftest import assign, mail_settings, settled
from tests.support.apiclient import Api
from tests.support.smtp import SmtpSink, smtp_sink

LOGIN = ("taskwire", "s3cret pass")


@pytest.fixture
def tls_sink(tmp_path: Path) -> Iterator[SmtpSink]:
    with smtp_sink(tls_dir=tmp_path, login=LOGIN) as server:
        yield server


async def test_starttls_with_auth_delivers_encrypted(database_url: str, tmp_path: Path, tls_sink: SmtpSink) -> None:
    assert tls_sink.ca_file is not None
    url = tls_sink.url(starttls=True).replace(" ", "%20")
    application = create_app(mail_settings(database_url, tmp_path, url, smtp_ca_file=tls_sink.ca_file))
    async with application.test_app():
        api = Api(application.test_client())
        ada, bob = await api.register("Ada"), await api.register("Bob")
        await assign(api, ada, bob)
        await tls_sink.wait_for(lambda: len(tls_sink.to(bob.email)) == 1)
    [got] = tls_sink.to(bob.email)
    assert got.tls and got.login == "taskwire"
    assert got.message["Subject"] == "Ada assigned you to “Ship the release”"


async def test_an_untrusted_certificate_sends_nothing(database_url: str, tmp_path: Path, tls_sink: SmtpSink) -> None:
    url = tls_sink.url(starttls=True).replace(" ", "%20")
    application = create_app(mail_settings(database_url, tmp_path, url))  # the system CAs only
    async with application.test_app():
        api = Api(application.test_client())
        ada, bob = await api.register("Ada"), await api.register("Bob")
        await assign(api, ada, bob)
        queued = await settled(api, bob.id, "assigned", MailStatus.FAILED)
    assert queued.status is MailStatus.FAILED and queued.attempts == 3
    assert "certificate" in (queued.last_error or "").lower()
    assert tls_sink.received == []
