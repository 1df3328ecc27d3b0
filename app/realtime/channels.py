"""Broker channel names: what every instance's hub (``app.realtime.hub``) subscribes to,
and so where the publishers (``app.events``) must send. The hub owns the names; the
publishing side, a layer above, imports them."""

from __future__ import annotations

BOARD_CHANNEL_PREFIX = "board:"
USER_CHANNEL_PREFIX = "user:"
# A task description's shared document: its updates and who is editing it (app/services/documents.py).
DOCUMENT_CHANNEL_PREFIX = "doc:"
# Session ids whose live connections every hub closes (app/events/sessions.py).
SESSION_ENDED_CHANNEL = "session-ended"


def board_channel(board_id: str) -> str:
    return BOARD_CHANNEL_PREFIX + board_id


def user_channel(user_id: str) -> str:
    return USER_CHANNEL_PREFIX + user_id


def document_channel(task_id: str) -> str:
    return DOCUMENT_CHANNEL_PREFIX + task_id
