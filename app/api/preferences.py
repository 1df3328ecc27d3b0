"""Your notification preferences: /api/v1/preferences (docs/notifications.md)."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response

from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.guards import READ, WRITE, guards
from app.api.preference_schemas import PreferencesOut, PreferencesPatchIn
from app.api.responses import json_response
from app.domain.mail import Preferences, preferences_view
from app.runtime import services

blueprint = Blueprint("preferences", __name__, url_prefix="/api/v1/preferences")

NULL_MEANS_NONE = ("quiet_start", "quiet_end")


def _out(preferences: Preferences) -> dict[str, Any]:
    return {**preferences_view(preferences), "email_enabled": services().preferences.mail_enabled}


@blueprint.get("")
@guards(*READ)
@contract(answers={200: PreferencesOut})
async def get_preferences() -> Response:
    """What reaches you where: per kind of notification (assigned, mentioned, watched, changed,
    due_soon, overdue, added_to_board) the bell (app), an email at once (email), the daily
    digest (digest); quiet hours and the time zone they are in."""
    return json_response(_out(await services().preferences.get(caller().user)))


@blueprint.patch("")
@guards(*WRITE)
@contract(body=PreferencesPatchIn, answers={200: PreferencesOut})
async def update_preferences(data: PreferencesPatchIn) -> Response:
    """Change some of your preferences; what you leave out (or send as null) stays, except
    quiet_start and quiet_end, where null means no quiet hours."""
    changes = {
        name: value
        for name, value in data.model_dump(exclude_unset=True, mode="json").items()
        if value is not None or name in NULL_MEANS_NONE
    }
    return json_response(_out(await services().preferences.update(caller().user, changes)))
