"""The one-click unsubscribe link of every notification email (RFC 8058).

GET shows what the link stops and a button; POST stops it: the button, and mail
providers' one-click requests (``List-Unsubscribe=One-Click`` in a form body, sent to the
URL of the ``List-Unsubscribe`` header). The signed token is the only credential needed.
"""

from __future__ import annotations

from quart import Blueprint, Response, render_template, request
from quart_schema import hide

from app.api.guards import guards, rate_limited_per_ip
from app.domain.errors import InvalidInputError
from app.runtime import services

blueprint = Blueprint("unsubscribe", __name__)

WHAT = {
    "assigned": "emails when you are assigned to a task",
    "mentioned": "emails when you are @mentioned",
    "watched": "emails about comments on what you watch",
    "changed": "emails about changes to what you watch",
    "due_soon": "due-date reminders by email",
    "overdue": "overdue notices by email",
    "added_to_board": "emails when you are added to a board",
    "digest": "the daily digest",
}


async def _page(title: str, message: str, token: str | None = None, status: int = 200) -> Response:
    body = await render_template("unsubscribe.html", title=title, message=message, token=token)
    response = Response(body, status=status, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


def _token() -> str:
    return request.args.get("token", "")[:1000]


@blueprint.get("/unsubscribe")
@hide
@guards(rate_limited_per_ip("unsubscribe"))
async def unsubscribe_page() -> Response:
    """What the link stops, and a button that stops it."""
    token = _token()
    read = services().preferences.read_unsubscribe(token)
    if read is None:
        return await _page("Link not valid", "This unsubscribe link is not valid.", status=400)
    return await _page("Unsubscribe", f"Stop {WHAT.get(read[1], 'these emails')}?", token)


@blueprint.post("/unsubscribe")
@hide
@guards(rate_limited_per_ip("unsubscribe"))
async def unsubscribe() -> Response:
    """Stop what the link names; answers the same however often it is used."""
    try:
        what = await services().preferences.unsubscribe(_token())
    except InvalidInputError:
        return await _page("Link not valid", "This unsubscribe link is not valid.", status=400)
    return await _page("Unsubscribed", f"You will no longer get {WHAT.get(what, 'these emails')}.")
