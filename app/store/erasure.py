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
