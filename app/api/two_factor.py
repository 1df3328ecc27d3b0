"""/api/v1/users/me/two-factor: TOTP enrolment, confirmation and switching it off
(app/services/two_factor.py). From a signed-in session only."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from pydantic import Field, StringConstraints
from quart import Blueprint, Response

from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.guards import READ, WRITE, guards, idempotent
from app.api.rate_limits import client_ip
from app.api.responses import json_response, no_content_after, no_store
from app.api.schemas import Password, RequestModel, ResponseModel
from app.runtime import current_runtime, services

blueprint = Blueprint("two_factor", __name__, url_prefix="/api/v1/users/me/two-factor")

Code = Annotated[str, StringConstraints(min_length=1, max_length=20)]


class TwoFactorStatusOut(ResponseModel):
    enabled: bool
    pending: bool = Field(description="Enrolment started and not yet confirmed with a code.")
    recovery_codes_left: int


class EnrolIn(RequestModel):
    password: Password | None = Field(
        default=None,
        description="Your current password: an access token alone cannot turn this on. An account without one "
        "leaves it out and needs a sign-in of the last 10 minutes (else 403 reauthentication_required).",
    )


class EnrolmentOut(ResponseModel):
    secret: str = Field(description="Base32, for typing into an authenticator app by hand.")
    otpauth_uri: str
    qr_svg_data_uri: str = Field(description="The otpauth URI as a QR code: an SVG data: URI for an <img>.")


class CodeIn(RequestModel):
    code: Code = Field(description="The authenticator's 6-digit code (disabling also takes a recovery code).")


class RecoveryCodesOut(ResponseModel):
    recovery_codes: list[str] = Field(description="Each good for one sign-in; shown this once.")


@blueprint.get("")
@guards(*READ)
@contract(answers={200: TwoFactorStatusOut})
async def get_two_factor() -> Response:
    """Whether two-factor sign-in is on, and how many recovery codes are left."""
    status = await services().two_factor.status(caller())
    return json_response(dataclasses.asdict(status))


@blueprint.post("")
@guards(*WRITE, idempotent)
@contract(body=EnrolIn, answers={201: EnrolmentOut})
async def start_enrolment(data: EnrolIn) -> Response:
    """Start enrolment: a new secret and its QR code, pending until confirmed with a code."""
    runtime = current_runtime()
    await runtime.services.auth.confirm_password(caller(), data.password, client_ip(runtime.settings))
    enrolment = await runtime.services.two_factor.start_enrolment(caller())
    return no_store(json_response(dataclasses.asdict(enrolment), 201))


@blueprint.post("/confirm")
@guards(*WRITE, idempotent)
@contract(body=CodeIn, answers={200: RecoveryCodesOut})
async def confirm_enrolment(data: CodeIn) -> Response:
    """Turn two-factor sign-in on with a first code; the answer holds the recovery codes,
    shown this once."""
    codes = await services().two_factor.confirm_enrolment(caller(), data.code)
    return no_store(json_response({"recovery_codes": codes}))


@blueprint.post("/disable")
@guards(*WRITE, idempotent)
@contract(body=CodeIn)
async def disable_two_factor(data: CodeIn) -> Response:
    """Turn two-factor sign-in off; needs a current code or a recovery code."""
    return await no_content_after(services().two_factor.disable(caller(), data.code))
