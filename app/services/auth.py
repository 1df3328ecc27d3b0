"""Accounts and sessions: argon2id passwords, short-lived access JWTs, rotating opaque
refresh tokens grouped in families (one family per login session).

A spent refresh token presented again means it was stolen or replayed: the whole family
is revoked, and so is every access token of that session (the ``sid`` claim). The store
remembers a revoked session for as long as an access token can live; a broker key holds
the same mark so that the check costs one Redis GET. While the broker is down the store
answers instead. The broker's marks are trusted only while it has had no outage since they
were last copied from the store (at start-up, and after each outage), so neither a
revocation made during an outage nor a Redis restart that lost every mark un-revokes a
session.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Protocol

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.broker.base import Broker, BrokerUnavailable
from app.domain import clock
from app.domain.caller import Caller
from app.domain.errors import ConflictError, ForbiddenError, InvalidInputError, UnauthenticatedError
from app.domain.ids import new_id
from app.domain.models import RefreshToken, User
from app.domain.request_context import ACTING_TOKEN, bind_token_limits, current_token_limits
from app.events.sessions import announce_session_ended
from app.services.cache import USER_TTL_SECONDS, ReadCache, decode_user, encode_user
from app.services.login_throttle import LoginThrottle
from app.services.passwords import check_new_password
from app.services.registration import registration_open
from app.services.tokens import acting_token, api_token_session_id, is_api_token, token_limits, verify_api_token
from app.services.verified_tokens import VerifiedTokens
from app.services.wiring import service
from app.settings import Settings
from app.store.base import ApiTokenStore, EmailTaken, IdentityStore, InstanceStore, UserStore

log = logging.getLogger(__name__)

ACCESS_AUDIENCE = "taskwire:access"
ACCESS_TYPE = "at+jwt"  # RFC 9068: an access token cannot pass for any other JWT we sign
ALGORITHM = "HS256"
REFRESH_PREFIX = "twr_"
REVOKED_SESSION_KEY = "revoked-session:"
# How recent a sign-in stands in for the password of an account that has none (single sign-on).
REAUTHENTICATION_SECONDS = 600


@dataclasses.dataclass(slots=True, frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def _unauthorized(message: str = "Authentication is required.", code: str = "unauthorized") -> UnauthenticatedError:
    return UnauthenticatedError(code, message)


def _check_new_password(password: str) -> None:
    if current_token_limits() is not None:
        # A leaked API token must not be able to take the account over.
        raise ForbiddenError("session_required", "Change your password from a signed-in session.")
    check_new_password(password)


def refuse_disabled(user: User) -> None:
    if user.disabled_at is not None:
        raise _unauthorized("An administrator disabled this account.", "account_disabled")


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AuthServiceStore(ApiTokenStore, IdentityStore, InstanceStore, UserStore, Protocol): ...


@service
class AuthService:
    _settings: Settings
    _store: AuthServiceStore
    _broker: Broker
    _cache: ReadCache
    _throttle: LoginThrottle = dataclasses.field(init=False)
    _hasher: PasswordHasher = dataclasses.field(init=False)
    _access_key: bytes = dataclasses.field(init=False)
    _dummy_hash: str = dataclasses.field(init=False)
    # The broker's outage count when its revocation marks were last restored from the
    # store; -1: never (a Redis that restarted while we were down lost them too).
    _marks_restored_at: int = dataclasses.field(init=False, default=-1)
    _restoring: asyncio.Lock = dataclasses.field(init=False, default_factory=asyncio.Lock)
    _verified: VerifiedTokens = dataclasses.field(init=False, default_factory=VerifiedTokens)

    def __post_init__(self) -> None:
        self._throttle = LoginThrottle(self._broker)
        settings = self._settings
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib, parallelism=1
        )
        # Access tokens get a key of their own, so nothing else we sign can pass for one.
        self._access_key = hmac.new(settings.secret_key.encode(), b"taskwire access jwt v1", "sha256").digest()
        # Verifying against this when the email is unknown makes both failures equally slow.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    # -- passwords -------------------------------------------------------------------
    async def hash_password(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def _verify_password(self, password_hash: str, password: str) -> bool:
        def verify() -> bool:
            try:
                return self._hasher.verify(password_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(verify)

    # -- accounts --------------------------------------------------------------------
    async def register(
        self, email: str, password: str | None, name: str, address: str, *, allow_when_closed: bool = False
    ) -> User:
        """``allow_when_closed``: an invitation or single sign-on creates the account even
        while registration is closed (app/services/registration.py). ``password`` None: an
        account without one (single sign-on), which signs in through its provider only."""
        if not allow_when_closed and not await registration_open(self._settings, self._store):
            raise ForbiddenError("registration_closed", "This instance does not take new accounts.")
        if password is not None:
            check_new_password(password)
        at = clock.now()
        user = User(
            id=new_id(),
            email=email.strip().lower(),
            name=name.strip(),
            password_hash="" if password is None else await self.hash_password(password),
            created_at=at,
            updated_at=at,
        )
        try:
            await self._store.create_user(user)
        except EmailTaken:
            raise ConflictError("email_taken", "An account with this email already exists.") from None
        await self._throttle.succeeded(user.email, address)
        return user

    async def login(self, email: str, password: str, address: str) -> User:
        """``address``: the client's, so that its owner is not held up by others' failures
        (see login_throttle)."""
        email = email.strip().lower()
        await self._throttle.check(email, address)
        user = await self._store.get_user_by_email(email)
        stored_hash = user.password_hash if user is not None else ""
        # An account without a password (single sign-on) is checked against the dummy: as slow, never valid.
        valid = await self._verify_password(stored_hash or self._dummy_hash, password) and bool(stored_hash)
        if user is None or not valid:
            await self._throttle.failed(email)
            raise _unauthorized("The email or password is wrong.", "invalid_credentials")
        await self._throttle.succeeded(email, address)
        refuse_disabled(user)
        if self._hasher.check_needs_rehash(user.password_hash):
            user.password_hash = await self.hash_password(password)
            await self._store.update_user(user)
        return user

    async def update_profile(
        self, caller: Caller, name: str | None, password: str | None, current_password: str | None, address: str
    ) -> User:
        """A new password needs the current one (an account without one: a recent sign-in),
        and ends every other session of the user (their live connections included):
        whoever else held one is out."""
        if password is not None:
            _check_new_password(password)
        # The caller's record may come from the cache, which holds no password hash.
        updated = await self._store.get_user(caller.user.id)
        if updated is None:
            raise _unauthorized()
        if password is not None:
            await self._confirm(caller, updated, current_password, address)
            updated.password_hash = await self.hash_password(password)
        if name is not None:
            updated.name = name.strip()
        updated.updated_at = clock.now()
        stored = await self._store.update_user(updated)
        await self._cache.forget(f"user:{caller.user.id}")
        if stored is None:
            raise _unauthorized()
        if password is not None:
            await self._end_other_sessions(caller)
        return stored

    async def confirm_password(self, caller: Caller, password: str | None, address: str) -> None:
        """For what a stolen access token alone must not do (turning two-factor sign-in on,
        a new email, deleting the account): the current password, or for an account that
        has none, a sign-in within ``REAUTHENTICATION_SECONDS``."""
        if current_token_limits() is not None:
            raise ForbiddenError("session_required", "Do this from a signed-in session.")
        user = await self._store.get_user(caller.user.id)
        if user is None:
            raise _unauthorized()
        await self._confirm(caller, user, password, address)

    async def _confirm(self, caller: Caller, user: User, password: str | None, address: str) -> None:
        if user.password_hash:
            if password is None:
                raise InvalidInputError("current_password_required", "Send your current password as current_password.")
            await self._check_current_password(user, password, address)
            return
        signed_in = caller.signed_in_at if caller.token_id is None else None
        if signed_in is None or clock.parse_time(clock.now()).timestamp() - signed_in > REAUTHENTICATION_SECONDS:
            providers = [identity.provider for identity in await self._store.list_identities(user.id)]
            raise ForbiddenError(
                "reauthentication_required",
                "Sign in again to confirm it is you (your account has no password).",
                details={"providers": providers, "max_age_seconds": REAUTHENTICATION_SECONDS},
            )

    async def has_password(self, user_id: str) -> bool:
        user = await self._store.get_user(user_id)
        return user is not None and bool(user.password_hash)

    async def reset_password(self, user_id: str, password: str) -> None:
        """A new password from a reset link (app/services/accounts.py): every session ends."""
        _check_new_password(password)
        user = await self._store.get_user(user_id)
        if user is None:
            raise _unauthorized()
        user.password_hash, user.updated_at = await self.hash_password(password), clock.now()
        await self._store.update_user(user)
        await self._cache.forget(f"user:{user_id}")
        for session_id in await self._store.list_session_families(user_id, clock.now()):
            await self._revoke_session(session_id)

    async def _check_current_password(self, user: User, current_password: str, address: str) -> None:
        # Counted like sign-ins: a stolen access token must not become a way to guess it.
        await self._throttle.check(user.email, address)
        if not await self._verify_password(user.password_hash, current_password):
            await self._throttle.failed(user.email)
            raise ForbiddenError("invalid_password", "The current password is wrong.")

    async def forget_user(self, user_id: str) -> None:
        """Drop the cached record: the next request reads the account as it now is."""
        await self._cache.forget(f"user:{user_id}")

    async def end_all_sessions(self, user_id: str) -> None:
        """Every login session and API token connection of the user ends, live ones on every
        instance too (a disabled account)."""
        await self._cache.forget(f"user:{user_id}")
        for session_id in await self._store.list_session_families(user_id, clock.now()):
            await self._revoke_session(session_id)
        for token in await self._store.list_api_tokens(user_id):
            await announce_session_ended(self._broker, api_token_session_id(token.id))

    async def _end_other_sessions(self, caller: Caller) -> None:
        for session_id in await self._store.list_session_families(caller.user.id, clock.now()):
            if session_id != caller.session_id:
                await self._revoke_session(session_id)

    # -- tokens ----------------------------------------------------------------------
    async def start_session(self, user: User) -> TokenPair:
        return await self._issue_pair(user.id, new_id(), clock.now())

    async def _issue_pair(self, user_id: str, family_id: str, signed_in_at: str | None) -> TokenPair:
        now = datetime.now(UTC)
        refresh_token = REFRESH_PREFIX + secrets.token_urlsafe(32)
        await self._store.create_refresh_token(
            RefreshToken(
                token_hash=hash_refresh_token(refresh_token),
                user_id=user_id,
                family_id=family_id,
                created_at=clock.format_time(now),
                expires_at=clock.format_time(now + timedelta(seconds=self._settings.refresh_token_ttl_seconds)),
                signed_in_at=signed_in_at,
            )
        )
        return TokenPair(
            self._encode_access(user_id, family_id, now, signed_in_at),
            refresh_token,
            self._settings.access_token_ttl_seconds,
        )

    def _encode_access(self, user_id: str, session_id: str, now: datetime, signed_in_at: str | None) -> str:
        claims: dict[str, object] = {
            "iss": self._settings.jwt_issuer,
            "aud": ACCESS_AUDIENCE,
            "sub": user_id,
            "sid": session_id,
            "jti": secrets.token_urlsafe(12),
            "iat": int(now.timestamp()),
            "exp": int(now.timestamp()) + self._settings.access_token_ttl_seconds,
        }
        if signed_in_at is not None:  # sessions started before it was recorded have none
            claims["auth_time"] = int(clock.parse_time(signed_in_at).timestamp())
        return jwt.encode(claims, self._access_key, algorithm=ALGORITHM, headers={"typ": ACCESS_TYPE})

    async def rotate(self, refresh_token: str) -> tuple[TokenPair, User]:
        at = clock.now()
        stored, spent_now = await self._store.spend_refresh_token(hash_refresh_token(refresh_token), at)
        if stored is None:
            raise _unauthorized("The refresh token is not valid.", "invalid_refresh_token")
        if stored.revoked:
            raise _unauthorized("This session has ended; sign in again.", "session_revoked")
        if not spent_now:
            log.warning("refresh token reuse detected; revoking session %s", stored.family_id)
            await self._revoke_session(stored.family_id)
            raise _unauthorized("This refresh token was already used; the session is revoked.", "refresh_token_reused")
        if stored.expires_at <= at:
            raise _unauthorized("The refresh token has expired; sign in again.", "refresh_token_expired")
        user = await self._store.get_user(stored.user_id)
        if user is None:
            raise _unauthorized("The account no longer exists.", "invalid_refresh_token")
        refuse_disabled(user)
        pair = await self._issue_pair(user.id, stored.family_id, stored.signed_in_at)
        # A replay racing this call may have revoked the family after our spend but before
        # the new token was stored, so its revocation missed that token. The store marks the
        # session revoked before (or with) its refresh tokens: seeing no mark here means any
        # later revocation still covers the new token.
        if await self._store.session_revoked(stored.family_id, clock.now()):
            await self._store.revoke_refresh_family(stored.family_id)
            raise _unauthorized("This refresh token was already used; the session is revoked.", "refresh_token_reused")
        return pair, user

    async def logout(self, refresh_token: str | None, caller: Caller | None) -> None:
        """End the session of the refresh token (and of the access token, if one was sent)."""
        sessions: set[str] = set()
        if refresh_token:
            stored, _ = await self._store.spend_refresh_token(hash_refresh_token(refresh_token), clock.now())
            if stored is not None:
                sessions.add(stored.family_id)
        if caller is not None and caller.token_id is None:
            sessions.add(caller.session_id)
        for session_id in sessions:
            await self._revoke_session(session_id)

    async def _revoke_session(self, session_id: str) -> None:
        # Access tokens are not stored: a mark that outlives the last of them does it.
        lifetime = self._settings.access_token_ttl_seconds + 60
        until = datetime.now(UTC) + timedelta(seconds=lifetime)
        await self._store.revoke_session(session_id, clock.format_time(until))
        try:
            await self._broker.set_value(REVOKED_SESSION_KEY + session_id, "1", lifetime)
        except BrokerUnavailable:
            self._marks_restored_at = -1  # restored from the store once the broker is back
        await announce_session_ended(self._broker, session_id)

    async def _unrevoked_user(self, session_id: str, user_id: str) -> User | None:
        """The session's user, once the session is known not to be revoked. The revocation
        mark and the cached user are read in one broker round trip."""
        user_key = f"user:{user_id}"
        cached: str | None = None
        try:
            if self._marks_restored_at != self._broker.outages:
                await self._restore_revocation_marks()
            keys = [REVOKED_SESSION_KEY + session_id]
            if self._cache.enabled:
                keys.append(self._cache.shared_key(user_key))
            mark, *rest = await self._broker.get_values(keys)
            revoked = mark is not None
            cached = rest[0] if rest else None
        except BrokerUnavailable:
            # Reads and writes go on without Redis; the store knows every revoked session.
            revoked = await self._store.session_revoked(session_id, clock.now())
        if revoked:
            raise _unauthorized("This session has ended; sign in again.", "session_revoked")
        return await self._cache.settle(
            user_key, cached, USER_TTL_SECONDS, lambda: self._store.get_user(user_id), encode_user, decode_user
        )

    async def _restore_revocation_marks(self) -> None:
        """Copy every live revocation from the store into the broker: any instance may
        have revoked a session while the broker was down, and the broker's answer is
        trusted only once it holds them all."""
        async with self._restoring:
            outages = self._broker.outages
            if self._marks_restored_at == outages:
                return
            now = datetime.now(UTC)
            revoked = await self._store.list_revoked_sessions(clock.format_time(now))
            for session_id, until in revoked:
                remaining = (clock.parse_time(until) - now).total_seconds()
                await self._broker.set_value(REVOKED_SESSION_KEY + session_id, "1", max(remaining, 1.0))
            self._marks_restored_at = outages
            log.info("%d session revocations copied from the store into the broker", len(revoked))

    async def authenticate(self, access_token: str) -> Caller:
        """The caller behind an access JWT or a personal API token (``twp_...``). Also binds
        the caller's token limits to the current context (the request, or the WebSocket
        connection and the tasks it starts afterwards), so every board check applies them."""
        if is_api_token(access_token):
            caller = await self._authenticate_api_token(access_token)
        else:
            caller = await self._authenticate_jwt(access_token)
        bind_token_limits(caller.limits)
        ACTING_TOKEN.set(None if caller.token_id is None else acting_token(caller.token_id, caller.token_name or ""))
        return caller

    async def _authenticate_api_token(self, secret: str) -> Caller:
        token = await verify_api_token(self._store, self._broker, secret)
        user = await self._cache.get_or_load(
            f"user:{token.user_id}",
            USER_TTL_SECONDS,
            lambda: self._store.get_user(token.user_id),
            encode_user,
            decode_user,
        )
        if user is None:
            raise _unauthorized("The account no longer exists.", "invalid_token")
        refuse_disabled(user)
        expires_at = None if token.expires_at is None else clock.parse_time(token.expires_at).timestamp()
        return Caller(
            user=user,
            session_id=api_token_session_id(token.id),
            token_id=token.id,
            token_name=token.name,
            limits=token_limits(token),
            expires_at=expires_at,
        )

    async def _authenticate_jwt(self, access_token: str) -> Caller:
        try:
            if (claims := self._verified.get(access_token)) is None:
                header = jwt.get_unverified_header(access_token)
                if header.get("typ") != ACCESS_TYPE:
                    raise jwt.InvalidTokenError("wrong token type")
                claims = jwt.decode(
                    access_token,
                    self._access_key,
                    algorithms=[ALGORITHM],
                    audience=ACCESS_AUDIENCE,
                    issuer=self._settings.jwt_issuer,
                    options={"require": ["exp", "iat", "sub", "jti", "iss", "aud", "sid"]},
                )
                self._verified.remember(access_token, claims)
        except jwt.ExpiredSignatureError:
            raise _unauthorized("The access token has expired.", "token_expired") from None
        except jwt.InvalidTokenError:
            raise _unauthorized("The access token is not valid.", "invalid_token") from None
        subject, session_id = claims["sub"], claims["sid"]
        if not isinstance(subject, str) or not isinstance(session_id, str):
            raise _unauthorized("The access token is not valid.", "invalid_token")
        user = await self._unrevoked_user(session_id, subject)
        if user is None:
            raise _unauthorized("The account no longer exists.", "invalid_token")
        refuse_disabled(user)
        auth_time = claims.get("auth_time")
        signed_in_at = float(auth_time) if isinstance(auth_time, int) else None
        return Caller(user=user, session_id=session_id, expires_at=float(claims["exp"]), signed_in_at=signed_in_at)
