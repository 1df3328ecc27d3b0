"""Storage: one narrow interface (base.Store), two adapters chosen by URL scheme."""

from __future__ import annotations

from app.store.base import Store


def create_store(url: str) -> Store:
    """The one place that maps a database URL to an adapter; drivers are imported lazily."""
    if url.startswith("sqlite:///"):
        from app.store.sqlite import SQLiteStore

        return SQLiteStore(url.removeprefix("sqlite:///"))
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from app.store.mongo import MongoStore

        return MongoStore(url)
    raise ValueError(f"unsupported database URL scheme: {url.split(':', 1)[0]!r}")
