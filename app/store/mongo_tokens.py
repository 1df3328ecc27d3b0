"""Personal API tokens, for MongoStore (see mongo.py). Documents use the token id as _id;
the sha256 of the secret has a unique index of its own (the lookup of every API call)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.domain.models import ApiToken
from app.store.mongo_records import Document, want_optional_str, want_str, want_str_list
from app.store.mongo_schema import API_TOKENS
from app.store.mongo_tx import MongoStoreBase, driver_errors


def _token_doc(token: ApiToken) -> Document:
    return {
        "_id": want_str(token.id, "id"),
        "user_id": want_str(token.user_id, "user_id"),
        "name": want_str(token.name, "name"),
        "token_hash": want_str(token.token_hash, "token_hash"),
        "prefix": want_str(token.prefix, "prefix"),
        "scopes": want_str_list(token.scopes, "scopes"),
        "board_ids": None if token.board_ids is None else want_str_list(token.board_ids, "board_ids"),
        "created_at": want_str(token.created_at, "created_at"),
        "expires_at": want_optional_str(token.expires_at, "expires_at"),
        "last_used_at": want_optional_str(token.last_used_at, "last_used_at"),
    }


def _token_record(doc: Mapping[str, Any]) -> ApiToken:
    board_ids = doc.get("board_ids")
    return ApiToken(
        id=doc["_id"],
        user_id=doc["user_id"],
        name=doc["name"],
        token_hash=doc["token_hash"],
        prefix=doc["prefix"],
        scopes=list(doc["scopes"]),
        board_ids=None if board_ids is None else list(board_ids),
        created_at=doc["created_at"],
        expires_at=doc.get("expires_at"),
        last_used_at=doc.get("last_used_at"),
    )


class MongoApiTokens(MongoStoreBase):
    @driver_errors
    async def create_api_token(self, token: ApiToken) -> None:
        await self._db[API_TOKENS].insert_one(_token_doc(token))

    @driver_errors
    async def get_api_token_by_hash(self, token_hash: str) -> ApiToken | None:
        doc = await self._db[API_TOKENS].find_one({"token_hash": want_str(token_hash, "token_hash")})
        return _token_record(doc) if doc else None

    @driver_errors
    async def list_api_tokens(self, user_id: str) -> list[ApiToken]:
        cursor = self._db[API_TOKENS].find({"user_id": want_str(user_id, "user_id")})
        docs = await cursor.sort([("created_at", 1), ("_id", 1)]).to_list(None)
        return [_token_record(doc) for doc in docs]

    @driver_errors
    async def delete_api_token(self, user_id: str, token_id: str) -> bool:
        # The owner is part of the filter: one user can never delete another's token by id.
        result = await self._db[API_TOKENS].delete_one(
            {"_id": want_str(token_id, "token_id"), "user_id": want_str(user_id, "user_id")})
        return result.deleted_count == 1

    @driver_errors
    async def touch_api_token(self, token_id: str, at: str) -> None:
        await self._db[API_TOKENS].update_one(
            {"_id": want_str(token_id, "token_id")}, {"$set": {"last_used_at": want_str(at, "at")}})
