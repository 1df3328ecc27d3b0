"""Receiving a file: a ``multipart/form-data`` body streamed to an unnamed private file
beside the database, a chunk at a time as it arrives, and cut off with 413 as soon as it
is larger than the limit. werkzeug's sans-I/O ``MultipartDecoder`` (the parser under
Quart's own forms) splits the parts; only the part named ``file`` is kept.

Quart refuses any body over ``MAX_CONTENT_LENGTH`` (``TASKWIRE_MAX_BODY_BYTES``) before a
handler runs, and would read a body whole when asked for it. ``UploadRequest`` lifts that
limit for the one route that streams (a multipart POST to a task's attachments), whose
handler counts the bytes itself; a JSON body there keeps the limit, and nothing else
reads the body of an upload (the idempotency guard fingerprints it without its body).

Quart also moves every chunk the server receives into the request's body queue at once,
however slowly the handler reads it; an upload's body is a ``StreamedBody`` instead, which
holds at most BODY_QUEUE_CHUNKS unread chunks: past that, Quart stops taking chunks from
Hypercorn, Hypercorn stops reading the socket, and TCP slows the client down. Once the
request is over (``finish_request_body``, on every path, errors included) whatever the client
still sends is dropped.

Any other body a handler left unread (a request refused before its body was looked at) is
read to its end before the answer goes out, within ``MAX_CONTENT_LENGTH``: Hypercorn
closes a connection whose request was answered before its body was in, and a client that
sends its next request on it meets a disconnect instead of that request's answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

from quart import Request, Response, current_app, request
from quart.wrappers.request import Body
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from app.api.errors import APIError
from app.private_files import PRIVATE_DIR_MODE
from app.services.attachments import Upload, too_large

UPLOAD_PATH = re.compile(r"/api/v1/tasks/[^/]+/attachments")
FILE_PART = "file"
# Room for the part headers and boundaries around the file: the body may exceed the file
# limit by this much before it is refused without reading the rest.
FORM_OVERHEAD = 64 * 1024
# What the decoder may hold unparsed (a part's headers); the file's data never piles up, as
# the body is fed to it in slices of FEED_BYTES, each parsed before the next.
MAX_UNPARSED = 64 * 1024
FEED_BYTES = 16 * 1024
MAX_PARTS = 8
# Hypercorn hands over at most 64 KiB per chunk: a few MiB at most wait for the handler.
BODY_QUEUE_CHUNKS = 32
# How long the end of a request waits for the rest of a body its handler did not read.
BODY_DRAIN_SECONDS = 5.0


class TrackedBody(Body):
    """Quart's request body, saying whether its end has arrived (the end of the request
    then knows, with no wait, whether a body is left unread), and refused as soon as it
    passes its limit."""

    complete = False
    received = 0

    async def put(self, data: bytes) -> None:
        # Quart checks a body without a Content-Length (chunked) against the limit only once
        # all of it is in, holding every byte till then: a client that never ends one would
        # fill the server's memory. Past the limit it is refused (413) and the rest dropped.
        if self.complete:
            return
        self.received += len(data)
        if self._max_content_length is not None and self.received > self._max_content_length:
            self._must_raise = RequestEntityTooLarge()
            self.set_complete()
            return
        await super().put(data)

    def set_complete(self) -> None:
        self.complete = True
        super().set_complete()


class StreamedBody(TrackedBody):
    def __init__(self, expected_content_length: int | None, max_content_length: int | None) -> None:
        super().__init__(expected_content_length, max_content_length)
        self._unread = 0
        self._room = asyncio.Event()
        self._room.set()
        self._released = False

    async def put(self, data: bytes) -> None:
        await self._room.wait()
        if self._released:
            return  # the request is over: nobody will read this
        self._unread += 1
        if self._unread >= BODY_QUEUE_CHUNKS:
            self._room.clear()
        await super().put(data)

    async def get(self) -> bytes:
        data = await super().get()
        self._unread = max(0, self._unread - 1)
        self._room.set()
        return data

    def release(self) -> None:
        self._released = True
        self._room.set()


async def close_after_an_abandoned_upload(response: Response) -> Response:
    """An upload refused before its end (413, 401, ...) leaves the rest of its body unread,
    so Hypercorn closes the connection after the answer: saying so in the answer keeps a
    client from sending its next request on a connection about to go."""
    body = request.body
    if isinstance(body, StreamedBody) and not body.complete:
        response.headers["Connection"] = "close"
    return response


class UploadRequest(Request):
    body_class = TrackedBody

    def __init__(
        self,
        method: str,
        scheme: str,
        path: str,
        *args: Any,
        max_content_length: int | None = None,
        **kwargs: Any,
    ) -> None:
        headers = args[1] if len(args) > 1 else kwargs.get("headers")
        content_type = str(headers.get("Content-Type", "")) if headers is not None else ""
        self.streams_upload = (
            method == "POST"
            and UPLOAD_PATH.fullmatch(path) is not None
            and content_type.lower().startswith("multipart/form-data")
        )
        if self.streams_upload:
            self.body_class = StreamedBody
        super().__init__(
            method,
            scheme,
            path,
            *args,
            max_content_length=None if self.streams_upload else max_content_length,
            **kwargs,
        )


def streams_upload() -> bool:
    """Whether the current request's body is an upload the handler streams (read it nowhere else)."""
    return getattr(request, "streams_upload", False)


async def finish_request_body(error: BaseException | None = None) -> None:
    """Run at the end of every request (a teardown), before its answer is sent: an upload's
    body stops holding back the server's reads, which would otherwise wait for a handler
    that is gone; any other body is read to its end, so the connection stays usable. A
    coroutine, because Quart hands a plain function to a thread pool: a thread hop on every
    request."""
    body = request.body
    if isinstance(body, StreamedBody):
        body.release()
        return
    if isinstance(body, TrackedBody) and body.complete:
        return  # read already, as nearly every body is: no wait to set up
    length = request.content_length
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if not length or (limit is not None and length > limit):
        # No body; or one refused with 413 and answered at once, whose rest the server reads
        # and drops after the answer, within bounds (app/api/hypercorn_http.py).
        return
    # A client that stops sending is Hypercorn's read_timeout to end, not ours to wait for.
    with contextlib.suppress(Exception):
        await asyncio.wait_for(body, BODY_DRAIN_SECONDS)


@contextlib.asynccontextmanager
async def spool_file(directory: Path) -> AsyncIterator[IO[bytes]]:
    """An unnamed temporary file in ``directory`` (0600, and no name to leave behind)."""
    await asyncio.to_thread(directory.mkdir, mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=directory) as spool:
        yield spool


async def receive_upload(spool: IO[bytes], limit: int, idle_timeout: float) -> Upload:
    """The request's ``file`` part, written to ``spool`` (see spool_file)."""
    boundary = request.mimetype_params.get("boundary", "")
    if not streams_upload() or not boundary:
        raise APIError(
            415,
            "multipart_required",
            f"Send the file as multipart/form-data, in a part named {FILE_PART!r}.",
        )
    if request.content_length is not None and request.content_length > limit + FORM_OVERHEAD:
        raise too_large(limit)  # refused before a byte of it is read
    upload = await _spool_file_part(spool, boundary.encode("latin-1"), limit, idle_timeout)
    spool.seek(0)
    return upload


async def _spool_file_part(spool: IO[bytes], boundary: bytes, limit: int, idle_timeout: float) -> Upload:
    decoder = MultipartDecoder(boundary, MAX_UNPARSED, max_parts=MAX_PARTS)
    name: str | None = None
    writing = False
    size = received = 0
    try:
        async for data in _body_chunks(idle_timeout):
            received += len(data)
            if received > limit + FORM_OVERHEAD:
                raise too_large(limit)
            for start in range(0, len(data), FEED_BYTES) if data else (0,):
                decoder.receive_data(data[start : start + FEED_BYTES] if data else None)
                while not isinstance(event := decoder.next_event(), (NeedData, Epilogue)):
                    if isinstance(event, File) and event.name == FILE_PART and name is None:
                        name, writing = event.filename or "", True
                    elif isinstance(event, (File, Field)):
                        writing = False  # another part: read past it
                    elif isinstance(event, Data) and writing:
                        size += len(event.data)
                        if size > limit:
                            raise too_large(limit)
                        # A write to a local file lands in the page cache: far shorter than
                        # the wait for the next network chunk.
                        spool.write(event.data)
                        writing = event.more_data
    except RequestEntityTooLarge:
        raise too_large(limit) from None
    except ValueError:
        raise APIError(400, "invalid_multipart", "The multipart/form-data body cannot be read.") from None
    if name is None:
        raise APIError(422, "file_required", f"The form has no part named {FILE_PART!r} with a file.")
    return Upload(name=name, file=spool, size=size)


async def _body_chunks(idle_timeout: float) -> AsyncIterator[bytes]:
    """The body as it arrives, then b"" once at its end; a client that sends nothing for
    ``idle_timeout`` seconds gets 408."""
    body = aiter(request.body)
    while True:
        try:
            async with asyncio.timeout(idle_timeout):
                chunk = await anext(body)
        except StopAsyncIteration:
            yield b""
            return
        except TimeoutError:
            raise APIError(408, "request_timeout", "The upload stalled.") from None
        if chunk:
            yield chunk
