"""HTTP and WebSocket routes. Handlers validate input, read the caller, call one service."""

from __future__ import annotations

from quart import Quart


def register_blueprints(app: Quart) -> None:
    from app.api import auth, boards, comments, health, notifications, pages, tasks, tokens, webhooks
    from app.realtime import sse, ws
    from app.realtime.hypercorn_compat import patch_hypercorn_websockets
    from app.realtime.receive_buffer import BoundedWebsocket

    for module in (health, auth, boards, tasks, comments, tokens, webhooks, notifications, sse, ws, pages):
        app.register_blueprint(module.blueprint)
    app.websocket_class = BoundedWebsocket
    patch_hypercorn_websockets()
