"""A socket lives no longer than the credential it authenticated with: an access token's
``exp``, an API token's ``expires_at``. When it comes, the socket is closed with 4401.

An access-token socket is told ahead (``auth.expiring``, a minute before, or halfway for
shorter tokens) and may renew in-band: ``auth`` with a fresh access token of the same
session (after ``/auth/refresh``) answers ``auth.renewed`` and moves the end to the new
token's. API tokens are not renewed in-band: their expiry is fixed when they are made.
"""

from __future__ import annotations

import asyncio
import time

from app.api.realtime_errors import failure_message
from app.domain.caller import Caller
from app.domain.errors import DomainError
from app.realtime.connection import CLOSE_UNAUTHORIZED, Connection
from app.realtime.protocol import Auth, auth_expiring_message, auth_renewed_message, error_message
from app.services.auth import AuthService
from app.services.tokens import is_api_token

NOTICE_SECONDS = 60.0


class SocketCredential:
    def __init__(self, conn: Connection, auth: AuthService) -> None:
        self._conn = conn
        self._auth = auth
        self._renewable = False
        self._timers: list[asyncio.TimerHandle] = []

    async def authenticate(self, token: str) -> Caller:
        """The first ``auth``: a DomainError when the token is refused."""
        caller = await self._auth.authenticate(token)
        self._conn.user, self._conn.session_id = caller.user, caller.session_id
        self._renewable = caller.token_id is None
        self._schedule(caller.expires_at)
        return caller

    async def renew(self, message: Auth) -> None:
        """A later ``auth``: the socket's own session only, so a token of any other session
        (or an API token, whose board limits would replace the socket's) is refused."""
        conn = self._conn
        if not self._renewable or is_api_token(message.token):
            conn.push(
                error_message(
                    "invalid_message",
                    "Already authenticated; only a connection made with an "
                    "access token renews it, with an access token.",
                    message.id,
                )
            )
            return
        try:
            caller = await self._auth.authenticate(message.token)
        except DomainError as error:
            conn.push(failure_message(error, message.id))
            return
        if caller.session_id != conn.session_id:
            conn.push(
                error_message("invalid_token", "Renew with an access token of this connection's session.", message.id)
            )
            return
        self._schedule(caller.expires_at)
        conn.push(auth_renewed_message(caller.expires_at, message.id))

    def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    def _schedule(self, expires_at: float | None) -> None:
        self.stop()
        if expires_at is None:
            return
        loop = asyncio.get_running_loop()
        remaining = expires_at - time.time()
        if self._renewable:
            notice = min(NOTICE_SECONDS, remaining / 2)
            self._timers.append(
                loop.call_later(max(remaining - notice, 0.0), self._conn.push, auth_expiring_message(expires_at))
            )
        self._timers.append(loop.call_later(max(remaining, 0.0), self._conn.request_close, CLOSE_UNAUTHORIZED))
