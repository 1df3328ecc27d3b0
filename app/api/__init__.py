"""HTTP and WebSocket routes. Handlers validate input, read the caller, call one service."""

from __future__ import annotations

from quart import Quart


def register_blueprints(app: Quart) -> None:
    from app.api import auth, boards, health, pages, tasks

    for module in (health, auth, boards, tasks, pages):
        app.register_blueprint(module.blueprint)
