"""Access JWTs this process has already verified.

A client sends the same access token on every request for its whole lifetime; checking
its HMAC, decoding its base64 and JSON and validating every claim again each time was
the largest cost of authentication. A token seen before is the same string, signed by
the same key, so its claims are as valid as when they were checked, except for expiry,
which is checked again on every use. Revocation is not a property of the token and is
still asked of the broker on every request.
"""

from __future__ import annotations

import time
from typing import Any

CAPACITY = 4096  # tokens in use at once on one instance; beyond that the oldest are verified again


class VerifiedTokens:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._claims: dict[str, dict[str, Any]] = {}

    def get(self, token: str) -> dict[str, Any] | None:
        """The token's claims if it was verified before and has not expired since; else
        None, and the caller verifies it in full (which also says why it fails)."""
        claims = self._claims.get(token)
        if claims is None:
            return None
        # PyJWT's rule, with no leeway: a token is expired once now >= exp.
        if claims["exp"] <= time.time():
            del self._claims[token]
            return None
        return claims

    def remember(self, token: str, claims: dict[str, Any]) -> None:
        if len(self._claims) >= self._capacity:
            del self._claims[next(iter(self._claims))]  # dicts keep insertion order: the oldest
        self._claims[token] = claims
