"""``create-indexes``: open the store, which creates its schema and every index, then list
what the database really holds, so an operator can check a deployment before traffic.

Listing reads the database's own catalogue (``sqlite_master``, ``listIndexes``), not our
declarations: a missing index is reported, never assumed present.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from app.ops.common import OpsError, opened_store, progress, store_kind
from app.settings import Settings

COMMAND = "create-indexes"


async def create_indexes(settings: Settings) -> None:
    kind = store_kind(settings)
    progress(COMMAND, f"opening the {kind} store (creates the schema and every index)")
    async with opened_store(settings):
        pass
    if settings.sqlite_path is not None:
        _list_sqlite(settings.sqlite_path)
    else:
        await _list_mongo(settings.effective_database_url)


def _list_sqlite(path: Path) -> None:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        rows = conn.execute(
            "SELECT tbl_name, name, type FROM sqlite_master WHERE (type = 'index' AND name NOT LIKE 'sqlite_%')"
            " OR (type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%') ORDER BY tbl_name, name"
        ).fetchall()
    finally:
        conn.close()
    progress(COMMAND, f"{path}: schema version {version}")
    by_table: dict[str, list[str]] = {}
    for table, name, kind in rows:
        by_table.setdefault(table, []).append(name if kind == "index" else f"{name} (full-text)")
    for table, names in by_table.items():
        progress(COMMAND, f"{table}: {', '.join(names)}")


async def _list_mongo(url: str) -> None:
    from pymongo import AsyncMongoClient

    from app.store.mongo import DEFAULT_DATABASE, SERVER_SELECTION_TIMEOUT_MS
    from app.store.mongo_schema import INDEXES

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        url, serverSelectionTimeoutMS=SERVER_SELECTION_TIMEOUT_MS
    )
    try:
        db = client.get_default_database(default=DEFAULT_DATABASE)
        found: dict[str, list[str]] = {}
        for collection in sorted(await db.list_collection_names()):
            if collection.startswith("_"):
                continue  # the store's transaction probe holds nothing worth listing
            cursor = await db[collection].list_indexes()
            found[collection] = [index["name"] async for index in cursor]
    finally:
        await client.close()
    progress(COMMAND, f"database {db.name}")
    for collection, names in found.items():
        progress(COMMAND, f"{collection}: {', '.join(names)}")
    missing = [f"{spec.collection}.{spec.name}" for spec in INDEXES if spec.name not in found.get(spec.collection, [])]
    if missing:
        raise OpsError(f"indexes missing after open: {', '.join(missing)}")
    progress(COMMAND, f"all {len(INDEXES)} indexes the store declares exist")
