"""Failed password checks per account, counted in the broker so that every instance sees
the same count.

The per-IP limit (``app/api/rate_limits.py``) slows one client down; many clients (a
botnet) guessing one account's password need a limit per account. Within ``WINDOW_SECONDS``
an account may get ``FREE_FAILURES`` wrong passwords at no cost; each further one makes the
account wait before its next attempt, for ``FIRST_DELAY_SECONDS`` and twice as long each
time after, up to ``MAX_DELAY_SECONDS``. While it waits, an attempt is answered 429 with
``Retry-After`` before its password is checked, so guesses made then tell nothing. Once the
delay is over the right password works, whatever happened before.

A delay, never a lock-out: the delay holds up strangers only. An address the account has
signed in (or registered) from before (``KNOWN_ADDRESS_SECONDS``) is not made to wait, so someone failing on
purpose cannot keep the owner out; that address still has its per-IP limit.

Unknown emails are counted like known ones: the answers never tell whether an account exists.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from typing import Protocol

from app.broker.base import BrokerUnavailable, RateLimiter, SharedValues
from app.domain.errors import SignInDelayedError
from app.observability import metrics
from app.services.wiring import service

log = logging.getLogger(__name__)

FREE_FAILURES = 5
WINDOW_SECONDS = 15 * 60.0
FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 60.0
KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600.0
METRIC_SCOPE = "login-account"


def _digest(text: str) -> str:
    # Keys name no email or address in the broker.
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class LoginThrottleBroker(RateLimiter, SharedValues, Protocol): ...


@service
class LoginThrottle:
    _broker: LoginThrottleBroker

    async def check(self, email: str, address: str) -> None:
        """Refuse (429) an attempt on ``email`` while its account is made to wait."""
        account = _digest(email)
        try:
            until = await self._broker.get_value(f"login-delay:{account}")
            if until is None or await self._broker.get_value(f"login-known:{account}:{_digest(address)}"):
                return
        except BrokerUnavailable:
            log.warning("per-account sign-in limit not checked: broker unavailable")
            return
        seconds = max(1, math.ceil(float(until) - time.time()))
        metrics.RATE_LIMITED.labels(METRIC_SCOPE).inc()
        raise SignInDelayedError(
            "too_many_failed_sign_ins",
            f"Too many wrong passwords for this account; retry in {seconds} s.",
            details={"retry_after": seconds},
            retry_after=seconds,
        )

    async def failed(self, email: str) -> None:
        """Count a wrong password; past the free ones, make the account wait."""
        account = _digest(email)
        try:
            free, _ = await self._broker.hit_rate_limit(f"login-failures:{account}", FREE_FAILURES, WINDOW_SECONDS)
            if free:
                return
            # Read, then write: two failures racing on two instances may both take the same
            # step, so the delay grows a step slower; it never fails to start.
            strikes = int(await self._broker.get_value(f"login-strikes:{account}") or 0)
            delay = min(FIRST_DELAY_SECONDS * 2 ** min(strikes, 32), MAX_DELAY_SECONDS)
            await self._broker.set_value(f"login-strikes:{account}", str(strikes + 1), WINDOW_SECONDS)
            await self._broker.set_value(f"login-delay:{account}", repr(time.time() + delay), delay)
        except BrokerUnavailable:
            log.warning("failed sign-in not counted: broker unavailable")

    async def succeeded(self, email: str, address: str) -> None:
        """The owner got in (or registered) from ``address``: it is not made to wait from now on."""
        account = _digest(email)
        try:
            # The strikes stay: the owner getting in says nothing about the guessing stopping.
            await self._broker.set_value(f"login-known:{account}:{_digest(address)}", "1", KNOWN_ADDRESS_SECONDS)
        except BrokerUnavailable:
            log.warning("successful sign-in not noted: broker unavailable")
