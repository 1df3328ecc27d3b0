"""Sending one message over SMTP with aiosmtplib, configured by ``TASKWIRE_SMTP_URL``.

``smtp://user:pass@host:587?starttls=true`` upgrades the connection with STARTTLS (and
fails rather than send in clear when the server does not offer it); ``smtps://`` speaks
TLS from the start (port 465). The server's certificate is always checked, against
``TASKWIRE_SMTP_CA_FILE`` when set, else the system's CAs.
"""

from __future__ import annotations

import dataclasses
import ssl
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

TRUE_WORDS = ("1", "true", "yes", "on")


@dataclasses.dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    starttls: bool
    implicit_tls: bool


def parse_smtp_url(url: str) -> SmtpConfig:
    parts = urlsplit(url)
    implicit_tls = parts.scheme == "smtps"
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["false"])[-1].lower() in TRUE_WORDS
    return SmtpConfig(
        host=parts.hostname or "localhost",
        port=parts.port or (465 if implicit_tls else 587 if starttls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        starttls=starttls and not implicit_tls,
        implicit_tls=implicit_tls,
    )


class SendFailed(Exception):
    """The server did not take the message; ``permanent`` when trying again cannot help (5xx)."""

    def __init__(self, reason: str, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


class SmtpSender:
    def __init__(self, url: str, ca_file: Path | None, timeout: float) -> None:
        self._config = parse_smtp_url(url)
        self._timeout = timeout
        self._tls = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)

    async def send(self, message: EmailMessage) -> None:
        config = self._config
        try:
            await aiosmtplib.send(
                message,
                hostname=config.host,
                port=config.port,
                username=config.username,
                password=config.password,
                use_tls=config.implicit_tls,
                start_tls=config.starttls,
                tls_context=self._tls,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [response.code for response in error.recipients]
            raise SendFailed(f"recipient refused: {error.recipients[0]}", all(c >= 500 for c in codes)) from None
        except aiosmtplib.SMTPResponseException as error:
            raise SendFailed(f"SMTP {error.code}: {error.message}", 500 <= error.code < 600) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise SendFailed(f"{type(error).__name__}: {error}", False) from None
