"""Stream tickets: how a browser's ``EventSource``, which cannot send an Authorization
header, opens a board's event stream (docs/realtime.md, "Stream tickets").

An authenticated POST trades the caller's credential for a random ticket that the stream
URL carries. The ticket is good for one board, once, for ``TICKET_TTL_SECONDS``. What the
broker holds is keyed by the ticket's SHA-256, so the ticket itself is stored nowhere; the
credential behind it is checked again when the ticket is spent (a session revoked in
between opens no stream). URLs end up in access logs: ours logs the path only, and the
shipped nginx configuration redacts ``ticket=`` (deploy/nginx.conf).
"""

from __future__ import annotations

import hashlib
import secrets

from app.broker.base import SharedValues
from app.domain.caller import Caller
from app.domain.errors import UnauthenticatedError
from app.jsonutil import dumps, loads
from app.services.auth import AuthService
from app.services.wiring import service

TICKET_TTL_SECONDS = 30.0
# token_urlsafe(32) is 43 characters; anything else is refused before the broker is asked.
TICKET_LENGTH = 43


def _key(ticket: str) -> str:
    return "stream-ticket:" + hashlib.sha256(ticket.encode()).hexdigest()


def _refused() -> UnauthenticatedError:
    return UnauthenticatedError("invalid_ticket", "The stream ticket is unknown, used or expired; ask for a new one.")


@service
class StreamTicketService:
    _broker: SharedValues
    _auth: AuthService

    async def issue(self, credential: str, board_id: str) -> str:
        """A ticket for ``board_id`` standing for ``credential`` (the caller's bearer token,
        already authenticated and allowed to read the board)."""
        ticket = secrets.token_urlsafe(32)
        await self._broker.set_value(
            _key(ticket), dumps({"credential": credential, "board": board_id}), TICKET_TTL_SECONDS
        )
        return ticket

    async def redeem(self, ticket: str, board_id: str) -> Caller:
        """The caller behind ``ticket``, spending it. Two concurrent redeems of one ticket
        (on any instances) cannot both win: the first to claim it does."""
        if len(ticket) != TICKET_LENGTH or not ticket.isascii():
            raise _refused()
        key = _key(ticket)
        if not await self._broker.set_value_if_absent(key + ":spent", "1", TICKET_TTL_SECONDS):
            raise _refused()
        stored = await self._broker.get_value(key)
        await self._broker.delete_value(key)
        if stored is None:
            raise _refused()
        grant = loads(stored)
        if grant["board"] != board_id:
            raise _refused()
        credential: str = grant["credential"]
        return await self._auth.authenticate(credential)
