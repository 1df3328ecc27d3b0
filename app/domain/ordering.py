"""Order keys for tasks within a column: strings that sort between any two others, so that
a move rewrites only the moved task, never its siblings.

This is the fractional-indexing scheme of rocicorp/fractional-indexing (after David
Greenspan's): a key is a variable-length "integer" part, whose head letter encodes its
length, followed by a fraction. Appending or prepending increments the integer, so keys
grow logarithmically under the common case (adding at the end of a column); inserting
between two keys extends the fraction. Digits are 0-9A-Za-z, whose ASCII order is the sort
order in SQLite (binary collation) and MongoDB alike.
"""

from __future__ import annotations

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ZERO = DIGITS[0]
_SMALLEST_INTEGER = "A" + _ZERO * 26
FIRST_KEY = "a" + _ZERO


def _midpoint(low: str, high: str | None) -> str:
    """A fraction strictly between fractions ``low`` and ``high`` (None: 1)."""
    if high is not None:
        shared = 0
        while (low[shared] if shared < len(low) else _ZERO) == high[shared]:
            shared += 1
        if shared:
            return high[:shared] + _midpoint(low[shared:], high[shared:])
    low_digit = DIGITS.index(low[0]) if low else 0
    high_digit = DIGITS.index(high[0]) if high is not None else len(DIGITS)
    if high_digit - low_digit > 1:
        return DIGITS[(low_digit + high_digit + 1) // 2]
    if high is not None and len(high) > 1:
        return high[:1]
    return DIGITS[low_digit] + _midpoint(low[1:], None)


def _integer_length(head: str) -> int:
    if "a" <= head <= "z":
        return ord(head) - ord("a") + 2
    if "A" <= head <= "Z":
        return ord("Z") - ord(head) + 2
    raise ValueError(f"invalid order key head {head!r}")


def _split(key: str) -> tuple[str, str]:
    length = _integer_length(key[0])
    if len(key) < length or (key[-1] == _ZERO and len(key) > length):
        raise ValueError(f"invalid order key {key!r}")
    return key[:length], key[length:]


def _step_integer(integer: str, step: int) -> str | None:
    """The next (step=1) or previous (step=-1) integer part; None past the largest."""
    head, digits = integer[0], list(integer[1:])
    edge, reset = (len(DIGITS) - 1, _ZERO) if step > 0 else (0, DIGITS[-1])
    for index in reversed(range(len(digits))):
        value = DIGITS.index(digits[index])
        if value != edge:
            digits[index] = DIGITS[value + step]
            return head + "".join(digits)
        digits[index] = reset
    # Every digit overflowed: the integer needs one digit more (or one fewer).
    if step > 0:
        if head == "z":
            return None
        head = "a" if head == "Z" else chr(ord(head) + 1)
        return head + (_ZERO * (_integer_length(head) - 1))
    if head == "A":
        return None
    head = "Z" if head == "a" else chr(ord(head) - 1)
    return head + DIGITS[-1] * (_integer_length(head) - 1)


def key_between(before: str | None, after: str | None) -> str:
    """A key strictly between ``before`` and ``after`` (None: open end)."""
    if before is not None and after is not None and not before < after:
        raise ValueError(f"{before!r} is not before {after!r}")
    if before is None and after is None:
        return FIRST_KEY
    if before is None:
        assert after is not None
        integer, fraction = _split(after)
        if integer == _SMALLEST_INTEGER:
            return integer + _midpoint("", fraction)
        if integer < after:
            return integer
        previous = _step_integer(integer, -1)
        assert previous is not None
        return previous
    integer, fraction = _split(before)
    if after is None:
        following = _step_integer(integer, 1)
        return integer + _midpoint(fraction, None) if following is None else following
    after_integer, after_fraction = _split(after)
    if integer == after_integer:
        return integer + _midpoint(fraction, after_fraction)
    following = _step_integer(integer, 1)
    assert following is not None
    return following if following < after else integer + _midpoint(fraction, None)
