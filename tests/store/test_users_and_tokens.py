"""Users and refresh tokens: the part of the contract that authentication stands on."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from app.domain.ids import new_id
from app.store.base import EmailTaken, Store
from tests.store.conftest import Make


async def test_created_user_is_found_by_id_and_by_email(store: Store, make: Make) -> None:
    user = await make.user(email="ada@example.com", name="Ada")

    assert await store.get_user(user.id) == user
    assert await store.get_user_by_email("ada@example.com") == user


async def test_unknown_user_reads_as_none(store: Store) -> None:
    assert await store.get_user(new_id()) is None
    assert await store.get_user_by_email("nobody@example.com") is None


async def test_email_is_taken_whatever_its_case(store: Store, make: Make) -> None:
    await make.user(email="ada@example.com")

    with pytest.raises(EmailTaken):
        await make.user(email="ADA@Example.COM")
    with pytest.raises(EmailTaken):
        await make.user(email="ada@example.com")


async def test_update_user_replaces_name_password_and_updated_at_but_not_email(store: Store, make: Make) -> None:
    user = await make.user(email="ada@example.com")
    changed = dataclasses.replace(
        user,
        name="Ada L.",
        password_hash="new-hash",
        updated_at="2030-01-01T00:00:00.000000Z",
        email="other@example.com",
    )

    updated = await store.update_user(changed)

    expected = dataclasses.replace(user, name="Ada L.", password_hash="new-hash", updated_at=changed.updated_at)
    assert updated == expected
    assert await store.get_user(user.id) == expected
    assert await store.get_user_by_email("other@example.com") is None


async def test_updating_a_missing_user_returns_none(store: Store, make: Make) -> None:
    user = await make.user()
    ghost = dataclasses.replace(user, id=new_id(), email="ghost@example.com")

    assert await store.update_user(ghost) is None
    assert await store.get_user(ghost.id) is None


async def test_refresh_token_spend_returns_it_as_it_was_before(store: Store, make: Make) -> None:
    token = make.token(await make.user())
    await store.create_refresh_token(token)

    before, spent = await store.spend_refresh_token(token.token_hash, "2030-01-01T00:00:00.000000Z")

    assert spent is True
    assert before == token


async def test_a_refresh_token_keeps_when_its_session_signed_in(store: Store, make: Make) -> None:
    token = dataclasses.replace(make.token(await make.user()), signed_in_at="2029-12-31T23:50:00.000000Z")
    await store.create_refresh_token(token)
    before, _ = await store.spend_refresh_token(token.token_hash, "2030-01-01T00:00:00.000000Z")
    assert before is not None and before.signed_in_at == "2029-12-31T23:50:00.000000Z"


async def test_spent_refresh_token_cannot_be_spent_again(store: Store, make: Make) -> None:
    token = make.token(await make.user())
    await store.create_refresh_token(token)
    first_at, second_at = "2030-01-01T00:00:00.000000Z", "2030-01-02T00:00:00.000000Z"
    await store.spend_refresh_token(token.token_hash, first_at)

    again, spent = await store.spend_refresh_token(token.token_hash, second_at)

    assert spent is False
    assert again == dataclasses.replace(token, used_at=first_at)


async def test_unknown_refresh_token_spends_as_none(store: Store) -> None:
    assert await store.spend_refresh_token("0" * 64, "2030-01-01T00:00:00.000000Z") == (None, False)


async def test_concurrent_spends_of_one_token_let_exactly_one_win(store: Store, make: Make) -> None:
    token = make.token(await make.user())
    await store.create_refresh_token(token)

    results = await asyncio.gather(
        *(store.spend_refresh_token(token.token_hash, f"2030-01-01T00:00:{n:02d}.000000Z") for n in range(20))
    )

    assert sum(spent for _, spent in results) == 1
    assert all(found is not None and found.token_hash == token.token_hash for found, _ in results)


async def test_revoking_a_family_revokes_each_of_its_tokens_and_no_other(store: Store, make: Make) -> None:
    user = await make.user()
    family = new_id()
    rotated = [make.token(user, family_id=family) for _ in range(3)]
    other = make.token(user)
    for token in [*rotated, other]:
        await store.create_refresh_token(token)
    await store.spend_refresh_token(rotated[0].token_hash, "2030-01-01T00:00:00.000000Z")

    await store.revoke_refresh_family(family)

    for token in rotated:
        found, _ = await store.spend_refresh_token(token.token_hash, "2030-01-02T00:00:00.000000Z")
        assert found is not None and found.revoked is True
    found, _ = await store.spend_refresh_token(other.token_hash, "2030-01-02T00:00:00.000000Z")
    assert found is not None and found.revoked is False


async def test_a_users_live_sessions_are_listed_without_revoked_expired_or_other_users_ones(
    store: Store, make: Make
) -> None:
    user, other_user = await make.user(), await make.user()
    live, rotated, revoked = new_id(), new_id(), new_id()
    tokens = [
        make.token(user, family_id=live),
        make.token(user, family_id=rotated),
        make.token(user, family_id=rotated),
        make.token(user, family_id=revoked),
        make.token(user, expires_at="2000-01-01T00:00:00.000000Z"),
        make.token(other_user),
    ]
    for token in tokens:
        await store.create_refresh_token(token)
    await store.spend_refresh_token(tokens[1].token_hash, "2030-01-01T00:00:00.000000Z")
    await store.revoke_refresh_family(revoked)

    assert sorted(await store.list_session_families(user.id, "2030-01-01T00:00:00.000000Z")) == sorted([live, rotated])
    assert await store.list_session_families(new_id(), "2030-01-01T00:00:00.000000Z") == []
