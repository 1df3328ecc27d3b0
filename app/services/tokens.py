"""Personal API tokens: long-lived credentials for scripts and integrations, usable
wherever an access JWT is (REST ``Authorization: Bearer twp_...`` and the WebSocket auth
message).

The secret is shown once, at creation; the store keeps only its sha256 and a short
display prefix. A token may be limited to reading and to some boards (``TokenLimits``,
enforced in ``access.require_role``). Deleting a token revokes it at once: every request
looks the token up, nothing caches it, and the WebSockets and event streams it opened are
closed (``app.events.sessions``).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Protocol

from app.broker.base import BrokerUnavailable, PubSub, SharedValues
from app.domain import clock
from app.domain.caller import Caller
from app.domain.errors import ForbiddenError, InvalidInputError, NotFoundError, UnauthenticatedError
from app.domain.ids import new_id
from app.domain.models import ApiToken, TokenScope, User
from app.domain.request_context import TokenLimits
from app.events.sessions import announce_session_ended
from app.services.wiring import service
from app.store.base import ApiTokenStore, BoardStore

log = logging.getLogger(__name__)

API_TOKEN_PREFIX = "twp_"  # recognisable by secret scanners, and by authenticate()
DISPLAY_PREFIX_LENGTH = len(API_TOKEN_PREFIX) + 8
MAX_TOKENS_PER_USER = 50
# last_used_at is written at most once a minute per token, across every instance.
LAST_USED_THROTTLE_SECONDS = 60
LAST_USED_KEY = "api-token-used:"


def is_api_token(credential: str) -> bool:
    return credential.startswith(API_TOKEN_PREFIX)


def hash_api_token(secret: str) -> str:
    # A plain sha256 is enough: the secret has 256 random bits, nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_session_id(token_id: str) -> str:
    """What a caller authenticated by this token counts as its session: revoking the token
    ends it, live connections included."""
    return f"api-token:{token_id}"


def token_limits(token: ApiToken) -> TokenLimits:
    board_ids = None if token.board_ids is None else frozenset(token.board_ids)
    return TokenLimits(board_ids=board_ids, writable=TokenScope.WRITE.value in token.scopes)


def acting_token(token_id: str, token_name: str) -> dict[str, str]:
    """What an event made with the token records of it (``Event.via``)."""
    return {"token_id": token_id, "token_name": token_name}


def token_not_found() -> NotFoundError:
    return NotFoundError("token_not_found", "No such API token.")


async def verify_api_token(store: ApiTokenStore, broker: SharedValues, secret: str) -> ApiToken:
    """The live token behind ``secret``; refused when it is unknown, revoked or expired."""
    token = await store.get_api_token_by_hash(hash_api_token(secret))
    if token is None:
        raise UnauthenticatedError("invalid_token", "The API token is not valid or was revoked.")
    at = clock.now()
    if token.expires_at is not None and token.expires_at <= at:
        raise UnauthenticatedError("token_expired", "The API token has expired.")
    try:
        first_use_this_minute = await broker.set_value_if_absent(
            LAST_USED_KEY + token.id, "1", LAST_USED_THROTTLE_SECONDS
        )
    except BrokerUnavailable:
        first_use_this_minute = False  # a missed last_used_at beats refusing the request
    if first_use_this_minute:
        await store.touch_api_token(token.id, at)
        token.last_used_at = at
    return token


class ApiTokenServiceStore(ApiTokenStore, BoardStore, Protocol): ...


@service
class ApiTokenService:
    _store: ApiTokenServiceStore
    _broker: PubSub

    @staticmethod
    def _session_user(caller: Caller) -> User:
        # A leaked API token must not be able to mint itself successors.
        if caller.token_id is not None:
            raise ForbiddenError("session_required", "Manage API tokens from a signed-in session, not with a token.")
        return caller.user

    async def create(
        self, caller: Caller, name: str, scopes: list[str], board_ids: list[str] | None, expires_at: str | None
    ) -> tuple[ApiToken, str]:
        """The stored token and its secret; the secret is never available again."""
        user = self._session_user(caller)
        at = clock.now()
        if expires_at is not None and expires_at <= at:
            raise InvalidInputError("invalid_expires_at", "expires_at must be in the future.")
        if len(await self._store.list_api_tokens(user.id)) >= MAX_TOKENS_PER_USER:
            raise InvalidInputError(
                "too_many_tokens",
                f"At most {MAX_TOKENS_PER_USER} API tokens per account; delete one you no longer use.",
            )
        for board_id in board_ids or []:
            if await self._store.get_member(board_id, user.id) is None:
                raise InvalidInputError(
                    "invalid_boards",
                    "A token can only be limited to boards you are a member of.",
                    details={"board_id": board_id},
                )
        secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
        # write implies read: a token that may change a board may also see it.
        granted = [TokenScope.READ.value] + ([TokenScope.WRITE.value] if TokenScope.WRITE.value in scopes else [])
        token = ApiToken(
            id=new_id(),
            user_id=user.id,
            name=name.strip(),
            token_hash=hash_api_token(secret),
            prefix=secret[:DISPLAY_PREFIX_LENGTH],
            scopes=granted,
            board_ids=None if board_ids is None else sorted(set(board_ids)),
            created_at=at,
            expires_at=expires_at,
        )
        await self._store.create_api_token(token)
        return token, secret

    async def list(self, caller: Caller) -> list[ApiToken]:
        return await self._store.list_api_tokens(self._session_user(caller).id)

    async def revoke(self, caller: Caller, token_id: str) -> None:
        if not await self._store.delete_api_token(self._session_user(caller).id, token_id):
            raise token_not_found()
        await announce_session_ended(self._broker, api_token_session_id(token_id))
