"""What a WebSocket or event-stream client is told when something fails, decided here
for both: the realtime edge's counterpart of the HTTP edge's ``app/api/errors.py``.

A failure while handling one message never takes the connection down: it becomes an
``error`` message with the request's id. A domain error keeps its stable code; a store
or broker outage is ``unavailable`` (the REST API's 503); anything else is logged and
told as ``internal_error``.
"""

from __future__ import annotations

import logging

from app.broker.base import BrokerUnavailable
from app.domain.errors import DomainError
from app.realtime.connection import CLOSE_TRY_AGAIN, CLOSE_UNAUTHORIZED
from app.realtime.protocol import error_message, internal_error_message, unavailable_message
from app.store.base import StoreUnavailable

log = logging.getLogger(__name__)

RequestId = str | int | None


def failure_message(error: Exception, request_id: RequestId = None) -> str:
    if isinstance(error, DomainError):
        return error_message(error.code, error.message, request_id)
    if isinstance(error, (StoreUnavailable, BrokerUnavailable)):
        return unavailable_message(request_id)
    log.error("error while serving a realtime client", exc_info=error)
    return internal_error_message(request_id)


def auth_failure_close_code(error: DomainError | StoreUnavailable | BrokerUnavailable) -> int:
    """A socket whose credential was refused closes with 4401 (sign in again); one that
    could not be checked because the store or broker is down, with 1013 (retry)."""
    if isinstance(error, (StoreUnavailable, BrokerUnavailable)):
        return CLOSE_TRY_AGAIN
    return CLOSE_UNAUTHORIZED
