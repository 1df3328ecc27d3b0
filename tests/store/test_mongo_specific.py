"""MongoDB only: indexes, transaction detection and its fallback, several writers on one
board, round trips, and values that look like query operators.

Runs against mongoeco's wire server, and against a real MongoDB too when
TASKWIRE_TEST_MONGODB_URL names one (as the contract suite does).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import sys
import uuid
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

from app.domain.models import (
    NO_DUE_DATE_KEY,
    Priority,
    TaskFilter,
    TaskPageRequest,
    TaskSort,
)
from app.store.base import AlreadyMember, LastOwner, StoreUnavailable, VersionConflict
from app.store.mongo import MongoStore
from app.store.mongo_schema import INDEXES
from tests.store.conftest import REAL_MONGODB_ENV, Make, with_database
from tests.support.services import REPO_ROOT, free_port, mongo_wire_server


@pytest.fixture(params=["mongo"] + (["mongo-real"] if os.environ.get(REAL_MONGODB_ENV) else []))
def server_url(request: pytest.FixtureRequest) -> str:
    if request.param == "mongo":
        return str(request.getfixturevalue("mongo_wire").url)
    return os.environ[REAL_MONGODB_ENV]


@pytest.fixture
async def database_url(server_url: str) -> AsyncIterator[str]:
    """A URL naming a database of this test's own, dropped afterwards."""
    database = f"taskwire_test_{uuid.uuid4().hex[:16]}"
    url = with_database(server_url, database)
    yield url
    client: AsyncMongoClient[Any] = AsyncMongoClient(url)
    try:
        await client.drop_database(database)
    finally:
        await client.close()


@pytest.fixture
async def raw(database_url: str) -> AsyncIterator[AsyncDatabase[Any]]:
    """The test's database through a plain driver client, to look at stored documents."""
    client: AsyncMongoClient[Any] = AsyncMongoClient(database_url)
    try:
        yield client.get_default_database()
    finally:
        await client.close()


@contextlib.asynccontextmanager
async def opened(url: str, transactions: bool | None = None) -> AsyncIterator[MongoStore]:
    store = MongoStore(url, transactions=transactions)
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
async def make(database_url: str) -> AsyncIterator[Make]:
    async with opened(database_url) as store:
        yield Make(store)


# -- schema ---------------------------------------------------------------------------


async def test_open_creates_every_listed_index(make: Make, raw: AsyncDatabase[Any]) -> None:
    for spec in INDEXES:
        created = await raw[spec.collection].index_information()
        assert spec.name in created, spec.name
        index = created[spec.name]
        if "text" not in dict(spec.keys).values():  # text indexes are stored as _fts/_ftsx keys
            assert [(field, int(direction)) for field, direction in index["key"]] == list(spec.keys)
        assert bool(index.get("unique")) == bool(spec.options.get("unique")), spec.name
        assert index.get("expireAfterSeconds") == spec.options.get("expireAfterSeconds"), spec.name


async def test_the_database_is_the_one_named_in_the_url(make: Make, raw: AsyncDatabase[Any]) -> None:
    user = await make.user()

    assert await raw["users"].find_one({"_id": user.id}) is not None


async def test_several_stores_opening_one_new_database_at_once_all_succeed(database_url: str) -> None:
    stores = [MongoStore(database_url) for _ in range(4)]
    try:
        await asyncio.gather(*(store.open() for store in stores))
        made = [await Make(store).user(email=f"opener{n}@example.com") for n, store in enumerate(stores)]
        assert [await stores[0].get_user(user.id) for user in made] == made
    finally:
        for store in stores:
            await store.close()


async def test_an_unreachable_server_raises_store_unavailable() -> None:
    store = MongoStore(f"mongodb://127.0.0.1:{free_port()}/taskwire?serverSelectionTimeoutMS=300")

    with pytest.raises(StoreUnavailable):
        await store.open()
    await store.close()


async def test_calls_raise_store_unavailable_once_the_server_is_gone() -> None:
    with mongo_wire_server() as server:
        url = with_database(server.url, "taskwire") + "&serverSelectionTimeoutMS=300"
        store = MongoStore(url)
        await store.open()
        board = await Make(store).board()
    try:
        with pytest.raises(StoreUnavailable):
            await store.ping()
        with pytest.raises(StoreUnavailable):
            await store.get_board(board.id)
        with pytest.raises(StoreUnavailable):
            await Make(store).task(board)
    finally:
        await store.close()


# -- transactions and the standalone fallback -----------------------------------------


async def test_transactions_are_detected_on_the_wire_server(request: pytest.FixtureRequest, make: Make) -> None:
    if request.node.callspec.params["server_url"] != "mongo":
        pytest.skip("a real deployment may be a standalone mongod: either answer is right there")

    assert isinstance(make.store, MongoStore) and make.store.uses_transactions is True


async def test_without_transactions_concurrent_writes_still_get_seqs_one_to_n(database_url: str) -> None:
    async with opened(database_url, transactions=False) as store:
        make = Make(store)
        board = await make.board()
        tasks = [make.task_record(board) for _ in range(30)]

        await asyncio.gather(*(store.create_task(t, make.draft(id=t.id)) for t in tasks))

        assert [e.seq for e in await store.list_events(board.id, 0, 100)] == list(range(1, 31))
        assert (await store.get_board(board.id)).seq == 30  # type: ignore[union-attr]


async def test_without_transactions_refused_writes_leave_no_event(database_url: str) -> None:
    async with opened(database_url, transactions=False) as store:
        make = Make(store)
        owner = await make.user()
        board = await make.board(owner)
        member = await make.member(board)
        task = await make.task(board)
        await store.update_task(dataclasses.replace(task, version=2), 1, make.draft("task.updated"))

        with pytest.raises(VersionConflict):
            await store.update_task(dataclasses.replace(task, version=2), 1, make.draft("task.updated"))
        with pytest.raises(AlreadyMember):
            await store.add_member(member, make.draft("member.added"))
        with pytest.raises(LastOwner):
            await store.remove_member(board.id, owner.id, make.draft("member.removed"))

        assert [e.seq for e in await store.list_events(board.id, 0, 100)] == [1, 2, 3]


# Run by each child process: open the store, say "ready", wait for "go", create tasks.
_WRITER = """
import asyncio, sys
from app.domain.clock import now
from app.domain.ids import new_id
from app.domain.models import EventDraft, Priority, Task
from app.store.mongo import MongoStore

async def main(url, board_id, count, name):
    store = MongoStore(url)
    await store.open()
    print("ready", flush=True)
    sys.stdin.readline()
    for n in range(count):
        at = now()
        task = Task(new_id(), board_id, f"{name} {n}", "", "todo", Priority.LOW, [], [], None,
                    f"{name}{n:03d}", name, at, at)
        await store.create_task(task, EventDraft("task.created", name, at, {"id": task.id}))
    await store.close()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
"""


async def test_two_processes_writing_one_board_get_seqs_one_to_n(make: Make, database_url: str) -> None:
    board = await make.board()
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _WRITER,
            database_url,
            board.id,
            "30",
            name,
            cwd=REPO_ROOT,
            stdin=PIPE,
            stdout=PIPE,
            stderr=PIPE,
        )
        for name in ("left", "right")
    ]
    for proc in processes:
        assert proc.stdout is not None and proc.stderr is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line.strip() == b"ready", await proc.stderr.read()
    for proc in processes:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        await proc.stdin.drain()
    for proc in processes:
        _, errors = await asyncio.wait_for(proc.communicate(), 120)
        assert proc.returncode == 0, errors.decode()

    events = await make.store.list_events(board.id, 0, 1000)
    assert [e.seq for e in events] == list(range(1, 61))
    assert sorted(e.actor for e in events) == ["left"] * 30 + ["right"] * 30


# -- round trips ----------------------------------------------------------------------


class CommandLog(monitoring.CommandListener):
    """The names of the commands every client sends while ``recording`` is open."""

    def __init__(self) -> None:
        self.names: list[str] | None = None

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.names is not None:
            self.names.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[str]]:
        self.names = []
        try:
            yield self.names
        finally:
            self.names = None


# Registered before any client exists: PyMongo hands global listeners to clients made later.
COMMANDS = CommandLog()
monitoring.register(COMMANDS)


async def test_members_and_a_large_task_page_each_take_a_fixed_number_of_round_trips(make: Make) -> None:
    store = make.store
    board = await make.board()
    for _ in range(6):
        await make.member(board)
    for _ in range(120):
        await make.task(board, title="same words here")

    with COMMANDS.recording() as sent:
        members = await store.list_members(board.id)
    assert (len(members), sent) == (7, ["find", "find"])
    assert all(member.email and member.name for member in members)

    request = TaskPageRequest(board.id, TaskFilter(text="same wor"), TaskSort.POSITION, 110, include_total=True)
    with COMMANDS.recording() as sent:
        page = await store.list_tasks(request)
    assert (len(page.items), page.has_more, page.total, sent) == (110, True, 120, ["find", "count"])


# -- values from outside are values ----------------------------------------------------

OPERATOR = {"$ne": None}
# The store is typed Any: these calls break its signatures on purpose.
Call = Callable[[Any, str, str], Awaitable[Any]]
AT = "2030-01-01T00:00:00.000000Z"


def _tasks(board_id: str, **options: Any) -> TaskPageRequest:
    wanted = {key: value for key, value in options.items() if key != "after"}
    return TaskPageRequest(board_id, TaskFilter(**wanted), TaskSort.POSITION, 10, options.get("after"))


async def _update_with_version(store: Any, task_id: str, version: Any) -> None:
    task = await store.get_task(task_id)
    await store.update_task(dataclasses.replace(task, title="changed", version=2), version, Make(store).draft())


INJECTIONS: dict[str, Call] = {
    "get_user": lambda s, board, task: s.get_user(OPERATOR),
    "get_user_by_email": lambda s, board, task: s.get_user_by_email({"$gt": ""}),
    "get_board": lambda s, board, task: s.get_board(OPERATOR),
    "get_member": lambda s, board, task: s.get_member(board, OPERATOR),
    "get_task": lambda s, board, task: s.get_task(OPERATOR),
    "list_boards_for_user": lambda s, board, task: s.list_boards_for_user(OPERATOR, None, 10),
    "list_events": lambda s, board, task: s.list_events(board, {"$gt": -1}, 10),
    "last_position": lambda s, board, task: s.last_position(board, OPERATOR),
    "get_task_access": lambda s, board, task: s.get_task_access(OPERATOR, "someone", True),
    "get_task_access_user": lambda s, board, task: s.get_task_access(task, OPERATOR, True),
    "get_new_task_place": lambda s, board, task: s.get_new_task_place(OPERATOR, "someone", None),
    "get_new_task_place_status": lambda s, board, task: s.get_new_task_place(board, "someone", OPERATOR),
    "spend_refresh_token": lambda s, board, task: s.spend_refresh_token(OPERATOR, AT),
    "revoke_refresh_family": lambda s, board, task: s.revoke_refresh_family(OPERATOR),
    "revoke_session": lambda s, board, task: s.revoke_session(OPERATOR, AT),
    "session_revoked": lambda s, board, task: s.session_revoked(OPERATOR, AT),
    "list_revoked_sessions": lambda s, board, task: s.list_revoked_sessions({"$gt": ""}),
    "delete_task": lambda s, board, task: s.delete_task(OPERATOR, None, Make(s).draft()),
    "delete_task_version": lambda s, board, task: s.delete_task(task, {"$gt": 0}, Make(s).draft()),
    "remove_member": lambda s, board, task: s.remove_member(board, OPERATOR, Make(s).draft()),
    "delete_board": lambda s, board, task: s.delete_board(OPERATOR),
    "update_task": lambda s, board, task: _update_with_version(s, task, {"$gt": 0}),
    "status": lambda s, board, task: s.list_tasks(_tasks(board, status=OPERATOR)),
    "assignee": lambda s, board, task: s.list_tasks(_tasks(board, assignee=OPERATOR)),
    "label": lambda s, board, task: s.list_tasks(_tasks(board, label=OPERATOR)),
    "text": lambda s, board, task: s.list_tasks(_tasks(board, text=OPERATOR)),
    "after": lambda s, board, task: s.list_tasks(_tasks(board, after=({"$gt": ""}, {"$gt": ""}))),
}


@pytest.mark.parametrize("name", list(INJECTIONS))
async def test_a_dict_where_a_string_belongs_is_refused_and_changes_nothing(make: Make, name: str) -> None:
    store = make.store
    assert isinstance(store, MongoStore)
    owner = await make.user()
    board = await make.board(owner)
    await make.member(board)
    task = await make.task(board)
    token = make.token(owner)
    await store.create_refresh_token(token)

    with pytest.raises(TypeError):
        await INJECTIONS[name](store, board.id, task.id)

    assert await store.get_task(task.id) == task
    assert len(await store.list_members(board.id)) == 2
    assert [e.seq for e in await store.list_events(board.id, 0, 10)] == [1, 2]
    assert await store.spend_refresh_token(token.token_hash, AT) == (token, True)


async def test_a_keyset_of_the_wrong_scalar_type_reads_as_a_page_not_an_error(make: Make) -> None:
    board = await make.board()
    await make.task(board, priority=Priority.LOW)

    for sort, key in ((TaskSort.PRIORITY, "abc"), (TaskSort.POSITION, 5)):
        page = await make.store.list_tasks(TaskPageRequest(board.id, TaskFilter(), sort, 10, (key, "")))
        assert len(page.items) <= 1


async def test_values_that_look_like_operators_are_stored_and_matched_as_plain_text(
    make: Make, raw: AsyncDatabase[Any]
) -> None:
    store = make.store
    user = await make.user(name='{"$gt": ""}', email="$where@example.com")
    board = await make.board(user, name="$set", columns=["$gt", "todo"])
    odd = await make.task(
        board,
        title='{"$ne": null}',
        status="$gt",
        assignees=["$ne"],
        labels=["$in", "$exists"],
        position="$where",
    )
    await make.task(board, status="todo", assignees=["u1"], labels=["bug"])

    assert await store.get_user_by_email("$where@example.com") == user
    assert await store.get_board(board.id) == dataclasses.replace(board, seq=2)
    for wanted in ({"status": "$gt"}, {"assignee": "$ne"}, {"label": "$exists"}, {"text": "$ne null"}):
        assert [t.id for t in (await store.list_tasks(_tasks(board.id, **wanted))).items] == [odd.id], wanted
    assert await store.last_position(board.id, "$gt") == "$where"
    stored = await raw["tasks"].find_one({"_id": odd.id})
    assert stored is not None
    assert (stored["title"], stored["labels"]) == ('{"$ne": null}', ["$in", "$exists"])


async def test_documents_carry_the_sort_keys_and_the_token_purge_date(make: Make, raw: AsyncDatabase[Any]) -> None:
    board = await make.board()
    undated = await make.task(board, priority=Priority.URGENT)
    dated = await make.task(board, priority=Priority.LOW, due_at="2030-05-01T09:00:00.000000Z")
    token = make.token(await make.user())
    await make.store.create_refresh_token(token)

    keys = {doc["_id"]: (doc["priority_rank"], doc["due_key"]) async for doc in raw["tasks"].find()}
    assert keys == {undated.id: (0, NO_DUE_DATE_KEY), dated.id: (3, dated.due_at)}
    stored_token = await raw["refresh_tokens"].find_one({"_id": token.token_hash})
    assert stored_token is not None
    assert isinstance(stored_token["purge_after"], datetime)
    assert stored_token["purge_after"] > datetime(2999, 1, 1)
