"""/api/v1/admin: the instance administrator's accounts list, account switch and instance
switches and figures (app/services/admin.py)."""

from __future__ import annotations

import dataclasses

from quart import Blueprint, Response

from app.api.admin_schemas import AccountList, AccountOut, AccountPatchIn, InstanceOut, InstancePatchIn
from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.cursors import cursor_id, encode_cursor
from app.api.guards import READ, WRITE, guards
from app.api.responses import json_response
from app.api.schemas import PageQuery
from app.domain.models import User
from app.domain.views import user_view
from app.runtime import services
from app.services.admin import InstanceState

blueprint = Blueprint("admin", __name__, url_prefix="/api/v1/admin")


async def account_view(user: User) -> dict[str, object]:
    return {**user_view(user), "is_admin": await services().admin.is_admin(user)}


def _instance_view(state: InstanceState) -> dict[str, object]:
    return dataclasses.asdict(state)


@blueprint.get("/accounts")
@guards(*READ)
@contract(query=PageQuery, answers={200: AccountList})
async def list_accounts(query_args: PageQuery) -> Response:
    """Every account of the instance, oldest first (administrator only)."""
    after = cursor_id("accounts", query_args.cursor)
    users, more = await services().admin.list_users(caller(), after, query_args.limit)
    return json_response(
        {
            "items": [await account_view(user) for user in users],
            "next_cursor": encode_cursor("accounts", [users[-1].id]) if more else None,
        }
    )


@blueprint.patch("/accounts/<user_id>")
@guards(*WRITE)
@contract(body=AccountPatchIn, answers={200: AccountOut})
async def patch_account(user_id: str, data: AccountPatchIn) -> Response:
    """Disable an account (its sessions, API tokens and live connections stop at once, on
    every instance) or enable it again (administrator only)."""
    user = await services().admin.set_disabled(caller(), user_id, data.disabled)
    return json_response(await account_view(user))


@blueprint.get("/instance")
@guards(*READ)
@contract(answers={200: InstanceOut})
async def get_instance() -> Response:
    """Whether registration is open, and the instance's figures (administrator only)."""
    return json_response(_instance_view(await services().admin.instance(caller())))


@blueprint.patch("/instance")
@guards(*WRITE)
@contract(body=InstancePatchIn, answers={200: InstanceOut})
async def patch_instance(data: InstancePatchIn) -> Response:
    """Open or close registration (administrator only); invitations and single sign-on
    still create accounts while it is closed."""
    return json_response(_instance_view(await services().admin.switch_registration(caller(), data.registration_open)))
