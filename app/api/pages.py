"""The dashboard's HTML routes. Every page is the same app shell: the client routes with
the History API, so a reload or a shared link of any of these paths lands in the right view.

The shell has no inline script or style, so it holds under the strict
Content-Security-Policy that every response carries.
"""

from __future__ import annotations

from quart import Blueprint, Response, render_template
from quart_schema import hide

blueprint = Blueprint("pages", __name__)


async def _app_shell() -> Response:
    response = Response(await render_template("app.html"), content_type="text/html; charset=utf-8")
    # The shell is tiny and names the current assets: always revalidate it.
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.get("/")
@hide
async def boards_page() -> Response:
    """The boards list (or the sign-in form)."""
    return await _app_shell()


@blueprint.get("/signin")
@hide
async def signin_page() -> Response:
    """Sign in."""
    return await _app_shell()


@blueprint.get("/signup")
@hide
async def signup_page() -> Response:
    """Create an account."""
    return await _app_shell()


@blueprint.get("/boards/<board_id>")
@hide
async def board_page(board_id: str) -> Response:
    """One board; the client checks membership before showing anything."""
    return await _app_shell()
