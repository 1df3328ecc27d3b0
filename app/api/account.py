"""/api/v1/users/me: changing the email, exporting your data, deleting your account
(app/services/account.py). From a signed-in session, with the current password (an account
without one: a recent sign-in, else 403 ``reauthentication_required``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints
from quart import Blueprint, Response

from app.api.auth import COOKIE_NAME, COOKIE_PATH
from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.guards import READ, WRITE, guards, idempotent
from app.api.rate_limits import client_ip
from app.api.responses import json_response, no_content, no_store
from app.api.schemas import Email, ErrorOut, Password, RequestModel, UserOut
from app.domain.views import user_view
from app.runtime import current_runtime, services

blueprint = Blueprint("account", __name__, url_prefix="/api/v1/users/me")

Choice = Annotated[str, StringConstraints(min_length=1, max_length=100)]


_CONFIRMATION = "Your password; an account without one leaves it out and needs a sign-in of the last 10 minutes."


class EmailIn(RequestModel):
    email: Email
    current_password: Password | None = Field(default=None, description=_CONFIRMATION)


class EmailChangeOut(UserOut):
    pending_email: str | None = Field(
        description="The new address, taken once the link emailed to it is followed; null: changed at once."
    )


class DeleteIn(RequestModel):
    current_password: Password | None = Field(default=None, description=_CONFIRMATION)
    boards: dict[Annotated[str, StringConstraints(max_length=100)], Choice] = Field(
        default_factory=dict,
        max_length=500,
        description='For each board you alone own with other members: "delete", or the member id who becomes owner.',
    )


@blueprint.put("/email")
@guards(*WRITE)
@contract(body=EmailIn, answers={200: EmailChangeOut, 409: ErrorOut})
async def put_email(data: EmailIn) -> Response:
    """Change your email; needs ``current_password``. Where this server sends email, the
    account keeps its address until the link emailed to the new one is followed
    (``pending_email``), and the current address is told. Otherwise sign-in uses the new
    address at once (unconfirmed; ``pending_email`` null), or 409 ``email_taken``."""
    runtime = current_runtime()
    user, pending = await runtime.services.account.change_email(
        caller(), data.email, data.current_password, client_ip(runtime.settings)
    )
    return json_response({**user_view(user), "pending_email": pending})


@blueprint.get("/export")
@guards(*READ)
async def export_account() -> Response:
    """Everything that is yours, as one JSON document: your profile, your boards and their
    members, the tasks you created or are assigned to, your comments, your notifications,
    your API tokens (never their secrets)."""
    response = json_response(await services().account.export(caller()))
    response.headers["Content-Disposition"] = 'attachment; filename="taskwire-account.json"'
    return no_store(response)


@blueprint.post("/delete")
@guards(*WRITE, idempotent)
@contract(body=DeleteIn)
async def delete_account(data: DeleteIn) -> Response:
    """Delete your account. A board you alone own with other members needs a choice in
    ``boards`` (409 ``sole_owner_boards`` lists them); your comments stay, by "Deleted user"."""
    runtime = current_runtime()
    await runtime.services.account.delete(caller(), data.current_password, data.boards, client_ip(runtime.settings))
    response = no_content()
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH)
    return response
