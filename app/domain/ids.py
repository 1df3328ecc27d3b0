"""The one id format: 26 Crockford base32 characters, time-ordered (ULID layout).

Time order keeps index inserts local and gives keyset pagination a stable tie-breaker.
"""

from __future__ import annotations

import os
import socket
import time

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id() -> str:
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10))
    chars = []
    for _ in range(26):
        chars.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id_after(previous: str) -> str:
    """A new id above ``previous``. Plain ids made within one millisecond are not ordered;
    where id order must be creation order, make each id with the one before it."""
    candidate = new_id()
    if candidate > previous:
        return candidate
    value = 0
    for char in previous:
        value = value * 32 + ALPHABET.index(char)
    value += 1
    return "".join(ALPHABET[(value >> (5 * shift)) & 31] for shift in reversed(range(26)))


def lease_owner() -> str:
    """Who holds a lease (mail, webhooks, the trash purge): host and pid first, so whoever
    reads a lease in the database can tell whose it is, then a few random characters."""
    return f"{socket.gethostname()}:{os.getpid()}:{new_id()[-6:]}"
