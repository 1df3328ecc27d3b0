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


# Every path the client router knows: the shell is served on each, so a reload or a shared
# link lands in the right view (the client checks membership before showing a board).
# /invite: an invitation link (its token after the #, which never reaches the server).
APP_PATHS = (
    "/",
    "/signin",
    "/signup",
    "/invite",
    "/account",  # two-factor, email, export, deletion, the administrator's panel
    "/boards/<board_id>",
    "/boards/<board_id>/analytics",
    "/preferences",  # notification preferences
    "/forgot-password",  # the account email pages (docs/notifications.md)
    "/reset-password",
    "/verify-email",
)


@hide
async def app_page(**_path_values: str) -> Response:
    return await _app_shell()


for path in APP_PATHS:
    blueprint.add_url_rule(path, "app_page", app_page, methods=["GET"])
