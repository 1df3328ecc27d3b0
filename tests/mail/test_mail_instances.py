"""Two real server processes sharing one store (a SQLite file, or MongoDB) and one
redis-server, both draining the outbox: every email arrives, once, whichever instance
queued it. A kill -9 of an instance holding leases loses no email: the other sends what
it held once the leases run out, and the only repeats are messages the SMTP server had
taken when the sender died, before it could write that down (the window no SMTP sender
can close): each is the same message, with the same Message-ID."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from app.domain import clock
from app.domain.mail import MailStatus, OutboxMessage
from app.store import create_store
from app.store.base import Store
from tests.realtime.follower import Rest
from tests.support.servers import AppServer, app_servers
from tests.support.services import RedisServer
from tests.support.smtp import Received, SmtpSink, smtp_sink

pytestmark = pytest.mark.processes

LEASE_TTL = 3.0
ASSIGNED = "assigned"


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with smtp_sink() as server:
        yield server


@pytest.fixture
def instances(redis: RedisServer, database_url: str, tmp_path: Path, sink: SmtpSink) -> Iterator[list[AppServer]]:
    env = {
        "TASKWIRE_SMTP_URL": sink.url(),
        "TASKWIRE_PUBLIC_URL": "http://taskwire.test",
        "TASKWIRE_MAIL_LEASE_TTL": str(LEASE_TTL),
        "TASKWIRE_MAIL_POLL_INTERVAL": "0.2",
        "TASKWIRE_MAIL_RETRY_BASE": "0.05",
        "TASKWIRE_MAIL_RETRY_CAP": "0.2",
    }
    with app_servers(2, database_url, redis.url, tmp_path, extra_env=env) as servers:
        yield servers


@pytest.fixture
async def store(database_url: str, instances: list[AppServer]) -> AsyncIterator[Store]:
    """The instances' store, read by the test as one more client of it."""
    opened = create_store(database_url)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def _outbox(store: Store, user_id: str) -> list[OutboxMessage]:
    return [message for message in await store.list_mail(user_id, 200) if message.kind == ASSIGNED]


def _pid(owner: str | None) -> int | None:
    """The process of a lease owner (host:pid:random)."""
    return None if owner is None else int(owner.split(":")[1])


async def _assign_many(rests: list[Rest], count: int) -> dict:
    owner = await rests[0].register("owner")
    bob = await rests[0].register("bob")
    board = await rests[0].board(owner["token"])
    await rests[0].add_member(owner["token"], board, bob["email"])
    for n in range(count):
        body = {"title": f"task {n}", "assignees": [bob["id"]]}
        await rests[n % 2].call("POST", f"/api/v1/boards/{board}/tasks", owner["token"], body)
    return bob


def _assigned(sink: SmtpSink, address: str) -> list[Received]:
    return [r for r in sink.to(address) if r.message["X-Taskwire-Kind"] == ASSIGNED]


def _message_ids(sink: SmtpSink, address: str) -> Counter[str]:
    return Counter(r.id_part for r in _assigned(sink, address))


def _same_message(copies: list[Received]) -> bool:
    """All copies are one message: the same headers, but the Date and the MIME boundary of
    each attempt, and the same two parts."""

    def content(copy: Received) -> tuple:
        headers = tuple(
            (name, str(value)) for name, value in copy.message.items() if name not in ("Date", "Content-Type")
        )
        return headers, copy.message.get_content_type(), copy.part("plain"), copy.part("html")

    return len({content(copy) for copy in copies}) == 1


async def test_emails_queued_through_both_instances_arrive_once_each(
    instances: list[AppServer], store: Store, sink: SmtpSink
) -> None:
    rests = [Rest(server.url) for server in instances]
    try:
        bob = await _assign_many(rests, 20)
        await sink.wait_for(lambda: len(_message_ids(sink, bob["email"])) >= 20, timeout=30)
        await asyncio.sleep(0.5)  # a duplicate would have arrived by now
    finally:
        for rest in rests:
            await rest.close()
    outbox = await _outbox(store, bob["id"])
    assert len(outbox) == 20 and {message.status for message in outbox} == {MailStatus.SENT}
    assert _message_ids(sink, bob["email"]) == Counter({message.id: 1 for message in outbox})


async def _stop_a_sender_in_the_window(store: Store, user_id: str, sink: SmtpSink, instances: list[AppServer]) -> int:
    """SIGSTOP the instance holding a message the SMTP server has kept but the instance has
    not yet recorded as sent (the server holds back each 250): the kill -9 that follows then
    lands in the window where the sender cannot know. Returns the stopped instance's pid."""
    for _ in range(500):
        kept = {r.id_part for r in sink.received}
        owners = {
            _pid(message.lease_owner)
            for message in await _outbox(store, user_id)
            if message.status is MailStatus.PENDING and message.id in kept
        }
        for server in instances:
            if server.pid in owners:
                os.kill(server.pid, signal.SIGSTOP)
                return server.pid
        await asyncio.sleep(0.005)
    raise AssertionError("no instance was caught between the server keeping a message and its 250")


async def test_a_kill_9_loses_no_email_and_repeats_only_what_the_server_had_when_it_came(
    instances: list[AppServer], store: Store, sink: SmtpSink
) -> None:
    sink.reply_delay = 0.3  # each message is kept, then waits for its 250: the window is wide
    rests = [Rest(server.url) for server in instances]
    try:
        bob = await _assign_many(rests, 24)
        await sink.wait_for(lambda: len(_assigned(sink, bob["email"])) >= 2, timeout=30)
        for _ in range(5):
            pid = await _stop_a_sender_in_the_window(store, bob["id"], sink, instances)
            # Stopped, it writes nothing more: what it holds now is what it holds when it dies.
            in_flight = {
                message.id: message.lease_until
                for message in await _outbox(store, bob["id"])
                if message.status is MailStatus.PENDING and _pid(message.lease_owner) == pid
            }
            await asyncio.sleep(0.5)  # what it had written to the server before the stop is read
            kept_at_kill = {r.id_part for r in _assigned(sink, bob["email"])} & in_flight.keys()
            if kept_at_kill:
                break
            # Its 250 came and was recorded between our read and the stop: let it go on, try again.
            os.kill(pid, signal.SIGCONT)
        [holder] = [server for server in instances if server.pid == pid]
        killed_at = time.monotonic()
        # Taken over only once a lease runs out: none had yet, so no copy above is the survivor's.
        assert clock.parse_time(clock.now()) < min(clock.parse_time(str(until)) for until in in_flight.values())
        await asyncio.to_thread(holder.kill)
        await sink.wait_for(
            lambda: _message_ids(sink, bob["email"]).total() >= 24 + len(kept_at_kill), timeout=LEASE_TTL + 30
        )
        await asyncio.sleep(0.5)  # a further repeat would have arrived by now
    finally:
        for rest in rests:
            await rest.close()
    outbox = await _outbox(store, bob["id"])
    assert len(outbox) == 24 and {message.status for message in outbox} == {MailStatus.SENT}
    # Nothing lost, and nothing repeated but what the server had taken from the dead
    # instance before it could record it: those come twice, every other message once.
    assert kept_at_kill, "the kill came when the server had nothing the holder had not recorded"
    arrived = _message_ids(sink, bob["email"])
    assert arrived == Counter({message.id: 2 if message.id in kept_at_kill else 1 for message in outbox})
    for message_id in kept_at_kill:
        copies = [r for r in _assigned(sink, bob["email"]) if r.id_part == message_id]
        assert _same_message(copies), f"the repeat of {message_id} is not the same message"
    # The delivery log has one successful attempt per message; a repeated one's is the
    # survivor's: the dead instance never recorded its send.
    for message in outbox:
        successes = [attempt for attempt in await store.list_mail_attempts(message.id) if attempt.ok]
        assert len(successes) == 1
        if message.id in in_flight:
            assert _pid(successes[0].owner) != pid
    # The survivor sent what the dead one had in flight once its leases ran out.
    survivors_copies = {r.id_part: r.at for r in _assigned(sink, bob["email"]) if r.id_part in in_flight}
    assert min(survivors_copies.values()) - killed_at < LEASE_TTL + 3
