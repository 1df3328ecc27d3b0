"""Single sign-on links, the same on every adapter."""

from __future__ import annotations

from app.domain.clock import now
from app.domain.models import ExternalIdentity
from app.store.base import Store
from tests.store.conftest import Make


async def test_a_link_is_found_by_provider_and_subject_and_kept_as_first_made(store: Store, make: Make) -> None:
    ada, other = await make.user(), await make.user()
    link = ExternalIdentity(provider="kc", subject="sub 1", user_id=ada.id, email=ada.email, created_at=now())
    await store.link_identity(link)
    await store.link_identity(ExternalIdentity("kc", "sub 1", other.id, other.email, now()))
    assert await store.get_identity("kc", "sub 1") == link
    assert await store.get_identity("google", "sub 1") is None
    assert await store.get_identity("kc", "sub") is None


async def test_a_users_links_are_listed_oldest_first(store: Store, make: Make) -> None:
    ada, other = await make.user(), await make.user()
    first = ExternalIdentity("kc", "ada", ada.id, ada.email, "2030-01-01T00:00:00.000000Z")
    second = ExternalIdentity("google", "ada", ada.id, ada.email, "2030-01-02T00:00:00.000000Z")
    await store.link_identity(second)
    await store.link_identity(first)
    await store.link_identity(ExternalIdentity("kc", "other", other.id, other.email, now()))
    assert await store.list_identities(ada.id) == [first, second]
    assert await store.list_identities("nobody") == []
