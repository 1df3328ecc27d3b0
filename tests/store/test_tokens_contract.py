"""Personal API tokens in the store: stored by hash, listed per user, deleted only by their owner."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from app.domain.clock import now
from app.domain.ids import new_id
from app.domain.models import ApiToken, User
from app.store.base import Store
from tests.store.conftest import Make


def api_token(user: User, **fields: object) -> ApiToken:
    token = ApiToken(
        id=new_id(),
        user_id=user.id,
        name="CI",
        token_hash=uuid.uuid4().hex,
        prefix="twp_abcdefgh",
        scopes=["read"],
        board_ids=None,
        created_at=now(),
    )
    return dataclasses.replace(token, **fields)  # type: ignore[arg-type]


async def test_a_created_token_reads_back_by_its_hash(store: Store, make: Make) -> None:
    user = await make.user()
    token = api_token(user, scopes=["read", "write"], board_ids=["b1", "b2"], expires_at="2999-01-01T00:00:00.000000Z")

    await store.create_api_token(token)

    assert await store.get_api_token_by_hash(token.token_hash) == token


async def test_an_unknown_hash_reads_as_none(store: Store) -> None:
    assert await store.get_api_token_by_hash(uuid.uuid4().hex) is None


async def test_no_board_limit_and_an_empty_one_stay_distinct(store: Store, make: Make) -> None:
    user = await make.user()
    unlimited, empty = api_token(user, board_ids=None), api_token(user, board_ids=[])
    await store.create_api_token(unlimited)
    await store.create_api_token(empty)

    assert (await store.get_api_token_by_hash(unlimited.token_hash)).board_ids is None  # type: ignore[union-attr]
    assert (await store.get_api_token_by_hash(empty.token_hash)).board_ids == []  # type: ignore[union-attr]


async def test_tokens_are_listed_per_user_oldest_first(store: Store, make: Make) -> None:
    ada, grace = await make.user(), await make.user()
    first = api_token(ada, name="first", created_at="2026-01-01T00:00:00.000000Z")
    second = api_token(ada, name="second", created_at="2026-01-02T00:00:00.000000Z")
    other = api_token(grace, name="other")
    for token in (second, other, first):
        await store.create_api_token(token)

    assert await store.list_api_tokens(ada.id) == [first, second]
    assert await store.list_api_tokens(grace.id) == [other]
    assert await store.list_api_tokens(new_id()) == []


async def test_only_the_owner_can_delete_a_token(store: Store, make: Make) -> None:
    ada, grace = await make.user(), await make.user()
    token = api_token(ada)
    await store.create_api_token(token)

    assert await store.delete_api_token(grace.id, token.id) is False
    assert await store.get_api_token_by_hash(token.token_hash) == token
    assert await store.delete_api_token(ada.id, token.id) is True
    assert await store.get_api_token_by_hash(token.token_hash) is None
    assert await store.delete_api_token(ada.id, token.id) is False


async def test_touch_records_the_last_use(store: Store, make: Make) -> None:
    user = await make.user()
    token = api_token(user)
    await store.create_api_token(token)

    await store.touch_api_token(token.id, "2026-05-01T10:00:00.000000Z")
    await store.touch_api_token(new_id(), "2026-05-01T10:00:00.000000Z")  # gone: nothing happens

    stored = await store.get_api_token_by_hash(token.token_hash)
    assert stored == dataclasses.replace(token, last_used_at="2026-05-01T10:00:00.000000Z")


async def test_returned_lists_are_copies(store: Store, make: Make) -> None:
    user = await make.user()
    token = api_token(user, scopes=["read"], board_ids=["b1"])
    await store.create_api_token(token)

    read = await store.get_api_token_by_hash(token.token_hash)
    assert read is not None and read.board_ids is not None
    read.scopes.append("write")
    read.board_ids.append("b2")

    assert await store.get_api_token_by_hash(token.token_hash) == token


@pytest.mark.parametrize("text", ['{"$ne": ""}', "$gt", "%", "*"])
async def test_a_hash_that_looks_like_an_operator_matches_nothing(store: Store, make: Make, text: str) -> None:
    user = await make.user()
    await store.create_api_token(api_token(user))

    assert await store.get_api_token_by_hash(text) is None
