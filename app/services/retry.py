"""Read-change-write with compare-and-set, retried: for changes that need no version from
the client (a checklist tick, a column added) and are applied to the record as it is now."""

from __future__ import annotations

import asyncio
import random

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
