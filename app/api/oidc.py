"""/api/v1/auth/sso: single sign-on with OpenID Connect providers (app/services/oidc.py).

The browser goes to ``start``, which sends it to the provider with a binding cookie; the
provider sends it back to ``callback``, which ends in the dashboard: signed in (the same
HttpOnly refresh cookie a password sign-in sets), or on the sign-in page with
``?sso_error=<code>``.
"""

from __future__ import annotations

from pydantic import Field
from quart import Blueprint, Response, request

from app.api.auth import set_refresh_cookie
from app.api.contracts import contract
from app.api.guards import guards, public, rate_limited_per_ip
from app.api.rate_limits import client_ip
from app.api.responses import json_response
from app.api.schemas import ResponseModel
from app.domain.errors import ConflictError, DomainError, UnauthenticatedError
from app.runtime import current_runtime, services
from app.services.oidc import SignOnError

blueprint = Blueprint("sso", __name__, url_prefix="/api/v1/auth/sso")

BINDING_COOKIE = "taskwire_sso"
BINDING_PATH = "/api/v1/auth/sso"


class ProviderOut(ResponseModel):
    id: str
    name: str = Field(description='For the "Sign in with …" button.')
    start_url: str = Field(description="Where the browser goes to sign in with this provider.")


class ProviderList(ResponseModel):
    items: list[ProviderOut]


def _redirect_uri(provider_id: str) -> str:
    base = current_runtime().settings.public_url or request.host_url.rstrip("/")
    return f"{base}{BINDING_PATH}/{provider_id}/callback"


def _to_dashboard(location: str) -> Response:
    return Response("", status=303, headers={"Location": location, "Cache-Control": "no-store"})


def _failed(error: DomainError) -> Response:
    response = _to_dashboard(f"/signin?sso_error={error.code}")
    response.delete_cookie(BINDING_COOKIE, path=BINDING_PATH)
    return response


@blueprint.get("/providers")
@guards(public, rate_limited_per_ip("sso"))
@contract(answers={200: ProviderList})
async def list_providers() -> Response:
    """The single sign-on providers of this instance."""
    items = [
        {"id": provider.id, "name": provider.name, "start_url": f"{BINDING_PATH}/{provider.id}/start"}
        for provider in services().oidc.providers()
    ]
    return json_response({"items": items})


@blueprint.get("/<provider_id>/start")
@guards(public, rate_limited_per_ip("sso"))
async def start_sign_on(provider_id: str) -> Response:
    """Send the browser to the provider (303), with a cookie that binds the sign-in to it.
    ``?reauthenticate=true``: the provider asks the person to sign in again, and the browser
    comes back to the account page (how an account without a password confirms a change)."""
    reauthenticate = request.args.get("reauthenticate") == "true"
    try:
        started = await services().oidc.start(provider_id, _redirect_uri(provider_id), reauthenticate)
    except SignOnError as error:
        return _failed(error)
    response = _to_dashboard(started.authorization_url)
    # Lax: the provider's redirect back is a top-level navigation from another site.
    response.set_cookie(
        BINDING_COOKIE,
        started.binding,
        max_age=600,
        path=BINDING_PATH,
        httponly=True,
        samesite="Lax",
        secure=current_runtime().settings.secure_cookies,
    )
    return response


@blueprint.get("/<provider_id>/callback")
@guards(public, rate_limited_per_ip("sso"))
async def finish_sign_on(provider_id: str) -> Response:
    """Where the provider sends the browser back: the dashboard, signed in (303 to ``/``),
    or its sign-in page with ``?sso_error=<code>``."""
    runtime = current_runtime()
    params = {key: value[:2000] for key, value in request.args.items()}
    try:
        signed = await services().oidc.finish(
            provider_id,
            params,
            request.cookies.get(BINDING_COOKIE),
            _redirect_uri(provider_id),
            client_ip(runtime.settings),
        )
    except (UnauthenticatedError, ConflictError) as error:  # SignOnError, account_disabled, a racing sign-up
        return _failed(error)
    if signed.created:
        await runtime.services.boards.create_personal_board(signed.user)
    pair = await runtime.services.auth.start_session(signed.user)
    response = _to_dashboard(signed.landing)
    response.delete_cookie(BINDING_COOKIE, path=BINDING_PATH)
    set_refresh_cookie(response, pair.refresh_token)
    return response
