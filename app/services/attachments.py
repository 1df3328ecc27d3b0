"""Attachments on tasks. Viewers list and download them; editors and up upload; the
uploader or a board admin/owner deletes one. Each write appends its event
(``attachment.added|deleted``, with the attachment as ``data``) in the same store write and
publishes it, like every other board change.

What a file is, is read from its bytes (libmagic, the ``file`` command's database), never
taken from the client's name or Content-Type; a PNG, JPEG, GIF or WebP image also gets a
small WebP thumbnail made here (Pillow), which the dashboard shows on the card.

The bytes arrive through ``Upload``: the edge streams the request body to an unnamed
private file beside the database and hands it over, so no file is ever whole in memory.
"""

from __future__ import annotations

import asyncio
import builtins
import dataclasses
import io
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import IO, Protocol

import magic
from PIL import Image, ImageOps

from app.domain import clock
from app.domain.errors import NotFoundError, TooLargeError
from app.domain.ids import new_id
from app.domain.models import Attachment, AttachmentSummary, EventDraft, Member, Role, Task, User
from app.domain.views import attachment_view
from app.events.publisher import EventPublisher
from app.services.access import check_own_or_admin, checked_task, require_role_or, task_not_found
from app.services.publishing import publish_change
from app.services.watching import WatchService
from app.services.wiring import service
from app.store.base import AttachmentStore, BoardStore, NotFound, QuotaExceeded, TaskStore

# libmagic decides on the start of a file; its own default look-ahead is 1 MiB, but every
# type it tells apart here shows within the first 64 KiB.
SNIFF_BYTES = 64 * 1024
THUMBNAIL_SIZE = (320, 320)
THUMBNAIL_TYPE = "image/webp"
# Images Pillow makes thumbnails of; anything else is only ever a download.
THUMBNAIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}
# Decoding is bounded by pixels, not bytes: a small file may claim a huge canvas.
MAX_THUMBNAIL_SOURCE_PIXELS = 40_000_000
MAX_NAME_LENGTH = 200
DEFAULT_NAME = "attachment"


@dataclasses.dataclass(slots=True)
class Upload:
    """A file as received: its name as the client gave it, and its bytes in a file the
    service may read and seek (the edge closes it)."""

    name: str
    file: IO[bytes]
    size: int


def attachment_not_found() -> NotFoundError:
    return NotFoundError("attachment_not_found", "No such attachment.")


def too_large(limit: int) -> TooLargeError:
    return TooLargeError(
        "attachment_too_large", f"An attachment may have at most {limit} bytes.", details={"limit": limit}
    )


def clean_name(name: str) -> str:
    """The file name without folders or control characters, at most MAX_NAME_LENGTH long."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    printable = "".join(char for char in unicodedata.normalize("NFC", base) if unicodedata.category(char)[0] != "C")
    return printable.strip()[:MAX_NAME_LENGTH].strip() or DEFAULT_NAME


def sniff_content_type(file: IO[bytes]) -> str:
    file.seek(0)
    head = file.read(SNIFF_BYTES)
    file.seek(0)
    content_type: str = magic.from_buffer(head, mime=True)
    return content_type or "application/octet-stream"


def make_thumbnail(file: IO[bytes], content_type: str) -> bytes | None:
    """A WebP of at most THUMBNAIL_SIZE, or None when the file is not an image Pillow can
    safely decode (wrong format, truncated, too many pixels)."""
    image_format = THUMBNAIL_FORMATS.get(content_type)
    if image_format is None:
        return None
    file.seek(0)
    try:
        with Image.open(file, formats=[image_format]) as image:
            if image.width * image.height > MAX_THUMBNAIL_SOURCE_PIXELS:
                return None
            image.draft("RGB", THUMBNAIL_SIZE)  # JPEG decodes at a fraction of its size
            thumbnail = ImageOps.exif_transpose(image)
            thumbnail.thumbnail(THUMBNAIL_SIZE)
            if thumbnail.mode not in ("RGB", "RGBA"):
                thumbnail = thumbnail.convert("RGBA" if "transparency" in thumbnail.info else "RGB")
            out = io.BytesIO()
            thumbnail.save(out, "WEBP", quality=80)
            return out.getvalue()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    finally:
        file.seek(0)


class AttachmentServiceStore(AttachmentStore, BoardStore, TaskStore, Protocol): ...


@service
class AttachmentService:
    max_bytes: int  # of one file: TASKWIRE_ATTACHMENT_MAX_BYTES
    _quota: int  # of a board's files together: TASKWIRE_BOARD_ATTACHMENT_QUOTA_BYTES
    _store: AttachmentServiceStore
    _publisher: EventPublisher
    _watching: WatchService

    async def _attachment_for(self, actor: User, attachment_id: str, needed: Role) -> tuple[Attachment, Member, Task]:
        attachment = await self._store.get_attachment(attachment_id)
        if attachment is None:
            raise attachment_not_found()
        member = await require_role_or(self._store, attachment.board_id, actor.id, needed, attachment_not_found)
        task = await self._store.get_task(attachment.task_id)
        if task is None:
            raise attachment_not_found()  # its task is in the trash: the file waits there with it
        return attachment, member, task

    async def list(
        self, actor: User, task_id: str, after_attachment_id: str | None, limit: int
    ) -> tuple[builtins.list[Attachment], bool]:
        """One page, oldest first, and whether another page follows."""
        await checked_task(self._store, actor, task_id, Role.VIEWER)
        attachments = await self._store.list_attachments(task_id, after_attachment_id, limit + 1)
        return attachments[:limit], len(attachments) > limit

    async def add(self, actor: User, task_id: str, receive: Callable[[], Awaitable[Upload]]) -> Attachment:
        """Check the caller may attach to the task, then ``receive`` the file (so a viewer's
        upload is refused before its body is read), read what it is and store it."""
        task = await checked_task(self._store, actor, task_id, Role.EDITOR)
        upload = await receive()
        if upload.size > self.max_bytes:
            raise too_large(self.max_bytes)
        content_type = await asyncio.to_thread(sniff_content_type, upload.file)
        thumbnail = await asyncio.to_thread(make_thumbnail, upload.file, content_type)
        attachment = Attachment(
            id=new_id(),
            board_id=task.board_id,
            task_id=task.id,
            name=clean_name(upload.name),
            content_type=content_type,
            size=upload.size,
            has_thumbnail=thumbnail is not None,
            uploaded_by=actor.id,
            created_at=clock.now(),
        )
        notify = await self._watching.changed(actor, task, ["attachment_added"], attachment=attachment.name)
        draft = EventDraft(
            "attachment.added", actor.id, attachment.created_at, attachment_view(attachment), notify=notify
        )
        try:
            event = await self._store.create_attachment(attachment, upload.file, thumbnail, self._quota, draft)
        except NotFound:
            raise task_not_found() from None
        except QuotaExceeded as exceeded:
            raise TooLargeError(
                "board_quota_exceeded",
                f"The board's attachments may take {self._quota} bytes together; "
                f"{exceeded.used} are taken, this file has {upload.size}.",
                details={"quota": self._quota, "used": exceeded.used, "size": upload.size},
            ) from None
        await self._publisher.publish(event)
        return attachment

    async def get(self, actor: User, attachment_id: str) -> Attachment:
        return (await self._attachment_for(actor, attachment_id, Role.VIEWER))[0]

    async def open(self, actor: User, attachment_id: str) -> tuple[Attachment, AsyncIterator[bytes]]:
        attachment, _, _ = await self._attachment_for(actor, attachment_id, Role.VIEWER)
        chunks = await self._store.open_attachment(attachment_id)
        if chunks is None:
            raise attachment_not_found()  # deleted meanwhile
        return attachment, chunks

    async def thumbnail(self, actor: User, attachment_id: str) -> bytes:
        await self._attachment_for(actor, attachment_id, Role.VIEWER)
        thumbnail = await self._store.get_attachment_thumbnail(attachment_id)
        if thumbnail is None:
            raise NotFoundError("thumbnail_not_found", "This attachment has no thumbnail (it is not an image).")
        return thumbnail

    async def delete(self, actor: User, attachment_id: str) -> None:
        attachment, member, task = await self._attachment_for(actor, attachment_id, Role.EDITOR)
        check_own_or_admin(
            actor, attachment.uploaded_by, member, "Only its uploader or a board admin can delete an attachment."
        )
        notify = await self._watching.changed(actor, task, ["attachment_removed"], attachment=attachment.name)
        draft = EventDraft("attachment.deleted", actor.id, clock.now(), attachment_view(attachment), notify=notify)
        await publish_change(self._publisher, self._store.delete_attachment(attachment_id, draft), attachment_not_found)

    async def summaries(self, tasks: Sequence[Task]) -> dict[str, AttachmentSummary]:
        """Read with the list, not stored on the task: an attachment never changes its task's version."""
        return await self._store.summarize_attachments([task.id for task in tasks])
