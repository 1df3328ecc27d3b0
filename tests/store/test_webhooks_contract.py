"""Webhooks in the store: records round-trip, the lease is exclusive and fences every
lease-holder write, the due scan finds exactly the webhooks with work, disabling appends
the board's next event in the same write, and the delivery log pages newest first."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from app.domain.clock import now
from app.domain.ids import new_id
from app.domain.models import Board
from app.domain.webhooks import Webhook, WebhookAttempt, WebhookProgress, delivery_id
from app.store.base import NotFound, Store
from tests.store.conftest import Make

PAST = "2000-01-01T00:00:00.000000Z"
NOW = "2026-01-01T00:00:00.000000Z"
SOON = "2026-01-01T00:00:30.000000Z"
LATER = "2026-01-01T01:00:00.000000Z"


def webhook_record(board: Board, **fields: object) -> Webhook:
    at = now()
    webhook = Webhook(
        id=new_id(),
        board_id=board.id,
        url="https://example.com/hook",
        secret="whsec_x",
        events=None,
        active=True,
        created_by="creator",
        created_at=at,
        updated_at=at,
    )
    return dataclasses.replace(webhook, **fields)  # type: ignore[arg-type]


def attempt_record(webhook: Webhook, seq: int, attempt: int = 1, **fields: object) -> WebhookAttempt:
    record = WebhookAttempt(
        id=new_id(),
        webhook_id=webhook.id,
        board_id=webhook.board_id,
        delivery_id=delivery_id(webhook.id, seq),
        seq=seq,
        event_type="task.created",
        attempt=attempt,
        manual=False,
        status_code=500,
        latency_ms=12,
        error=None,
        response_body="oops",
        at=now(),
    )
    return dataclasses.replace(record, **fields)  # type: ignore[arg-type]


async def stored_webhook(store: Store, make: Make, **fields: object) -> Webhook:
    webhook = webhook_record(await make.board(), **fields)
    await store.create_webhook(webhook)
    return webhook


async def test_a_webhook_reads_back_and_lists_per_board_in_id_order(store: Store, make: Make) -> None:
    board, other = await make.board(), await make.board()
    first = webhook_record(board, events=["task.created", "comment.*"], cursor=7)
    second = webhook_record(board)
    for webhook in (first, second, webhook_record(other)):
        await store.create_webhook(webhook)

    assert await store.get_webhook(first.id) == first
    assert await store.list_webhooks(board.id) == sorted([first, second], key=lambda webhook: webhook.id)
    assert await store.get_webhook(new_id()) is None


async def test_a_webhook_on_a_missing_board_raises_not_found(store: Store, make: Make) -> None:
    webhook = webhook_record(await make.board(), board_id=new_id())
    with pytest.raises(NotFound):
        await store.create_webhook(webhook)
    assert await store.get_webhook(webhook.id) is None


async def test_update_replaces_the_settings_and_reset_clears_the_backoff(store: Store, make: Make) -> None:
    webhook = await stored_webhook(store, make, failures=4, next_attempt_at=LATER, cursor=3)
    changed = dataclasses.replace(
        webhook,
        url="https://example.org/x",
        events=["task.*"],
        active=False,
        disabled_reason="paused",
        updated_at=now(),
    )

    kept = await store.update_webhook(changed, reset_backoff=False)
    assert kept == changed
    reset = await store.update_webhook(dataclasses.replace(changed, active=True, disabled_reason=None), True)
    assert reset is not None and (reset.active, reset.failures, reset.next_attempt_at, reset.cursor) == (
        True,
        0,
        None,
        3,
    )
    assert await store.update_webhook(webhook_record(await make.board()), True) is None


async def test_delete_removes_the_webhook_and_its_log_and_a_board_takes_its_webhooks(store: Store, make: Make) -> None:
    webhook = await stored_webhook(store, make)
    await store.record_webhook_attempt(webhook.id, "me", attempt_record(webhook, 1), None)
    assert await store.delete_webhook(webhook.id) is True
    assert await store.delete_webhook(webhook.id) is False
    assert await store.list_webhook_attempts(webhook.id, None, 10) == []

    other = await stored_webhook(store, make)
    await store.record_webhook_attempt(other.id, "me", attempt_record(other, 1), None)
    await store.delete_board(other.board_id)
    assert await store.get_webhook(other.id) is None
    assert await store.list_webhook_attempts(other.id, None, 10) == []


async def test_the_lease_goes_to_one_owner_until_it_expires_or_is_released(store: Store, make: Make) -> None:
    webhook = await stored_webhook(store, make)

    claimed = await store.claim_webhook(webhook.id, "a", NOW, SOON)
    assert claimed is not None and (claimed.lease_owner, claimed.lease_until) == ("a", SOON)
    assert await store.claim_webhook(webhook.id, "b", NOW, SOON) is None
    renewed = await store.claim_webhook(webhook.id, "a", NOW, LATER)
    assert renewed is not None and renewed.lease_until == LATER
    taken = await store.claim_webhook(webhook.id, "b", LATER, "2026-01-01T02:00:00.000000Z")
    assert taken is not None and taken.lease_owner == "b"  # a's lease ran out at LATER

    await store.release_webhook(webhook.id, "a")  # not a's any more: nothing happens
    assert (await store.get_webhook(webhook.id)).lease_owner == "b"  # type: ignore[union-attr]
    await store.release_webhook(webhook.id, "b")
    assert await store.claim_webhook(webhook.id, "c", NOW, SOON) is not None
    assert await store.claim_webhook(new_id(), "c", NOW, SOON) is None


async def test_racing_claims_have_exactly_one_winner(store: Store, make: Make) -> None:
    webhook = await stored_webhook(store, make)
    results = await asyncio.gather(*(store.claim_webhook(webhook.id, f"owner{n}", NOW, SOON) for n in range(8)))
    winners = [result for result in results if result is not None]
    assert len(winners) == 1
    assert (await store.get_webhook(webhook.id)).lease_owner == winners[0].lease_owner  # type: ignore[union-attr]


async def test_progress_is_saved_only_by_the_lease_holder_while_attempts_are_always_logged(
    store: Store, make: Make
) -> None:
    webhook = await stored_webhook(store, make)
    await store.claim_webhook(webhook.id, "a", NOW, SOON)

    saved = await store.record_webhook_attempt(
        webhook.id, "a", attempt_record(webhook, 1), WebhookProgress(cursor=0, failures=1, next_attempt_at=SOON)
    )
    assert saved is not None and (saved.cursor, saved.failures, saved.next_attempt_at) == (0, 1, SOON)
    skipped = await store.record_webhook_attempt(webhook.id, "a", None, WebhookProgress(2, 0, None))
    assert skipped is not None and (skipped.cursor, skipped.failures) == (2, 0)

    fenced = await store.record_webhook_attempt(
        webhook.id, "b", attempt_record(webhook, 3, status_code=200), WebhookProgress(3, 0, None)
    )
    assert fenced is None
    assert (await store.get_webhook(webhook.id)).cursor == 2  # type: ignore[union-attr]
    assert sorted(a.seq for a in await store.list_webhook_attempts(webhook.id, None, 10)) == [1, 3]


async def test_the_due_scan_finds_active_unleased_webhooks_with_work_due(store: Store, make: Make) -> None:
    due = await stored_webhook(store, make)
    retry_now = await stored_webhook(store, make, failures=2, next_attempt_at=PAST)
    expired_lease = await stored_webhook(store, make, lease_owner="gone", lease_until=PAST)
    queued = await stored_webhook(store, make, next_attempt_at=LATER, redeliveries=[4])
    await stored_webhook(store, make, active=False)
    await stored_webhook(store, make, next_attempt_at=LATER)
    await stored_webhook(store, make, lease_owner="busy", lease_until=LATER)

    expected = sorted([due.id, retry_now.id, expired_lease.id, queued.id])
    assert [w.id for w in await store.list_due_webhooks(NOW, None, 100)] == expected
    first = await store.list_due_webhooks(NOW, None, 2)
    rest = await store.list_due_webhooks(NOW, first[-1].id, 100)
    assert [w.id for w in first + rest] == expected


async def test_disabling_appends_the_boards_next_event_in_the_same_write(store: Store, make: Make) -> None:
    webhook = await stored_webhook(store, make)
    board = await store.get_board(webhook.board_id)
    await store.claim_webhook(webhook.id, "a", NOW, SOON)
    draft = make.draft("webhook.disabled", actor="system", id=webhook.id, reason="too many failures")

    assert await store.disable_webhook(webhook.id, "b", "nope", draft) is None  # not the lease holder
    event = await store.disable_webhook(webhook.id, "a", "too many failures", draft)

    assert event is not None and (event.seq, event.type) == (board.seq + 1, "webhook.disabled")  # type: ignore[union-attr]
    assert await store.list_events(webhook.board_id, board.seq, 10) == [event]  # type: ignore[union-attr]
    stored = await store.get_webhook(webhook.id)
    assert stored is not None and (stored.active, stored.disabled_reason, stored.lease_owner) == (
        False,
        "too many failures",
        None,
    )
    assert await store.disable_webhook(webhook.id, "a", "again", draft) is None


async def test_redeliveries_queue_in_order_up_to_a_limit_and_pop_for_the_lease_holder(store: Store, make: Make) -> None:
    webhook = await stored_webhook(store, make)
    assert [await store.queue_webhook_redelivery(webhook.id, seq, 3) for seq in (5, 2, 5, 9, 11)] == [
        True,
        True,
        True,
        True,
        False,
    ]
    assert await store.queue_webhook_redelivery(new_id(), 1, 3) is False
    assert await store.pop_webhook_redelivery(webhook.id, "a") is None  # no lease

    await store.claim_webhook(webhook.id, "a", NOW, SOON)
    popped = [await store.pop_webhook_redelivery(webhook.id, "a") for _ in range(4)]
    assert popped == [5, 2, 9, None]


async def test_the_log_pages_newest_first_finds_a_delivery_and_prunes_the_oldest(store: Store, make: Make) -> None:
    webhook = await stored_webhook(store, make)
    ids = sorted(new_id() for _ in range(5))  # ids made within one millisecond are not ordered
    attempts = [
        attempt_record(webhook, seq, attempt, id=ids[n])
        for n, (seq, attempt) in enumerate(((1, 1), (1, 2), (2, 1), (3, 1), (3, 2)))
    ]
    for attempt in attempts:
        await store.record_webhook_attempt(webhook.id, "me", attempt, None)

    newest_first = list(reversed(attempts))
    first = await store.list_webhook_attempts(webhook.id, None, 2)
    rest = await store.list_webhook_attempts(webhook.id, first[-1].id, 10)
    assert first + rest == newest_first
    assert await store.get_webhook_attempt(webhook.id, delivery_id(webhook.id, 1)) == attempts[1]
    assert await store.get_webhook_attempt(webhook.id, delivery_id(webhook.id, 9)) is None

    assert await store.prune_webhook_attempts(webhook.id, 2) == 3
    assert await store.list_webhook_attempts(webhook.id, None, 10) == newest_first[:2]
    assert await store.prune_webhook_attempts(webhook.id, 2) == 0
