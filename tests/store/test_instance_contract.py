"""The administrator's reads and switches, the same on every adapter."""

from __future__ import annotations

from app.domain.clock import now
from app.store.base import Store
from tests.store.conftest import Make


async def test_users_are_listed_in_creation_order_by_page(store: Store, make: Make) -> None:
    # Ids are time-ordered only across milliseconds: compare with the id order.
    users = sorted([await make.user() for _ in range(3)], key=lambda user: user.id)
    first = await store.list_users(None, 2)
    assert [user.id for user in first] == [user.id for user in users[:2]]
    assert [user.id for user in await store.list_users(first[-1].id, 2)] == [users[2].id]
    assert first[0].disabled_at is None


async def test_disabling_is_stored_counted_and_undone(store: Store, make: Make) -> None:
    user, other = await make.user(), await make.user()
    at = now()
    disabled = await store.set_user_disabled(user.id, at)
    assert disabled is not None and disabled.disabled_at == at
    assert (await store.get_user(user.id)).disabled_at == at
    assert (await store.get_user(other.id)).disabled_at is None
    figures = await store.instance_figures()
    assert figures["users"] == 2 and figures["disabled_users"] == 1
    enabled = await store.set_user_disabled(user.id, None)
    assert enabled is not None and enabled.disabled_at is None
    assert (await store.instance_figures())["disabled_users"] == 0
    assert await store.set_user_disabled("nobody", at) is None


async def test_the_figures_count_boards_tasks_and_comments(store: Store, make: Make) -> None:
    await make.board()
    figures = await store.instance_figures()
    assert figures == {"users": 1, "disabled_users": 0, "boards": 1, "tasks": 0, "comments": 0}


async def test_instance_values_are_kept_and_replaced(store: Store) -> None:
    assert await store.get_instance_value("registration_open") is None
    await store.set_instance_value("registration_open", "false")
    await store.set_instance_value("registration_open", "true")
    assert await store.get_instance_value("registration_open") == "true"
