"""Read-change-write with compare-and-set, retried: for changes that need no version from
the client (a checklist tick, a column added) and are applied to the record as it is now."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

from app.domain.errors import ConflictError

# More than the writers that realistically race for one task or board at once: each round
# at least one of them wins.
WRITE_ATTEMPTS = 10


async def before_retry(attempt: int, what: str) -> None:
    """Pause a little before attempt ``attempt + 1`` (longer each time, at random, so racing
    writers spread out); after the last attempt, refuse with 409 ``busy``."""
    if attempt >= WRITE_ATTEMPTS - 1:
        raise ConflictError("busy", f"The {what} is changing too fast; try again.")
    await asyncio.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))


async def retried[T](what: str, raced: type[Exception], attempt: Callable[[], Awaitable[T]]) -> T:
    """Run ``attempt`` (read the record, change it, write it if nobody wrote it meanwhile)
    until it is not refused with ``raced``, pausing as ``before_retry`` does."""
    for number in range(WRITE_ATTEMPTS):
        try:
            return await attempt()
        except raced:
            await before_retry(number, what)
    raise AssertionError("unreachable: before_retry refuses after the last attempt")
