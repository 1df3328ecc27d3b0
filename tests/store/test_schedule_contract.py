"""The scheduler's part of the store, on every adapter: one holder of a named lease at a
time, tasks by due date across boards, and reminders and digests that are recorded once
with what they make, in one write."""

from __future__ import annotations

import asyncio

from app.domain import clock
from app.domain.ids import new_id
from app.domain.mail import MailStatus
from app.domain.models import Notification, NotificationScope, NotificationType
from app.store.base import Store
from tests.store.conftest import Make
from tests.store.test_mail_contract import later, message


async def test_one_holder_of_a_lease_until_it_expires(store: Store) -> None:
    results = await asyncio.gather(*(store.claim_lease("scheduler", f"i{n}", clock.now(), later(60)) for n in range(4)))
    assert sorted(results) == [False, False, False, True]
    holder = f"i{results.index(True)}"
    assert await store.claim_lease("scheduler", holder, clock.now(), later(60))  # renewing
    assert not await store.claim_lease("scheduler", "other", clock.now(), later(60))
    assert await store.claim_lease("other-lease", "other", clock.now(), later(60))  # leases are by name
    assert await store.claim_lease("scheduler", "other", later(61), later(120))  # expired
    await store.release_lease("scheduler", holder)  # not the holder's any more: nothing happens
    assert not await store.claim_lease("scheduler", holder, later(62), later(120))
    await store.release_lease("scheduler", "other")
    assert await store.claim_lease("scheduler", holder, clock.now(), later(60))


async def test_tasks_due_across_boards_in_due_order_paged(store: Store, make: Make) -> None:
    first, second = await make.board(), await make.board()
    dues = ["2030-01-01T10:00:00.000000Z", "2030-01-02T10:00:00.000000Z", "2030-01-03T10:00:00.000000Z"]
    tasks = [await make.task(board, due_at=due) for due in dues for board in (first, second)]
    await make.task(first)  # no due date
    await make.task(first, due_at="2031-01-01T00:00:00.000000Z")  # outside the window
    expected = sorted((t for t in tasks), key=lambda t: (t.due_at, t.id))
    window = ("2029-12-31T00:00:00.000000Z", "2030-12-31T00:00:00.000000Z")
    page = await store.list_tasks_due(*window, None, 4)
    rest = await store.list_tasks_due(*window, (page[-1].due_at, page[-1].id), 4)  # type: ignore[arg-type]
    assert [t.id for t in page + rest] == [t.id for t in expected]
    assert [t.id for t in await store.list_tasks_due(dues[0], dues[1], None, 10)] == [
        t.id for t in expected if t.due_at == dues[1]
    ]


async def test_a_reminder_is_recorded_once_with_its_notification_and_mail(store: Store, make: Make) -> None:
    board, bob = await make.board(), await make.user()
    at = clock.now()
    notice = Notification(
        id=new_id(),
        user_id=bob.id,
        type=NotificationType.TASK_DUE_SOON,
        board_id=board.id,
        board_name=board.name,
        actor="system",
        actor_name="Taskwire",
        at=at,
        seq=0,
        data={"task_title": "Ship it", "due_at": at},
        task_id="t1",
    )
    email = message(bob.id, kind="due_soon")
    assert await store.marked(["k1", "k2"]) == set()
    assert await store.record_reminder("k1", at, [notice], [email])
    assert not await store.record_reminder("k1", at, [notice], [message(bob.id)])
    assert await store.marked(["k1", "k2"]) == {"k1"}
    assert [n.id for n in await store.list_notifications(NotificationScope(bob.id), False, None, 10)] == [notice.id]
    assert [m.id for m in await store.list_mail(bob.id, 10)] == [email.id]


async def test_a_digest_takes_the_held_lines_once(store: Store, make: Make) -> None:
    bob, cy = await make.user(), await make.user()
    lines = [message(bob.id, status=MailStatus.HELD) for _ in range(3)]
    for line in lines:
        await store.enqueue_mail(line)
    await store.enqueue_mail(message(cy.id, status=MailStatus.HELD))
    assert [m.id for m in await store.list_held_mail(bob.id, 10)] == sorted(m.id for m in lines)

    digest = message(bob.id, key="digest:bob:2030-01-01", kind="digest")
    assert await store.queue_digest("digest:bob:2030-01-01", digest, [m.id for m in lines])
    assert not await store.queue_digest("digest:bob:2030-01-01", message(bob.id), [])
    assert await store.list_held_mail(bob.id, 10) == []
    assert len(await store.list_held_mail(cy.id, 10)) == 1
    statuses = {m.id: m.status for m in await store.list_mail(bob.id, 10)}
    assert statuses == {**dict.fromkeys((m.id for m in lines), MailStatus.DIGESTED), digest.id: MailStatus.PENDING}
