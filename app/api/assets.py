"""Fingerprinted static URLs: ``asset_url("app.js")`` -> ``/static/app.js?v=<hash>``, so
browsers may cache them for a year and still see a new release at once."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from quart import Quart, url_for


def install_asset_urls(app: Quart) -> None:
    static_root = Path(app.static_folder or "static")

    @functools.cache
    def fingerprint(filename: str) -> str:
        # Read once per process: a release replaces the files and restarts the process.
        return hashlib.sha256((static_root / filename).read_bytes()).hexdigest()[:12]

    def asset_url(filename: str) -> str:
        return url_for("static", filename=filename, v=fingerprint(filename))

    app.jinja_env.globals["asset_url"] = asset_url
