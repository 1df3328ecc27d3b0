"""Each user's second factor, the same on every adapter: replace, single-use steps and
recovery codes, delete."""

from __future__ import annotations

import asyncio

from app.domain.clock import now
from app.domain.models import TwoFactor
from app.store.base import Store
from tests.store.conftest import Make


async def test_a_factor_is_kept_replaced_and_deleted(store: Store, make: Make) -> None:
    user = await make.user()
    assert await store.get_two_factor(user.id) is None
    await store.put_two_factor(TwoFactor(user_id=user.id, secret="A" * 32, created_at=now()))
    confirmed = TwoFactor(
        user_id=user.id, secret="B" * 32, created_at=now(), confirmed_at=now(), recovery_hashes=["h1", "h2"]
    )
    await store.put_two_factor(confirmed)
    assert await store.get_two_factor(user.id) == confirmed
    assert await store.delete_two_factor(user.id) is True
    assert await store.get_two_factor(user.id) is None
    assert await store.delete_two_factor(user.id) is False


async def test_a_step_is_taken_once_and_never_an_older_one(store: Store, make: Make) -> None:
    user = await make.user()
    await store.put_two_factor(TwoFactor(user_id=user.id, secret="A" * 32, created_at=now(), last_used_step=10))
    assert await store.use_totp_step(user.id, 10) is False
    results = await asyncio.gather(*(store.use_totp_step(user.id, 11) for _ in range(5)))
    assert results.count(True) == 1
    assert await store.use_totp_step(user.id, 9) is False
    assert (await store.get_two_factor(user.id)).last_used_step == 11


async def test_a_recovery_code_is_spent_once(store: Store, make: Make) -> None:
    user = await make.user()
    await store.put_two_factor(
        TwoFactor(user_id=user.id, secret="A" * 32, created_at=now(), recovery_hashes=["h1", "h2", "h3"])
    )
    results = await asyncio.gather(*(store.use_recovery_code(user.id, "h2") for _ in range(5)))
    assert results.count(True) == 1
    assert await store.use_recovery_code(user.id, "nope") is False
    assert await store.use_recovery_code("nobody", "h1") is False
    assert (await store.get_two_factor(user.id)).recovery_hashes == ["h1", "h3"]
