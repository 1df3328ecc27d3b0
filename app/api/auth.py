"""/api/v1/auth: register, login, refresh (rotation), logout; /api/v1/users/me.

The dashboard keeps its refresh token in an HttpOnly cookie instead of the body: it asks
with ``X-Taskwire-Session: cookie``, which also makes a cross-site forgery impossible (a
custom header cannot be sent cross-origin without a CORS preflight we never grant).
"""

from __future__ import annotations

from quart import Blueprint, Response, request

from app.api.admin import account_view
from app.api.admin_schemas import MeOut
from app.api.auth_context import caller, optional_caller
from app.api.contracts import contract
from app.api.errors import APIError
from app.api.guards import READ, WRITE, guards, public, rate_limited_per_ip
from app.api.rate_limits import client_ip
from app.api.responses import json_response, no_content, no_store
from app.api.schemas import (
    ErrorOut,
    LoginIn,
    RefreshIn,
    RegisterIn,
    SessionOut,
    UserOut,
    UserPatchIn,
)
from app.domain.models import User
from app.domain.views import user_view
from app.runtime import current_runtime, services
from app.services.auth import TokenPair

blueprint = Blueprint("auth", __name__, url_prefix="/api/v1")

COOKIE_NAME = "taskwire_refresh"
COOKIE_PATH = "/api/v1/auth"
COOKIE_MODE_HEADER = "X-Taskwire-Session"


def _wants_cookie() -> bool:
    return request.headers.get(COOKIE_MODE_HEADER, "").lower() == "cookie"


def _session_response(user: User, pair: TokenPair, status: int) -> Response:
    body = {
        "user": user_view(user),
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": "Bearer",
        "expires_in": pair.expires_in,
    }
    cookie = _wants_cookie()
    if cookie:
        body["refresh_token"] = None
    response = no_store(json_response(body, status))
    if cookie:
        set_refresh_cookie(response, pair.refresh_token)
    return response


def set_refresh_cookie(response: Response, refresh_token: str) -> None:
    """The dashboard's session: what a reload (or single sign-on's redirect) restores it from."""
    settings = current_runtime().settings
    response.set_cookie(
        COOKIE_NAME,
        refresh_token,
        max_age=settings.refresh_token_ttl_seconds,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Strict",
        secure=settings.secure_cookies,
    )


def _presented_refresh_token(data: RefreshIn | None) -> str | None:
    if data is not None and data.refresh_token:
        return data.refresh_token
    if _wants_cookie():
        return request.cookies.get(COOKIE_NAME)
    return None


@blueprint.post("/auth/register")
@guards(public, rate_limited_per_ip("register"))
@contract(body=RegisterIn, answers={201: SessionOut, 409: ErrorOut, 403: ErrorOut})
async def register(data: RegisterIn) -> Response:
    """Create an account (with a personal board) and start a session. When the server
    requires confirmed addresses (TASKWIRE_EMAIL_VERIFICATION=required), no session yet:
    202 with ``{"verification_required": true, "email": ...}``, and a confirmation email;
    an address that has an account gets the same answer (its owner is emailed instead),
    so the answer tells nobody which addresses have one. Otherwise 409 ``email_taken``.
    While registration is closed: 403 ``registration_closed``, unless ``invitation_token``
    is a pending invitation to ``email``."""
    runtime = current_runtime()
    services = runtime.services
    invited = data.invitation_token is not None and await services.invitations.admits(data.invitation_token, data.email)
    user = await services.account_emails.register(
        data.email, data.password, data.name, client_ip(runtime.settings), allow_when_closed=invited
    )
    if user is not None:
        await services.boards.create_personal_board(user)
        await services.account_emails.registered(user)
    if user is None or services.account_emails.verification_required:  # no session until the address is confirmed
        return json_response({"verification_required": True, "email": data.email.strip().lower()}, 202)
    return _session_response(user, await services.auth.start_session(user), 201)


@blueprint.post("/auth/login")
@guards(public, rate_limited_per_ip("login"))
@contract(body=LoginIn, answers={200: SessionOut, 401: ErrorOut, 403: ErrorOut})
async def login(data: LoginIn) -> Response:
    """Start a session with email and password (and ``code``, when two-factor sign-in is
    on: without it the answer is 401 ``two_factor_required``)."""
    runtime = current_runtime()
    auth = runtime.services.auth
    user = await auth.login(data.email, data.password, client_ip(runtime.settings))
    await runtime.services.account_emails.check_may_sign_in(user)
    await runtime.services.two_factor.check_sign_in(user, data.code)
    return _session_response(user, await auth.start_session(user), 200)


@blueprint.post("/auth/refresh")
@guards(public, rate_limited_per_ip("refresh"))
@contract(body=RefreshIn, answers={200: SessionOut, 401: ErrorOut})
async def refresh(data: RefreshIn) -> Response:
    """Trade a refresh token (body or dashboard cookie) for a new pair; the old one is spent.
    Presenting a spent token again revokes the whole session."""
    services = current_runtime().services
    token = _presented_refresh_token(data)
    if token is None:
        raise APIError(401, "invalid_refresh_token", "Send the refresh token.")
    pair, user = await services.auth.rotate(token)
    return _session_response(user, pair, 200)


@blueprint.post("/auth/logout")
@guards(public, rate_limited_per_ip("logout"))
@contract(body=RefreshIn)
async def logout(data: RefreshIn) -> Response:
    """End the session: its refresh token and its access tokens stop working at once."""
    await services().auth.logout(_presented_refresh_token(data), await optional_caller())
    response = no_content()
    response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH)
    return response


@blueprint.get("/users/me")
@guards(*READ)
@contract(answers={200: MeOut})
async def get_me() -> Response:
    """The signed-in user (``is_admin``: whether you administer the instance; whether the
    account has a password, its address is confirmed, and a new one waits for its link)."""
    user = caller().user
    return json_response({**await account_view(user), **await services().account.own_view(user)})


@blueprint.patch("/users/me")
@guards(*WRITE)
@contract(body=UserPatchIn, answers={200: UserOut})
async def patch_me(data: UserPatchIn) -> Response:
    """Change your name or password. A new password needs the current one
    (``current_password``) and ends every other session of yours."""
    runtime = current_runtime()
    user = await runtime.services.auth.update_profile(
        caller(), data.name, data.password, data.current_password, client_ip(runtime.settings)
    )
    return json_response(user_view(user))
