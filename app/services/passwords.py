"""Rules for new passwords (registration, a password change): at least
``MIN_PASSWORD_LENGTH`` characters and none of the most common passwords. Existing
passwords are never checked again: an account whose password predates a rule still signs in.

``common-passwords.txt.gz`` is the list Django ships (20,000 passwords compiled by Royce
Williams from breach corpora, lower-cased and deduplicated; BSD licence). Most entries are
shorter than the minimum; the long ones ("qwerty123456", "password1234", ...) are what it
refuses on top of the length rule.
"""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

from app.domain.errors import InvalidInputError

MIN_PASSWORD_LENGTH = 12
COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt.gz")


@functools.cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError("password_too_short", f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
    if password.strip().lower() in common_passwords():
        raise InvalidInputError(
            "password_too_common", "This is one of the most common passwords, the first ones guessed: choose another."
        )
