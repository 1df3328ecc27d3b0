"""Each user's TOTP second factor, for MongoStore."""

from __future__ import annotations

from app.domain.models import TwoFactor
from app.store.mongo_records import Documents, want_str
from app.store.mongo_schema import TWO_FACTOR
from app.store.mongo_tx import MongoStoreBase, driver_errors

TWO_FACTOR_DOCS = Documents(TwoFactor, id_field="user_id")


class MongoTwoFactor(MongoStoreBase):
    get_two_factor = TWO_FACTOR_DOCS.getter(TWO_FACTOR, "user_id")

    put_two_factor = TWO_FACTOR_DOCS.putter(TWO_FACTOR)

    @driver_errors
    async def use_totp_step(self, user_id: str, step: int) -> bool:
        result = await self._db[TWO_FACTOR].update_one(
            {"_id": want_str(user_id, "user_id"), "last_used_step": {"$lt": step}}, {"$set": {"last_used_step": step}}
        )
        return result.modified_count == 1

    @driver_errors
    async def use_recovery_code(self, user_id: str, code_hash: str) -> bool:
        result = await self._db[TWO_FACTOR].update_one(
            {"_id": want_str(user_id, "user_id"), "recovery_hashes": code_hash},
            {"$pull": {"recovery_hashes": code_hash}},
        )
        return result.modified_count == 1

    @driver_errors
    async def delete_two_factor(self, user_id: str) -> bool:
        result = await self._db[TWO_FACTOR].delete_one({"_id": want_str(user_id, "user_id")})
        return result.deleted_count == 1
