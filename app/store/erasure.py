"""Taking a deleted account's personal data out of what stays: the board events and
notifications of boards other people keep. Its id becomes ``DELETED_USER_ID`` wherever it
appears, its email goes, and a view of the user (a member's ``user_id``/``email``/``name``)
is renamed ``DELETED_USER_NAME``. Used by both adapters' ``erase_user``."""

from __future__ import annotations

from typing import Any

from app.domain.models import DELETED_USER_ID, DELETED_USER_NAME


def scrub(value: Any, user_id: str, email: str) -> Any:
    """``value`` (JSON-shaped) without the user's id, email or name in a view of them."""
    if isinstance(value, dict):
        about_user = user_id in (value.get("user_id"), value.get("id"))
        scrubbed = {key: scrub(item, user_id, email) for key, item in value.items()}
        if about_user:
            if "name" in scrubbed:
                scrubbed["name"] = DELETED_USER_NAME
            if "email" in scrubbed:
                scrubbed["email"] = ""
        return scrubbed
    if isinstance(value, list):
        return [scrub(item, user_id, email) for item in value]
    if value == user_id:
        return DELETED_USER_ID
    if isinstance(value, str) and value.lower() == email:
        return ""
    return value


# Lists of people a kept record names: the deleted user leaves them rather than being renamed.
_PEOPLE_LISTS = ("assignees", "mentions")


def _dropped(value: Any, user_id: str) -> Any:
    if isinstance(value, dict):
        return {
            key: [person for person in item if person != user_id]
            if key in _PEOPLE_LISTS and isinstance(item, list)
            else _dropped(item, user_id)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_dropped(item, user_id) for item in value]
    return value


def scrub_kept(value: Any, user_id: str, email: str) -> Any:
    """A kept record (a trashed task's view and its comments' views), as the live ones are
    left: the user gone from assignees and mentions, and otherwise ``scrub``-bed."""
    return scrub(_dropped(value, user_id), user_id, email)
