"""Two real server processes sharing one SQLite file and one redis-server, both draining
the outbox: every email arrives, once, whichever instance queued it; and after a kill -9
of an instance holding leases, the other sends what it held once the leases run out."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realtime.follower import Rest
from tests.support.servers import AppServer, app_servers
from tests.support.services import RedisServer
from tests.support.smtp import SmtpSink, smtp_sink

pytestmark = pytest.mark.processes

LEASE_TTL = 1.5


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with smtp_sink() as server:
        yield server


@pytest.fixture
def shared_db(tmp_path: Path) -> Path:
    return tmp_path / "shared.db"


@pytest.fixture
def instances(redis: RedisServer, shared_db: Path, sink: SmtpSink) -> Iterator[list[AppServer]]:
    env = {
        "TASKWIRE_SMTP_URL": sink.url(),
        "TASKWIRE_PUBLIC_URL": "http://taskwire.test",
        "TASKWIRE_MAIL_LEASE_TTL": str(LEASE_TTL),
        "TASKWIRE_MAIL_POLL_INTERVAL": "0.2",
        "TASKWIRE_MAIL_RETRY_BASE": "0.05",
        "TASKWIRE_MAIL_RETRY_CAP": "0.2",
    }
    with app_servers(2, f"sqlite:///{shared_db}", redis.url, shared_db.parent, extra_env=env) as servers:
        yield servers


def _outbox(database: Path) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT id, status, lease_owner FROM mail_outbox WHERE kind = 'assigned'").fetchall()
    return [(row[0], row[1], row[2]) for row in rows]


async def _assign_many(rests: list[Rest], count: int) -> dict:
    owner = await rests[0].register("owner")
    bob = await rests[0].register("bob")
    board = await rests[0].board(owner["token"])
    await rests[0].add_member(owner["token"], board, bob["email"])
    for n in range(count):
        body = {"title": f"task {n}", "assignees": [bob["id"]]}
        await rests[n % 2].call("POST", f"/api/v1/boards/{board}/tasks", owner["token"], body)
    return bob


def _message_ids(sink: SmtpSink, address: str) -> Counter[str]:
    return Counter(r.id_part for r in sink.to(address))


async def test_emails_queued_through_both_instances_arrive_once_each(
    instances: list[AppServer], shared_db: Path, sink: SmtpSink
) -> None:
    rests = [Rest(server.url) for server in instances]
    try:
        bob = await _assign_many(rests, 20)
        await sink.wait_for(lambda: len(_message_ids(sink, bob["email"])) >= 20, timeout=30)
        await asyncio.sleep(0.5)  # a duplicate would have arrived by now
    finally:
        for rest in rests:
            await rest.close()
    queued = {row[0] for row in _outbox(shared_db)}
    assert len(queued) == 20 and {row[1] for row in _outbox(shared_db)} == {"sent"}
    assert _message_ids(sink, bob["email"]) == Counter(dict.fromkeys(queued, 1))


async def test_killing_an_instance_that_holds_leases_loses_no_email(
    instances: list[AppServer], shared_db: Path, sink: SmtpSink
) -> None:
    sink.delay = 0.2  # every message takes a while: leases are held when the kill comes
    rests = [Rest(server.url) for server in instances]
    try:
        bob = await _assign_many(rests, 24)
        await sink.wait_for(lambda: len(sink.to(bob["email"])) >= 2, timeout=30)
        holder: AppServer | None = None
        for _ in range(200):
            owners = {int(row[2].split(":")[1]) for row in _outbox(shared_db) if row[2]}
            holder = next((server for server in instances if server.pid in owners), None)
            if holder is not None:
                break
            await asyncio.sleep(0.01)
        assert holder is not None, "no instance holds a lease"
        held = {row[0] for row in _outbox(shared_db) if row[2] and int(row[2].split(":")[1]) == holder.pid}
        killed_at = time.monotonic()
        await asyncio.to_thread(holder.kill)
        await sink.wait_for(lambda: len(_message_ids(sink, bob["email"])) >= 24, timeout=40)
        await asyncio.sleep(0.5)
    finally:
        for rest in rests:
            await rest.close()
    rows = _outbox(shared_db)
    assert {row[1] for row in rows} == {"sent"} and len(rows) == 24
    arrived = _message_ids(sink, bob["email"])
    assert set(arrived) == {row[0] for row in rows}  # every one arrived
    # Exactly once each, except that SMTP cannot tell a sender that died after the server
    # took a message but before it wrote that down: that one (at most one per message
    # the dead instance held) comes again with the same Message-ID, which mail systems
    # use to drop the repeat. The delay sits before DATA, so in practice none repeats.
    repeated = [message_id for message_id, count in arrived.items() if count > 1]
    assert set(repeated) <= held and len(repeated) <= 1
    assert arrived.total() - len(arrived) == len(repeated)
    # The survivor sent what the dead one had in flight once its leases ran out.
    before = {r.id_part for r in sink.to(bob["email"]) if r.at <= killed_at}
    in_flight = held - before
    assert in_flight, "the kill came when the holder had nothing in flight"
    taken_over = [r.at for r in sink.to(bob["email"]) if r.id_part in in_flight]
    assert min(taken_over) - killed_at < LEASE_TTL + 3
