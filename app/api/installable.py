"""What makes the dashboard an installable, offline-capable app (docs/offline.md): the web
app manifest, and the service worker at ``/sw.js`` (the root, so that its scope is the whole
dashboard).

The worker is versioned by a hash of every file it caches (and ``TASKWIRE_RELEASE``): a
release that changes any of them is a new worker, which installs beside the old one and
takes over on the next load (static/app/offline/updates.js says so). The hash is taken once
per process, like the fingerprints of asset_url(): a release replaces the files and
restarts the process.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

from quart import Blueprint, Response, current_app, render_template
from quart_schema import hide

from app.api.responses import json_response
from app.runtime import current_runtime

blueprint = Blueprint("installable", __name__)

# The worker caches everything under /static/ (the dashboard's modules, the libraries they
# import, styles, icons) but the API docs page and its bundle, which need the network anyway.
NOT_CACHED = ("docs.js", "vendor/swagger-ui/")
SHELL_TEMPLATE = "app.html"
THEME_COLOUR = "#4f46e5"


@functools.cache
def _cached_files(static_root: Path) -> tuple[str, ...]:
    names = (path.relative_to(static_root).as_posix() for path in static_root.rglob("*") if path.is_file())
    return tuple(sorted(name for name in names if not name.startswith(NOT_CACHED)))


@functools.cache
def _content_hash(static_root: Path, template: Path) -> str:
    digest = hashlib.sha256(template.read_bytes())
    for name in _cached_files(static_root):
        digest.update(name.encode() + b"\0" + (static_root / name).read_bytes())
    return digest.hexdigest()[:16]


def _worker_version() -> tuple[str, str]:
    """(the cache's version, the name people are told)."""
    static_root = Path(current_app.static_folder or "static")
    template = Path(current_app.root_path) / (current_app.template_folder or "templates") / SHELL_TEMPLATE
    content = _content_hash(static_root, template)
    release = current_runtime().settings.release
    return (f"{release}-{content}" if release else content), (release or content[:8])


@blueprint.get("/sw.js")
@hide
async def service_worker() -> Response:
    """The service worker: caches the app shell and the static modules of this version."""
    version, label = _worker_version()
    static_root = Path(current_app.static_folder or "static")
    precache = ["/", "/manifest.webmanifest", *(f"/static/{name}" for name in _cached_files(static_root))]
    body = await render_template("sw.js", version=version, label=label, precache=precache)
    response = Response(body, content_type="text/javascript; charset=utf-8")
    # The browser compares the worker byte for byte on every navigation: never from a cache.
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.get("/manifest.webmanifest")
@hide
async def manifest() -> Response:
    """The web app manifest: name, start page, colours and icons for installing."""
    icons: list[dict[str, Any]] = [
        {"src": "/static/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
        {"src": "/static/icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
        {"src": "/static/icons/maskable-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        {"src": "/static/icons/icon.svg", "sizes": "any", "type": "image/svg+xml"},
    ]
    response = json_response(
        {
            "name": "Taskwire",
            "short_name": "Taskwire",
            "description": "Real-time collaborative task boards, also offline.",
            "id": "/",
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "background_color": "#f5f6f8",
            "theme_color": THEME_COLOUR,
            "icons": icons,
        }
    )
    response.content_type = "application/manifest+json"
    response.headers["Cache-Control"] = "no-cache"
    return response
