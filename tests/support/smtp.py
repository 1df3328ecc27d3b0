"""A real SMTP server for the email tests: aiosmtpd on a free loopback port, in a thread of
its own, keeping every message it accepts. Optionally STARTTLS (required) with a
certificate from a CA the test makes (trustme), and AUTH LOGIN/PLAIN with one account."""

from __future__ import annotations

import asyncio
import dataclasses
import email
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from tests.support.services import free_port


class _Controller(Controller):
    """Remembers its connections, so that stopping can drop those a client left open."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections: list[SMTP] = []

    def factory(self) -> SMTP:
        connection = super().factory()
        self.connections.append(connection)
        return connection

    def stop(self, no_assert: bool = False) -> None:
        # A connection still open when the server closes is only collected later, outside
        # its loop, and Python 3.13.0 then fails in Server._wakeup; dropped here it is not.
        async def drop() -> None:
            for connection in self.connections:
                if connection.transport is not None:
                    connection.transport.abort()

        if self.loop.is_running():
            asyncio.run_coroutine_threadsafe(drop(), self.loop).result(5)
        super().stop(no_assert)


@dataclasses.dataclass
class Received:
    message: EmailMessage
    recipients: list[str]
    tls: bool
    login: str | None
    at: float

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def id_part(self) -> str:
        """The Message-ID's part before the @ (Taskwire's outbox id)."""
        return self.message_id.strip("<>").partition("@")[0]

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return str(body.get_content())  # type: ignore[attr-defined]


class SmtpSink:
    def __init__(self, tls_dir: Path | None = None, login: tuple[str, str] | None = None) -> None:
        self.port = free_port()
        self.received: list[Received] = []
        self.refuse: list[int] = []  # answer the next DATA commands with these codes, one each
        # Seconds each message waits after it is kept, before its 250 is answered: a sender
        # that dies then has handed over a message it never learns was taken.
        self.reply_delay = 0.0
        self._login = login
        self._lock = threading.Lock()
        self.ca_file: Path | None = None
        kwargs: dict[str, Any] = {}
        if tls_dir is not None:
            ca = trustme.CA()
            server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
            self.ca_file = tls_dir / "smtp-ca.pem"
            ca.cert_pem.write_to_path(str(self.ca_file))
            kwargs.update(tls_context=server_context, require_starttls=True)
        if login is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True, auth_require_tls=tls_dir is not None)
        self._controller = _Controller(self, hostname="127.0.0.1", port=self.port, **kwargs)

    def url(self, starttls: bool = False) -> str:
        credentials = f"{self._login[0]}:{self._login[1]}@" if self._login else ""
        return f"smtp://{credentials}127.0.0.1:{self.port}" + ("?starttls=true" if starttls else "")

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self._login is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self._login
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            if self.refuse:
                code = self.refuse.pop(0)
                return f"{code} {'try again later' if code < 500 else 'refused for good'}"
        message = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(message, EmailMessage)
        auth = session.auth_data
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        self.received.append(
            Received(message, list(envelope.rcpt_tos), session.ssl is not None, login, time.monotonic())
        )
        if self.reply_delay:
            await asyncio.sleep(self.reply_delay)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address.lower() in (rcpt.lower() for rcpt in r.recipients)]

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                subjects = [str(r.message["Subject"]) for r in self.received]
                raise AssertionError(f"timed out; received so far: {subjects}")
            await asyncio.sleep(0.02)


@contextmanager
def smtp_sink(tls_dir: Path | None = None, login: tuple[str, str] | None = None) -> Iterator[SmtpSink]:
    sink = SmtpSink(tls_dir, login)
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()
