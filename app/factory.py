"""The app factory: ``create_app()`` builds one Taskwire instance from settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from quart import Quart
from quart_schema import Info, QuartSchema
from starlette_compress import CompressMiddleware

from app.api import (
    account,
    account_emails,
    admin,
    analytics,
    attachments,
    auth,
    board_trash,
    boards,
    checklists,
    columns,
    comments,
    event_stream,
    health,
    imports,
    installable,
    invitations,
    notifications,
    oidc,
    pages,
    preferences,
    recurrence,
    tasks,
    tokens,
    trash,
    two_factor,
    unsubscribe,
    watching,
    webhooks,
    websocket,
)
from app.api.assets import install_asset_urls
from app.api.errors import register_error_handlers
from app.api.http_policy import install_http_policy
from app.api.mcp import http as mcp_http
from app.api.openapi import RESOURCE_TAGS, TaskwireOpenAPI
from app.api.responses import install_json_encoder
from app.api.uploads import UploadRequest, close_after_an_abandoned_upload, finish_request_body
from app.jsonutil import loads
from app.private_files import restrict_tree
from app.realtime.hypercorn_compat import patch_hypercorn_websockets
from app.realtime.receive_buffer import BoundedWebsocket
from app.runtime import build_runtime
from app.settings import Settings, ensure_secret_key, load_settings

REPO_ROOT = Path(__file__).resolve().parent.parent
API_VERSION = "1.0.0"


def _load_request_json(text: str | bytes, **kwargs: Any) -> Any:
    return loads(text)


def create_app(settings: Settings | None = None) -> Quart:
    settings = ensure_secret_key(settings or load_settings())
    restrict_tree(settings.data_dir)
    app = Quart(
        __name__,
        static_folder=str(REPO_ROOT / "static"),
        template_folder=str(REPO_ROOT / "templates"),
    )
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    QuartSchema(
        app,
        info=Info(title="Taskwire", version=API_VERSION, description="Real-time collaborative task manager."),
        openapi_path="/openapi.json",
        # Our own /docs page (app/api/health.py) serves Swagger UI from static/ with no
        # inline script, so it works offline and under our Content-Security-Policy.
        swagger_ui_path=None,
        redoc_ui_path=None,
        scalar_ui_path=None,
        security_schemes={"bearer": {"type": "http", "scheme": "bearer", "bearer_format": "JWT"}},
        security=[{"bearer": []}],
        tags=RESOURCE_TAGS,
        openapi_provider_class=TaskwireOpenAPI,
    )
    install_json_encoder(app)  # after QuartSchema, which installs a JSON provider of its own
    # Request bodies (request.get_json, quart-schema) are parsed by our one decoder, so a body
    # nested too deeply is refused as invalid JSON (400) rather than crashing (500). Set after
    # QuartSchema, which installs a JSON provider of its own.
    app.json.loads = _load_request_json  # type: ignore[method-assign, assignment]
    register_error_handlers(app)
    install_http_policy(app, settings)
    install_asset_urls(app)

    for module in (
        health,
        auth,
        account,
        admin,
        account_emails,
        boards,
        board_trash,
        tasks,
        comments,
        attachments,
        columns,
        checklists,
        recurrence,
        imports,
        trash,
        invitations,
        tokens,
        two_factor,
        webhooks,
        notifications,
        oidc,
        preferences,
        unsubscribe,
        watching,
        event_stream,
        analytics,
        websocket,
        installable,
        mcp_http,
        pages,
    ):
        app.register_blueprint(module.blueprint)
    app.websocket_class = BoundedWebsocket
    app.request_class = UploadRequest
    app.teardown_request(finish_request_body)
    app.after_request(close_after_an_abandoned_upload)
    patch_hypercorn_websockets()

    runtime = build_runtime(settings)
    app.extensions["taskwire"] = runtime

    mcp = app.extensions["taskwire_mcp"] = mcp_http.McpEndpoint(runtime)

    @app.before_serving
    async def open_runtime() -> None:
        await runtime.open()
        await mcp.open()
        await runtime.services.imports.open()  # a server, not `python -m app mcp`, resumes imports

    @app.after_serving
    async def close_runtime() -> None:
        await mcp.close()
        await runtime.close()

    # Compression wraps the whole ASGI app (zstd, brotli or gzip by Accept-Encoding); it
    # passes WebSocket traffic through untouched.
    # Quart types ASGI scopes and events as TypedDicts, Starlette as MutableMappings: the
    # same callable, two spellings neither library's types accept from the other.
    app.asgi_app = CompressMiddleware(app.asgi_app, minimum_size=1024)  # type: ignore[arg-type, method-assign, assignment]
    return app
