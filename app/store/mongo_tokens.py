"""Personal API tokens, for MongoStore (see mongo.py). Documents use the token id as _id;
the sha256 of the secret has a unique index of its own (the lookup of every API call)."""

from __future__ import annotations

from app.domain.models import ApiToken
from app.store.mongo_records import Documents, want_str
from app.store.mongo_schema import API_TOKENS
from app.store.mongo_tx import MongoStoreBase, driver_errors

API_TOKEN_DOCS = Documents(ApiToken)


class MongoApiTokens(MongoStoreBase):
    create_api_token = API_TOKEN_DOCS.inserter(API_TOKENS)

    get_api_token_by_hash = API_TOKEN_DOCS.getter(API_TOKENS, "token_hash", "token_hash")

    @driver_errors
    async def list_api_tokens(self, user_id: str) -> list[ApiToken]:
        cursor = self._db[API_TOKENS].find({"user_id": want_str(user_id, "user_id")})
        return await API_TOKEN_DOCS.all(cursor.sort([("created_at", 1), ("_id", 1)]))

    @driver_errors
    async def delete_api_token(self, user_id: str, token_id: str) -> bool:
        # The owner is part of the filter: one user can never delete another's token by id.
        result = await self._db[API_TOKENS].delete_one(
            {"_id": want_str(token_id, "token_id"), "user_id": want_str(user_id, "user_id")}
        )
        return result.deleted_count == 1

    @driver_errors
    async def touch_api_token(self, token_id: str, at: str) -> None:
        await self._db[API_TOKENS].update_one(
            {"_id": want_str(token_id, "token_id")}, {"$set": {"last_used_at": want_str(at, "at")}}
        )
