"""Request and response models of the notification preferences (see app/api/schemas.py)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from app.api.schemas import RequestModel, ResponseModel, view_of
from app.domain.mail import Channel, NoticeKind, Preferences, zone_exists

ClockTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


def _known_zone(name: str) -> str:
    if not zone_exists(name):
        raise ValueError(f"{name!r} is not an IANA time zone")
    return name


class PreferencesPatchIn(RequestModel):
    channels: dict[NoticeKind, Annotated[list[Channel], Field(max_length=3)]] | None = Field(
        default=None,
        description="Per kind, the channels it reaches you on ([] turns it off); kinds left out keep theirs.",
    )
    time_zone: Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_known_zone)] | None = None
    quiet_start: ClockTime | None = Field(default=None, description="HH:MM; send null with quiet_end to have none.")
    quiet_end: ClockTime | None = None
    reminder_lead_minutes: Annotated[int, Field(ge=5, le=14 * 24 * 60)] | None = None
    digest_hour: Annotated[int, Field(ge=0, le=23)] | None = None


@view_of(Preferences)
class PreferencesOut(ResponseModel):
    email_enabled: bool = Field(description="Whether this server sends email at all (TASKWIRE_SMTP_URL is set).")
