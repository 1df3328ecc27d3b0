"""Accounts at OpenID Connect providers linked to users, for MongoStore."""

from __future__ import annotations

from app.domain.models import ExternalIdentity
from app.store.mongo_records import Documents, want_str
from app.store.mongo_schema import EXTERNAL_IDENTITIES
from app.store.mongo_tx import MongoStoreBase, driver_errors

IDENTITY_DOCS = Documents(ExternalIdentity, id_field=None)


def _key(provider: str, subject: str) -> str:
    # A provider id has no space (its settings pattern), so the pair maps to one key.
    return f"{want_str(provider, 'provider')} {want_str(subject, 'subject')}"


class MongoIdentities(MongoStoreBase):
    @driver_errors
    async def get_identity(self, provider: str, subject: str) -> ExternalIdentity | None:
        return await IDENTITY_DOCS.one(self._db[EXTERNAL_IDENTITIES], {"_id": _key(provider, subject)})

    @driver_errors
    async def link_identity(self, identity: ExternalIdentity) -> None:
        doc = IDENTITY_DOCS.doc(identity)
        await self._db[EXTERNAL_IDENTITIES].update_one(
            {"_id": _key(identity.provider, identity.subject)}, {"$setOnInsert": doc}, upsert=True
        )

    @driver_errors
    async def list_identities(self, user_id: str) -> list[ExternalIdentity]:
        cursor = self._db[EXTERNAL_IDENTITIES].find({"user_id": want_str(user_id, "user_id")}).sort("created_at", 1)
        return [IDENTITY_DOCS.record(doc) for doc in await cursor.to_list(None)]
