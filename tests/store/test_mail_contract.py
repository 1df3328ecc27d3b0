"""The email outbox in the store, on every adapter: queued in the same write as the event
whose notices ask for email (never without it), keys queued once, leases that two
workers never share while they live, outcomes fenced by the lease, the delivery log, and
preferences kept per user."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from app.domain import clock
from app.domain.ids import new_id
from app.domain.mail import (
    AccountPurpose,
    AccountToken,
    MailAttempt,
    MailStatus,
    OutboxMessage,
    Watch,
    default_preferences,
    next_mail_attempt_id,
)
from app.domain.models import NotificationScope, NotificationType, Task
from app.store.base import NotFound, Store
from tests.store.conftest import Make
from tests.store.test_notifications_contract import notice


def later(seconds: float) -> str:
    return clock.format_time(clock.parse_time(clock.now()) + timedelta(seconds=seconds))


def message(user_id: str, key: str | None = None, at: str | None = None, **fields: object) -> OutboxMessage:
    at = at or clock.now()
    queued = OutboxMessage(new_id(), user_id, "password_reset", {"token": "t"}, key, MailStatus.PENDING, 0, at, at)
    return dataclasses.replace(queued, **fields)  # type: ignore[arg-type]


def attempt(queued: OutboxMessage, owner: str, ok: bool = True) -> MailAttempt:
    return MailAttempt(
        next_mail_attempt_id(), queued.id, queued.attempts + 1, ok, None if ok else "421", owner, clock.now()
    )


async def test_notices_asking_for_email_or_digest_are_queued_with_their_event(store: Store, make: Make) -> None:
    board, ada, bob, cy = await make.board(), await make.user(), await make.user(), await make.user()
    task = make.task_record(board)
    draft = make.draft("task.created")
    quiet_end = later(3600)
    draft.notify = [
        notice(ada, task_id=task.id, channels=("app", "email")),
        notice(bob, task_id=task.id, channels=("digest",)),
        notice(cy, task_id=task.id, channels=("email",), email_at=quiet_end),
    ]
    event = await store.create_task(task, draft)

    assert [n.user_id for n in event.notifications] == [ada.id]  # only ada asked for the bell
    assert await store.count_unread_notifications(NotificationScope(bob.id)) == 0
    [to_ada] = await store.list_mail(ada.id, 10)
    assert (to_ada.kind, to_ada.status, to_ada.attempts) == ("assigned", MailStatus.PENDING, 0)
    assert to_ada.data["task_title"] == "Ship it" and to_ada.data["task_id"] == task.id
    assert to_ada.data["board_id"] == board.id and to_ada.data["seq"] == event.seq
    [to_bob] = await store.list_mail(bob.id, 10)
    assert to_bob.status is MailStatus.HELD  # waits for bob's digest
    [to_cy] = await store.list_mail(cy.id, 10)
    assert to_cy.next_attempt_at == quiet_end


async def test_a_refused_write_queues_no_email(store: Store, make: Make) -> None:
    board, ada = await make.board(), await make.user()
    draft = make.draft("task.created")
    draft.notify = [notice(ada, channels=("email",))]
    gone = Task(**{**dataclasses.asdict(make.task_record(board)), "board_id": "no-such-board"})
    try:
        await store.create_task(gone, draft)
    except NotFound:
        pass
    assert await store.list_mail(ada.id, 10) == []


async def test_a_key_is_queued_once(store: Store, make: Make) -> None:
    ada = await make.user()
    assert await store.enqueue_mail(message(ada.id, key="reminder:t1:2026-12-01"))
    assert not await store.enqueue_mail(message(ada.id, key="reminder:t1:2026-12-01"))
    assert await store.enqueue_mail(message(ada.id))  # no key: never a duplicate
    assert await store.enqueue_mail(message(ada.id))
    assert len(await store.list_mail(ada.id, 10)) == 3


async def test_claims_take_due_messages_once_while_the_lease_lives(store: Store, make: Make) -> None:
    ada = await make.user()
    due = [message(ada.id) for _ in range(5)]
    for queued in due:
        await store.enqueue_mail(queued)
    await store.enqueue_mail(message(ada.id, next_attempt_at=later(600)))  # not due yet
    await store.enqueue_mail(message(ada.id, status=MailStatus.HELD))  # a digest line

    first, second = await asyncio.gather(
        store.claim_mail("a", clock.now(), later(60), 3), store.claim_mail("b", clock.now(), later(60), 3)
    )
    taken = [m.id for m in first] + [m.id for m in second]
    assert sorted(taken) == sorted(m.id for m in due)  # each once, none that is not due
    assert {m.lease_owner for m in first} <= {"a"} and {m.lease_owner for m in second} <= {"b"}
    assert await store.claim_mail("c", clock.now(), later(60), 10) == []


async def test_an_expired_lease_is_claimed_again(store: Store, make: Make) -> None:
    ada = await make.user()
    queued = message(ada.id)
    await store.enqueue_mail(queued)
    [held] = await store.claim_mail("crashed", clock.now(), later(0.05), 10)
    await asyncio.sleep(0.1)
    [retaken] = await store.claim_mail("survivor", clock.now(), later(60), 10)
    assert retaken.id == held.id and retaken.lease_owner == "survivor" and retaken.attempts == 0
    # The crashed owner's late outcome is logged but changes nothing.
    assert not await store.finish_mail("crashed", attempt(held, "crashed"), MailStatus.SENT, clock.now(), None)
    assert (await store.get_mail(queued.id)).status is MailStatus.PENDING  # type: ignore[union-attr]


async def test_the_outcome_is_written_by_the_lease_holder_and_logged(store: Store, make: Make) -> None:
    ada = await make.user()
    queued = message(ada.id)
    await store.enqueue_mail(queued)
    [held] = await store.claim_mail("w", clock.now(), later(60), 1)
    retry_at = later(30)
    assert await store.finish_mail("w", attempt(held, "w", ok=False), MailStatus.PENDING, retry_at, "421 busy")
    stored = await store.get_mail(queued.id)
    assert stored is not None
    assert (stored.status, stored.attempts, stored.next_attempt_at, stored.last_error) == (
        MailStatus.PENDING,
        1,
        retry_at,
        "421 busy",
    )
    assert stored.lease_owner is None and stored.sent_at is None
    assert await store.claim_mail("w", clock.now(), later(60), 1) == []  # backing off

    [held] = await store.claim_mail("w", retry_at, later(60), 1)
    sent = attempt(held, "w")
    assert await store.finish_mail("w", sent, MailStatus.SENT, sent.at, None)
    stored = await store.get_mail(queued.id)
    assert stored is not None
    assert (stored.status, stored.attempts, stored.sent_at, stored.last_error) == (MailStatus.SENT, 2, sent.at, None)
    log = await store.list_mail_attempts(queued.id)
    assert [(a.attempt, a.ok, a.error) for a in log] == [(1, False, "421"), (2, True, None)]
    assert await store.claim_mail("w", later(3600), later(7200), 1) == []


async def test_preferences_are_kept_per_user(store: Store, make: Make) -> None:
    ada, bob = await make.user(), await make.user()
    assert await store.get_preferences([ada.id, bob.id]) == {}
    mine = dataclasses.replace(
        default_preferences(ada.id),
        channels={"assigned": ["email"], "mentioned": []},
        time_zone="Europe/Paris",
        quiet_start="22:00",
        quiet_end="07:30",
        reminder_lead_minutes=90,
        digest_hour=7,
        updated_at=clock.now(),
    )
    await store.save_preferences(mine)
    assert await store.get_preferences([ada.id, bob.id, ada.id]) == {ada.id: mine}
    changed = dataclasses.replace(mine, channels={"assigned": []}, quiet_start=None, quiet_end=None)
    await store.save_preferences(changed)
    assert await store.get_preferences([ada.id]) == {ada.id: changed}


async def test_a_board_invitation_notice_is_held_for_the_digest(store: Store, make: Make) -> None:
    board, ada = await make.board(), await make.user()
    draft = make.draft("member.added")
    draft.notify = [notice(ada, type=NotificationType.MEMBER_ADDED, channels=("app", "digest"))]
    await store.create_task(make.task_record(board), draft)
    [line] = await store.list_mail(ada.id, 10)
    assert (line.kind, line.status) == ("added_to_board", MailStatus.HELD)


async def test_watches_are_kept_per_user_task_and_board(store: Store, make: Make) -> None:
    board, other, ada, bob = await make.board(), await make.board(), await make.user(), await make.user()
    at = clock.now()
    await store.save_watch(Watch(ada.id, board.id, "", True, at))
    await store.save_watch(Watch(bob.id, board.id, "t1", False, at))
    await store.save_watch(Watch(ada.id, board.id, "t2", True, at))
    await store.save_watch(Watch(ada.id, other.id, "", True, at))
    key = lambda w: (w.user_id, w.task_id)  # noqa: E731
    assert sorted(await store.list_watches(board.id, "t1"), key=key) == sorted(
        [Watch(ada.id, board.id, "", True, at), Watch(bob.id, board.id, "t1", False, at)], key=key
    )
    assert await store.list_watches(board.id, None) == [Watch(ada.id, board.id, "", True, at)]
    await store.save_watch(Watch(bob.id, board.id, "t1", True, at))  # changing one's mind replaces
    assert [w.watching for w in await store.list_watches(board.id, "t1") if w.user_id == bob.id] == [True]
    assert await store.delete_board(board.id)
    assert await store.list_watches(board.id, "t1") == []


async def test_an_account_token_is_spent_once_before_it_expires(store: Store, make: Make) -> None:
    bob = await make.user()
    at = clock.now()
    token = AccountToken(new_id(), bob.id, AccountPurpose.PASSWORD_RESET, bob.email, at, later(60))
    email = message(bob.id, kind="password_reset")
    await store.create_account_token(token, email)
    assert [m.id for m in await store.list_mail(bob.id, 10)] == [email.id]  # queued with it
    assert await store.spend_account_token(token.id, AccountPurpose.VERIFY_EMAIL, clock.now()) is None
    assert await store.spend_account_token(token.id, AccountPurpose.PASSWORD_RESET, later(61)) is None  # expired
    spent, again = await asyncio.gather(
        store.spend_account_token(token.id, AccountPurpose.PASSWORD_RESET, clock.now()),
        store.spend_account_token(token.id, AccountPurpose.PASSWORD_RESET, clock.now()),
    )
    assert [spent, again].count(None) == 1 and (spent or again) == token
    assert await store.verified_email(bob.id) is None
    await store.mark_email_verified(bob.id, bob.email, at)
    assert await store.verified_email(bob.id) == bob.email


async def test_the_pending_token_is_the_newest_unspent_one_of_its_purpose(store: Store, make: Make) -> None:
    bob, other = await make.user(), await make.user()
    purpose = AccountPurpose.CHANGE_EMAIL
    assert await store.pending_account_token(bob.id, purpose, clock.now()) is None
    older = AccountToken(new_id(), bob.id, purpose, "old@example.test", later(-10), later(60))
    newer = AccountToken(new_id(), bob.id, purpose, "new@example.test", later(-5), later(60))
    reset = AccountToken(new_id(), bob.id, AccountPurpose.PASSWORD_RESET, bob.email, later(-1), later(60))
    theirs = AccountToken(new_id(), other.id, purpose, "theirs@example.test", later(-1), later(60))
    for token in (newer, older, reset, theirs):
        await store.create_account_token(token, message(token.user_id))
    assert await store.pending_account_token(bob.id, purpose, clock.now()) == newer
    assert await store.spend_account_token(newer.id, purpose, clock.now()) is not None
    assert await store.pending_account_token(bob.id, purpose, clock.now()) == older
    assert await store.pending_account_token(bob.id, purpose, later(61)) is None  # expired
