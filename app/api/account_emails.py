"""Account emails: confirming an address and resetting a forgotten password
(docs/notifications.md). The links in the emails open /verify-email and /reset-password
in the dashboard, which post their token here."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints
from quart import Blueprint, Response

from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.guards import WRITE, guards, idempotent, public, rate_limited_per_ip
from app.api.responses import json_response, no_content_after
from app.api.schemas import Email, ErrorOut, Password, RequestModel, ResponseModel
from app.runtime import services

blueprint = Blueprint("account_emails", __name__, url_prefix="/api/v1/auth")

Token = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class PasswordResetIn(RequestModel):
    email: Email


class PasswordResetConfirmIn(RequestModel):
    token: Token = Field(description="The token of the link in the email.")
    password: Password


class VerifyEmailIn(RequestModel):
    token: Token


class VerifiedOut(ResponseModel):
    email: str = Field(description="The address now confirmed.")


@blueprint.post("/password-reset")
@guards(public, rate_limited_per_ip("password-reset"))
@contract(body=PasswordResetIn, answers={409: ErrorOut})
async def request_password_reset(data: PasswordResetIn) -> Response:
    """Email a single-use link that sets a new password (the same answer whether or not
    an account has this address: it tells nobody which addresses have one). 409
    ``email_disabled`` when this server sends no email."""
    return await no_content_after(services().account_emails.request_password_reset(data.email))


@blueprint.post("/password-reset/confirm")
@guards(public, rate_limited_per_ip("password-reset"))
@contract(body=PasswordResetConfirmIn)
async def confirm_password_reset(data: PasswordResetConfirmIn) -> Response:
    """Set a new password with the link's token (once, before it expires); every session
    of the account ends. Then sign in with it."""
    return await no_content_after(services().account_emails.reset_password(data.token, data.password))


@blueprint.post("/verify-email")
@guards(public, rate_limited_per_ip("verify-email"))
@contract(body=VerifyEmailIn, answers={200: VerifiedOut})
async def verify_email(data: VerifyEmailIn) -> Response:
    """Confirm the address the link was sent to."""
    return json_response({"email": await services().account_emails.verify_email(data.token)})


@blueprint.post("/verify-email/resend")
@guards(*WRITE, idempotent)
async def resend_verification() -> Response:
    """Send the confirmation link again (nothing is sent once the address is confirmed)."""
    return await no_content_after(services().account_emails.resend_verification(caller().user))
