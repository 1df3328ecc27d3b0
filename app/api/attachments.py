"""Attachments: /api/v1/tasks/<task_id>/attachments (list, upload) and
/api/v1/attachments/<id> (read, delete, its content and thumbnail).

A download is always served as a download: ``Content-Disposition: attachment``, the type
read from its bytes, ``nosniff``, and a Content-Security-Policy that sandboxes it, so a file
opened from its URL can neither run script nor reach this origin. The thumbnail (a WebP
this server made) is served the same way, ``inline``, for the dashboard's cards.
"""

from __future__ import annotations

from urllib.parse import quote

from quart import Blueprint, Response, current_app

from app.api.auth_context import caller
from app.api.contracts import contract
from app.api.cursors import id_paged
from app.api.guards import READ, WRITE, guards, idempotent
from app.api.responses import json_response, no_content_after
from app.api.schemas import AttachmentList, AttachmentOut, PageQuery
from app.api.uploads import receive_upload, spool_file
from app.domain.views import attachment_view
from app.runtime import current_runtime, services
from app.services.attachments import THUMBNAIL_TYPE

blueprint = Blueprint("attachments", __name__, url_prefix="/api/v1")

# Served bytes are never a document of this origin: no script, no plugin, no request.
DOWNLOAD_CSP = "default-src 'none'; sandbox"
# An attachment's bytes never change under its id.
PRIVATE_IMMUTABLE = "private, max-age=86400, immutable"


def content_disposition(kind: str, name: str) -> str:
    """RFC 6266: an ASCII fallback name and the exact one in RFC 5987 encoding."""
    fallback = "".join(char if 32 <= ord(char) < 127 and char not in '"\\' else "_" for char in name)
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _served(response: Response, disposition: str) -> Response:
    response.headers["Content-Disposition"] = disposition
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    response.headers["Cache-Control"] = PRIVATE_IMMUTABLE
    return response


@blueprint.get("/tasks/<task_id>/attachments")
@guards(*READ)
@contract(query=PageQuery, answers={200: AttachmentList})
async def list_attachments(task_id: str, query_args: PageQuery) -> Response:
    """A task's attachments, oldest first, in cursor pages (viewers and up)."""
    return await id_paged(
        "attachments", query_args, attachment_view, services().attachments.list, caller().user, task_id
    )


@blueprint.post("/tasks/<task_id>/attachments")
@guards(*WRITE, idempotent)
@contract(answers={201: AttachmentOut})
async def upload_attachment(task_id: str) -> Response:
    """Attach a file to a task (editors and up): a `multipart/form-data` body with the file in
    a part named `file`. It is streamed to storage, never held whole in memory.

    Larger than `TASKWIRE_ATTACHMENT_MAX_BYTES`: 413 `attachment_too_large`; over the board's
    quota (`TASKWIRE_BOARD_ATTACHMENT_QUOTA_BYTES`): 413 `board_quota_exceeded`. The
    `content_type` is read from the file's bytes, whatever name or type the client gave; an
    image (PNG, JPEG, GIF, WebP) also gets a thumbnail."""
    settings = current_runtime().settings
    timeout = float(current_app.config["BODY_TIMEOUT"])
    async with spool_file(settings.data_dir) as spool:
        attachment = await services().attachments.add(
            caller().user, task_id, lambda: receive_upload(spool, settings.attachment_max_bytes, timeout)
        )
    return json_response(attachment_view(attachment), 201)


@blueprint.get("/attachments/<attachment_id>")
@guards(*READ)
@contract(answers={200: AttachmentOut})
async def get_attachment(attachment_id: str) -> Response:
    """One attachment's record (viewers and up)."""
    return json_response(attachment_view(await services().attachments.get(caller().user, attachment_id)))


@blueprint.get("/attachments/<attachment_id>/content")
@guards(*READ)
async def download_attachment(attachment_id: str) -> Response:
    """The attachment's bytes, as a download (viewers and up): `Content-Disposition:
    attachment`, its `content_type`, `X-Content-Type-Options: nosniff` and a sandboxing
    Content-Security-Policy. Streamed a chunk at a time."""
    attachment, chunks = await services().attachments.open(caller().user, attachment_id)
    response = Response(chunks, status=200, content_type=attachment.content_type)
    response.headers["Content-Length"] = str(attachment.size)
    return _served(response, content_disposition("attachment", attachment.name))


@blueprint.get("/attachments/<attachment_id>/thumbnail")
@guards(*READ)
async def attachment_thumbnail(attachment_id: str) -> Response:
    """An image attachment's thumbnail, a WebP of at most 320 x 320 made by the server
    (viewers and up); 404 `thumbnail_not_found` for other files."""
    thumbnail = await services().attachments.thumbnail(caller().user, attachment_id)
    return _served(Response(thumbnail, status=200, content_type=THUMBNAIL_TYPE), "inline")


@blueprint.delete("/attachments/<attachment_id>")
@guards(*WRITE)
async def delete_attachment(attachment_id: str) -> Response:
    """Delete an attachment and its bytes: its uploader, or a board admin or owner."""
    return await no_content_after(services().attachments.delete(caller().user, attachment_id))
