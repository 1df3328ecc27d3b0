"""Two-factor sign-in with TOTP (RFC 6238, through pyotp): enrol by scanning a QR code
(segno renders it as SVG), confirm with a first code, get ten recovery codes shown once.

- Codes of the step before and after the current one are accepted (clock drift), each at
  most once: the newest step accepted is stored and a code of that step or an older one is
  refused (``use_totp_step``, atomic on both stores).
- Recovery codes are random (50 bits), kept as sha256 hashes only, and single use
  (``use_recovery_code`` removes the hash atomically).
- Every code attempt counts against ``CODE_ATTEMPTS`` per account per ``CODE_WINDOW_SECONDS``
  in the broker, on every instance: past it, 429 ``too_many_code_attempts``.
- Only signing in with a password asks for the code; API tokens are not affected, and a
  signed-in session's access and refresh tokens go on as before.

``clock`` is the time codes are checked against; tests set their own.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

import pyotp
import segno

from app.broker.base import BrokerUnavailable, RateLimiter
from app.domain import clock as clocks
from app.domain.caller import Caller
from app.domain.errors import ConflictError, ForbiddenError, SignInDelayedError, UnauthenticatedError
from app.domain.models import TwoFactor, User
from app.services.wiring import service
from app.store.base import TwoFactorStore

log = logging.getLogger(__name__)

ISSUER = "Taskwire"
RECOVERY_CODES = 10
CODE_ATTEMPTS = 5
CODE_WINDOW_SECONDS = 15 * 60.0
DRIFT_STEPS = 1
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


@dataclass(slots=True, frozen=True)
class Enrolment:
    secret: str
    otpauth_uri: str
    qr_svg_data_uri: str


@dataclass(slots=True, frozen=True)
class TwoFactorStatus:
    enabled: bool
    pending: bool
    recovery_codes_left: int


def _normalise(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _hash_recovery(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _new_recovery_code() -> str:
    chars = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{chars[:5]}-{chars[5:]}"


def _session_only(caller: Caller) -> None:
    if caller.token_id is not None:
        raise ForbiddenError("session_required", "Manage two-factor sign-in from a signed-in session.")


def _wrong_code() -> UnauthenticatedError:
    return UnauthenticatedError("invalid_two_factor_code", "The code is wrong, expired or already used.")


@service
class TwoFactorService:
    _store: TwoFactorStore
    _broker: RateLimiter
    clock: Callable[[], float] = time.time

    async def status(self, caller: Caller) -> TwoFactorStatus:
        factor = await self._store.get_two_factor(caller.user.id)
        enabled = factor is not None and factor.confirmed_at is not None
        return TwoFactorStatus(
            enabled=enabled,
            pending=factor is not None and not enabled,
            recovery_codes_left=len(factor.recovery_hashes) if factor is not None and enabled else 0,
        )

    async def start_enrolment(self, caller: Caller) -> Enrolment:
        """A new secret, pending until confirmed with a code; starting again replaces it."""
        _session_only(caller)
        existing = await self._store.get_two_factor(caller.user.id)
        if existing is not None and existing.confirmed_at is not None:
            raise ConflictError("two_factor_enabled", "Two-factor sign-in is already on; turn it off first.")
        secret = pyotp.random_base32()
        await self._store.put_two_factor(TwoFactor(user_id=caller.user.id, secret=secret, created_at=clocks.now()))
        uri = pyotp.TOTP(secret).provisioning_uri(name=caller.user.email, issuer_name=ISSUER)
        return Enrolment(secret, uri, segno.make(uri, error="m").svg_data_uri(scale=5, border=2))

    async def confirm_enrolment(self, caller: Caller, code: str) -> list[str]:
        """Turn two-factor sign-in on with a first code; returns the recovery codes, which
        are never shown again."""
        _session_only(caller)
        factor = await self._store.get_two_factor(caller.user.id)
        if factor is None or factor.confirmed_at is not None:
            raise ConflictError("no_pending_enrolment", "Start enrolment first.")
        step = await self._matching_step(caller.user.id, factor, code)
        if step is None:
            raise _wrong_code()
        codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
        factor.confirmed_at = clocks.now()
        factor.recovery_hashes = [_hash_recovery(code) for code in codes]
        factor.last_used_step = step
        await self._store.put_two_factor(factor)
        return codes

    async def disable(self, caller: Caller, code: str) -> None:
        _session_only(caller)
        factor = await self._store.get_two_factor(caller.user.id)
        if factor is None:
            return
        if factor.confirmed_at is not None and not await self._accept(caller.user.id, factor, code):
            raise _wrong_code()
        await self._store.delete_two_factor(caller.user.id)

    async def check_sign_in(self, user: User, code: str | None) -> None:
        """After the right password: pass if the account has no second factor or ``code``
        is a good TOTP or recovery code."""
        factor = await self._store.get_two_factor(user.id)
        if factor is None or factor.confirmed_at is None:
            return
        if not code:
            raise UnauthenticatedError(
                "two_factor_required",
                "Enter the code from your authenticator app, or a recovery code.",
                details={"methods": ["totp", "recovery_code"]},
            )
        if not await self._accept(user.id, factor, code):
            raise _wrong_code()

    async def _accept(self, user_id: str, factor: TwoFactor, code: str) -> bool:
        step = await self._matching_step(user_id, factor, code)
        if step is not None:
            return await self._store.use_totp_step(user_id, step)
        return await self._store.use_recovery_code(user_id, _hash_recovery(code))

    async def _matching_step(self, user_id: str, factor: TwoFactor, code: str) -> int | None:
        """The time step whose code ``code`` is (within the drift allowed), counting the attempt."""
        await self._count_attempt(user_id)
        totp = pyotp.TOTP(factor.secret)
        now = self.clock()
        current = int(now // totp.interval)
        candidate = _normalise(code)
        for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
            if step > factor.last_used_step and hmac.compare_digest(totp.generate_otp(step), candidate):
                return step
        return None

    async def _count_attempt(self, user_id: str) -> None:
        try:
            allowed, retry_after = await self._broker.hit_rate_limit(
                f"two-factor-attempts:{user_id}", CODE_ATTEMPTS, CODE_WINDOW_SECONDS
            )
        except BrokerUnavailable:
            log.warning("two-factor code attempt not counted: broker unavailable")
            return
        if not allowed:
            seconds = max(1, math.ceil(retry_after))
            raise SignInDelayedError(
                "too_many_code_attempts",
                f"Too many code attempts for this account; retry in {seconds} s.",
                details={"retry_after": seconds},
                retry_after=seconds,
            )
