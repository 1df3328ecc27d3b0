"""The store contract suite: every test in tests/store/ runs once per adapter.

``sqlite`` uses a real file in the test's tmp_path; ``mongo`` uses mongoeco's wire server
through the real PyMongo driver; ``mongo-real`` runs only when TASKWIRE_TEST_MONGODB_URL
names a real MongoDB. Each test gets a store of its own (a new file or a new database).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import itertools
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from app.domain.clock import now
from app.domain.ids import new_id
from app.domain.models import (
    DEFAULT_COLUMNS,
    Board,
    EventDraft,
    Member,
    Priority,
    RefreshToken,
    Role,
    Task,
    User,
)
from app.store import create_store
from app.store.base import Store

REAL_MONGODB_ENV = "TASKWIRE_TEST_MONGODB_URL"


def with_database(url: str, database: str) -> str:
    """``url`` pointing at ``database``, keeping where credentials are checked."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if "@" in parts.netloc and not any(key.lower() == "authsource" for key, _ in query):
        query.append(("authSource", parts.path.strip("/") or "admin"))
    return urlunsplit(parts._replace(path=f"/{database}", query=urlencode(query)))


def _mongo_base_url(request: pytest.FixtureRequest, kind: str) -> str:
    if importlib.util.find_spec("app.store.mongo") is None:
        pytest.skip("app/store/mongo.py does not exist yet")
    if kind == "mongo":
        return request.getfixturevalue("mongo_wire").url
    return os.environ[REAL_MONGODB_ENV]


# A real MongoDB is only a parameter when one is named, so that a normal run lists no
# hundred identical skips.
STORE_KINDS = ["sqlite", "mongo"] + (["mongo-real"] if os.environ.get(REAL_MONGODB_ENV) else [])


async def _drop_database(url: str, database: str) -> None:
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[Any] = AsyncMongoClient(url)
    try:
        await client.drop_database(database)
    finally:
        await client.close()


@pytest.fixture(params=STORE_KINDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    kind: str = request.param
    if kind == "sqlite":
        url, database = f"sqlite:///{tmp_path / 'store' / 'taskwire.db'}", None
    else:
        database = f"taskwire_test_{uuid.uuid4().hex[:16]}"
        url = with_database(_mongo_base_url(request, kind), database)
    opened = create_store(url)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()
        if database is not None:
            await _drop_database(url, database)


class Make:
    """Builds valid records and stores them; every field can be overridden."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._numbers = itertools.count(1)

    def draft(self, type: str = "task.created", actor: str = "actor", **data: Any) -> EventDraft:
        return EventDraft(type=type, actor=actor, at=now(), data=dict(data))

    async def user(self, **fields: Any) -> User:
        number = next(self._numbers)
        at = now()
        user = User(
            id=new_id(),
            email=f"user{number}@example.com",
            name=f"User {number}",
            password_hash="argon2-hash",
            created_at=at,
            updated_at=at,
        )
        user = dataclasses.replace(user, **fields)
        await self.store.create_user(user)
        return user

    def token(self, user: User, family_id: str | None = None, **fields: Any) -> RefreshToken:
        token = RefreshToken(
            token_hash=uuid.uuid4().hex,
            user_id=user.id,
            family_id=family_id or new_id(),
            created_at=now(),
            expires_at="2999-01-01T00:00:00.000000Z",
        )
        return dataclasses.replace(token, **fields)

    def board_record(self, owner_id: str = "owner", **fields: Any) -> Board:
        at = now()
        board = Board(
            id=new_id(),
            name="Board",
            description="",
            columns=list(DEFAULT_COLUMNS),
            created_by=owner_id,
            created_at=at,
            updated_at=at,
        )
        return dataclasses.replace(board, **fields)

    async def board(self, owner: User | None = None, **fields: Any) -> Board:
        owner = owner or await self.user()
        at = now()
        board = self.board_record(owner.id, **fields)
        await self.store.create_board(board, Member(board.id, owner.id, Role.OWNER, at))
        return board

    async def member(self, board: Board, role: Role = Role.EDITOR, user: User | None = None) -> Member:
        user = user or await self.user()
        member = Member(board.id, user.id, role, now())
        await self.store.add_member(member, self.draft("member.added", user_id=user.id))
        return member

    def task_record(self, board: Board, **fields: Any) -> Task:
        number = next(self._numbers)
        at = now()
        task = Task(
            id=new_id(),
            board_id=board.id,
            title=f"Task {number}",
            description="",
            status="todo",
            priority=Priority.MEDIUM,
            assignees=[],
            labels=[],
            due_at=None,
            position=f"p{number:06d}",
            created_by="creator",
            created_at=at,
            updated_at=at,
        )
        return dataclasses.replace(task, **fields)

    async def task(self, board: Board, **fields: Any) -> Task:
        task = self.task_record(board, **fields)
        await self.store.create_task(task, self.draft("task.created", id=task.id))
        return task


@pytest.fixture
def make(store: Store) -> Make:
    return Make(store)
