"""Revoked sessions: what authentication falls back on when the broker, which holds the
same marks for speed, is down. Every adapter keeps them until the session's last access
token has expired."""

from __future__ import annotations

from app.domain.ids import new_id
from app.store.base import Store
from tests.store.conftest import Make

JANUARY, MARCH, JUNE = "2030-01-01T00:00:00.000000Z", "2030-03-01T00:00:00.000000Z", "2030-06-01T00:00:00.000000Z"


async def test_a_revoked_session_is_revoked_until_its_until_and_not_after(store: Store) -> None:
    session = new_id()
    await store.revoke_session(session, MARCH)

    assert await store.session_revoked(session, JANUARY) is True
    assert await store.session_revoked(session, MARCH) is False
    assert await store.session_revoked(session, JUNE) is False
    assert await store.session_revoked(new_id(), JANUARY) is False


async def test_revoking_a_session_revokes_its_refresh_tokens_and_no_other(store: Store, make: Make) -> None:
    user = await make.user()
    session = new_id()
    own = [make.token(user, family_id=session) for _ in range(2)]
    other = make.token(user)
    for token in [*own, other]:
        await store.create_refresh_token(token)

    await store.revoke_session(session, MARCH)

    for token in own:
        found, _ = await store.spend_refresh_token(token.token_hash, JANUARY)
        assert found is not None and found.revoked is True
    found, _ = await store.spend_refresh_token(other.token_hash, JANUARY)
    assert found is not None and found.revoked is False


async def test_revoking_again_never_shortens_a_revocation(store: Store) -> None:
    session = new_id()
    await store.revoke_session(session, JUNE)
    await store.revoke_session(session, MARCH)

    assert await store.session_revoked(session, "2030-04-01T00:00:00.000000Z") is True
    await store.revoke_session(session, "2030-07-01T00:00:00.000000Z")
    assert await store.session_revoked(session, "2030-06-15T00:00:00.000000Z") is True


async def test_the_list_holds_the_sessions_still_revoked_at_a_moment(store: Store) -> None:
    ended_soon, ended_later = new_id(), new_id()
    await store.revoke_session(ended_soon, MARCH)
    await store.revoke_session(ended_later, JUNE)

    revoked = await store.list_revoked_sessions("2030-02-01T00:00:00.000000Z")
    assert (ended_soon, MARCH) in revoked and (ended_later, JUNE) in revoked
    later = await store.list_revoked_sessions("2030-04-01T00:00:00.000000Z")
    assert (ended_later, JUNE) in later and all(session != ended_soon for session, _ in later)
