"""Users and their refresh tokens (one family per login session), for MongoStore."""

from __future__ import annotations

from datetime import timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from app.domain.clock import parse_time
from app.domain.models import RefreshToken, User
from app.store.base import EmailTaken
from app.store.mongo_records import Document, Documents, fields_of, want_str
from app.store.mongo_schema import REFRESH_TOKENS, REVOKED_SESSIONS, USERS
from app.store.mongo_tx import MongoStoreBase, driver_errors

USER_DOCS = Documents(User)
REFRESH_TOKEN_DOCS = Documents(RefreshToken, id_field="token_hash")
# Spent and expired tokens linger this long before the TTL monitor removes them, so a
# replay shortly after expiry is still recognised as reuse rather than as unknown.
TOKEN_RETENTION = timedelta(days=1)


def _user_doc(user: User) -> Document:
    doc = USER_DOCS.doc(user)
    doc["email"] = doc["email"].lower()
    return doc


def _token_doc(token: RefreshToken) -> Document:
    doc = REFRESH_TOKEN_DOCS.doc(token)
    # A BSON date only for the TTL index; the record keeps the ISO string.
    doc["purge_after"] = parse_time(doc["expires_at"]) + TOKEN_RETENTION
    return doc


class MongoUsers(MongoStoreBase):
    # -- users -----------------------------------------------------------------------

    @driver_errors
    async def create_user(self, user: User) -> None:
        try:
            await self._db[USERS].insert_one(_user_doc(user))
        except DuplicateKeyError as exc:
            if "_id" in _duplicate_key_fields(exc):
                raise
            raise EmailTaken(user.email) from exc

    get_user = USER_DOCS.getter(USERS, "user_id")

    @driver_errors
    async def get_user_by_email(self, email: str) -> User | None:
        return await USER_DOCS.one(self._db[USERS], {"email": want_str(email, "email").lower()})

    @driver_errors
    async def update_user(self, user: User) -> User | None:
        changes = _user_doc(user)
        doc = await self._db[USERS].find_one_and_update(
            {"_id": changes["_id"]},
            {"$set": fields_of(changes, "name", "password_hash", "updated_at")},
            return_document=ReturnDocument.AFTER,
        )
        return USER_DOCS.record(doc) if doc else None

    # -- refresh tokens --------------------------------------------------------------

    @driver_errors
    async def create_refresh_token(self, token: RefreshToken) -> None:
        await self._db[REFRESH_TOKENS].insert_one(_token_doc(token))

    @driver_errors
    async def spend_refresh_token(self, token_hash: str, at: str) -> tuple[RefreshToken | None, bool]:
        tokens = self._db[REFRESH_TOKENS]
        token_id = want_str(token_hash, "token_hash")
        # One atomic conditional write: of two concurrent spends exactly one matches.
        before = await tokens.find_one_and_update(
            {"_id": token_id, "used_at": None},
            {"$set": {"used_at": want_str(at, "at")}},
            return_document=ReturnDocument.BEFORE,
        )
        if before is not None:
            return REFRESH_TOKEN_DOCS.record(before), True
        doc = await tokens.find_one({"_id": token_id})
        return (REFRESH_TOKEN_DOCS.record(doc) if doc else None), False

    @driver_errors
    async def revoke_refresh_family(self, family_id: str) -> None:
        await self._db[REFRESH_TOKENS].update_many(
            {"family_id": want_str(family_id, "family_id")}, {"$set": {"revoked": True}}
        )

    @driver_errors
    async def list_session_families(self, user_id: str, at: str) -> list[str]:
        query = {"user_id": want_str(user_id, "user_id"), "revoked": False, "expires_at": {"$gt": want_str(at, "at")}}
        return list(await self._db[REFRESH_TOKENS].distinct("family_id", query))

    # -- revoked sessions ------------------------------------------------------------

    @driver_errors
    async def revoke_session(self, session_id: str, until: str) -> None:
        sessions = self._db[REVOKED_SESSIONS]
        key, until = want_str(session_id, "session_id"), want_str(until, "until")
        # The mark first: a refresh racing this write checks it after storing its new token
        # (AuthService.rotate), so either it sees the mark or the family update covers it.
        # $max: revoking again never shortens it. purge_after is a BSON date for the TTL index.
        await sessions.update_one(
            {"_id": key}, {"$max": {"until": until, "purge_after": parse_time(until)}}, upsert=True
        )
        await self.revoke_refresh_family(key)

    @driver_errors
    async def session_revoked(self, session_id: str, at: str) -> bool:
        doc = await self._db[REVOKED_SESSIONS].find_one(
            {"_id": want_str(session_id, "session_id"), "until": {"$gt": want_str(at, "at")}}, {"_id": 1}
        )
        return doc is not None

    @driver_errors
    async def list_revoked_sessions(self, at: str) -> list[tuple[str, str]]:
        cursor = self._db[REVOKED_SESSIONS].find({"until": {"$gt": want_str(at, "at")}}).sort("until", 1)
        return [(doc["_id"], doc["until"]) async for doc in cursor]


def _duplicate_key_fields(exc: DuplicateKeyError) -> set[str]:
    """The fields of the unique index that refused the write, when the server says."""
    details = exc.details or {}
    return set(details.get("keyPattern") or {})
