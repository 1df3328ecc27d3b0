"""Ending a session (logout, a reused refresh token, a revoked API token) also ends its live
connections, on every instance: the service that ends it announces the session id on one
broker channel, and each hub closes its sockets and event streams of that session with
4401. Best effort like event fan-out: an announcement lost to a broker outage leaves those
connections open until they reconnect, when authentication refuses them."""

from __future__ import annotations

import logging

from app.broker.base import BrokerUnavailable, PubSub
from app.realtime.channels import SESSION_ENDED_CHANNEL

log = logging.getLogger(__name__)


async def announce_session_ended(broker: PubSub, session_id: str) -> None:
    try:
        await broker.publish(SESSION_ENDED_CHANNEL, session_id)
    except BrokerUnavailable:
        log.warning("the end of session %s was not announced: broker unavailable", session_id)
