"""Attachments over REST, on both stores: upload (multipart, size limit, board quota, type
read from the bytes), list, download with the headers that keep a file from running as a
page, thumbnails, delete; who may do what, and that nobody outside the board learns
anything; the attachment.* events; and clean-up with the task."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.domain.ids import new_id
from app.settings import Settings
from tests.support.apiclient import Account, Api

MAX_BYTES = 20_000
QUOTA = 50_000
BOUNDARY = "taskwire-test-boundary"
HTML = b"<!DOCTYPE html>\n<html><body><script>alert(document.cookie)</script></body></html>\n"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"attachment_max_bytes": MAX_BYTES, "board_attachment_quota_bytes": QUOTA})


def png(width: int = 640, height: int = 480) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 90)).save(out, "PNG")
    return out.getvalue()


def multipart(
    content: bytes, filename: str, content_type: str = "application/octet-stream", name: str = "file"
) -> bytes:
    head = (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    )
    return head.encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode()


async def upload_raw(
    api: Api,
    account: Account,
    task_id: str,
    body: bytes,
    content_type: str = f"multipart/form-data; boundary={BOUNDARY}",
) -> tuple[int, dict]:
    response = await api.client.post(
        f"/api/v1/tasks/{task_id}/attachments",
        data=body,
        headers={**account.headers, "Content-Type": content_type},
    )
    return response.status_code, await response.get_json()


async def upload(
    api: Api, account: Account, task_id: str, content: bytes, filename: str = "file.bin", claimed: str = "image/png"
) -> tuple[int, dict]:
    return await upload_raw(api, account, task_id, multipart(content, filename, claimed))


async def download(api: Api, account: Account, path: str):
    return await api.client.get(path, headers=account.headers)


async def events(api: Api, account: Account, board_id: str, after: int) -> list[dict]:
    return (await api.call("GET", f"/api/v1/boards/{board_id}/events?after={after}", account))[1]["items"]


async def board_seq(api: Api, account: Account, board_id: str) -> int:
    return (await api.call("GET", f"/api/v1/boards/{board_id}", account))[1]["seq"]


async def test_an_image_is_uploaded_listed_downloaded_thumbnailed_and_deleted_with_an_event_each(api: Api) -> None:
    owner = await api.register()
    board = (await api.board(owner))["id"]
    task = await api.task(owner, board)
    seq = await board_seq(api, owner, board)
    image = png()

    status, created = await upload(api, owner, task["id"], image, "photos/Sunset é.png", "application/x-anything")

    assert status == 201, created
    assert created == {
        "id": created["id"],
        "board_id": board,
        "task_id": task["id"],
        "name": "Sunset é.png",
        "content_type": "image/png",
        "size": len(image),
        "has_thumbnail": True,
        "uploaded_by": owner.id,
        "created_at": created["created_at"],
    }
    listed = (await api.call("GET", f"/api/v1/tasks/{task['id']}/attachments", owner))[1]
    assert listed == {"items": [created], "next_cursor": None}
    assert (await api.call("GET", f"/api/v1/attachments/{created['id']}", owner))[1] == created

    response = await download(api, owner, f"/api/v1/attachments/{created['id']}/content")
    assert response.status_code == 200
    assert await response.get_data() == image
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"Sunset _.png\"; filename*=UTF-8''Sunset%20%C3%A9.png"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"

    response = await download(api, owner, f"/api/v1/attachments/{created['id']}/thumbnail")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/webp"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    with Image.open(io.BytesIO(await response.get_data())) as thumbnail:
        assert (thumbnail.format, thumbnail.size) == ("WEBP", (320, 240))

    assert (await api.call("DELETE", f"/api/v1/attachments/{created['id']}", owner))[0] == 204
    assert (await download(api, owner, f"/api/v1/attachments/{created['id']}/content")).status_code == 404
    assert (await api.call("GET", f"/api/v1/tasks/{task['id']}/attachments", owner))[1]["items"] == []

    logged = await events(api, owner, board, seq)
    assert [(event["type"], event["seq"], event["data"]) for event in logged] == [
        ("attachment.added", seq + 1, created),
        ("attachment.deleted", seq + 2, created),
    ]
    # The task's own history (the dialog's) includes them.
    history = (await api.call("GET", f"/api/v1/boards/{board}/events?task_id={task['id']}", owner))[1]["items"]
    assert [event["type"] for event in history] == ["task.created", "attachment.added", "attachment.deleted"]


async def test_html_that_claims_to_be_a_png_is_stored_as_html_and_only_ever_downloaded(api: Api) -> None:
    owner = await api.register()
    task = await api.task(owner, owner.personal_board)

    status, created = await upload(api, owner, task["id"], HTML, "cat.png", "image/png")

    assert status == 201, created
    assert (created["name"], created["content_type"], created["has_thumbnail"]) == ("cat.png", "text/html", False)
    response = await download(api, owner, f"/api/v1/attachments/{created['id']}/content")
    assert await response.get_data() == HTML
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    status, body = await api.call("GET", f"/api/v1/attachments/{created['id']}/thumbnail", owner)
    assert (status, body["error"]["code"]) == (404, "thumbnail_not_found")


async def test_a_file_over_the_limit_gets_413_and_nothing_is_kept(api: Api) -> None:
    owner = await api.register()
    board = owner.personal_board
    task = await api.task(owner, board)
    seq = await board_seq(api, owner, board)

    status, body = await upload(api, owner, task["id"], b"x" * (MAX_BYTES + 1))

    assert (status, body["error"]["code"], body["error"]["details"]) == (
        413,
        "attachment_too_large",
        {"limit": MAX_BYTES},
    )
    # Exactly the limit is allowed.
    status, body = await upload(api, owner, task["id"], b"x" * MAX_BYTES)
    assert (status, body["size"]) == (201, MAX_BYTES)
    assert [event["type"] for event in await events(api, owner, board, seq)] == ["attachment.added"]


async def test_a_body_far_over_the_limit_is_refused_by_its_length_before_it_is_read(api: Api) -> None:
    owner = await api.register()
    task = await api.task(owner, owner.personal_board)
    body = multipart(b"x" * (MAX_BYTES * 10), "big.bin")
    response = await api.client.post(
        f"/api/v1/tasks/{task['id']}/attachments",
        data=body,
        headers={
            **owner.headers,
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(len(body)),
        },
    )
    assert response.status_code == 413
    assert (await response.get_json())["error"]["code"] == "attachment_too_large"


async def test_the_board_quota_counts_every_task_and_a_refused_file_is_413(api: Api) -> None:
    owner = await api.register()
    board = (await api.board(owner))["id"]
    first, second = await api.task(owner, board), await api.task(owner, board)
    for task in (first, second, first):
        assert (await upload(api, owner, task["id"], b"q" * 15_000))[0] == 201

    status, body = await upload(api, owner, second["id"], b"q" * 5_001)

    assert status == 413
    assert body["error"]["code"] == "board_quota_exceeded"
    assert body["error"]["details"] == {"quota": QUOTA, "used": 45_000, "size": 5_001}
    assert (await upload(api, owner, second["id"], b"q" * 5_000))[0] == 201  # exactly full
    # Another board has a quota of its own.
    assert (await upload(api, owner, (await api.task(owner, owner.personal_board))["id"], b"q" * 15_000))[0] == 201


async def test_a_viewer_reads_and_downloads_but_cannot_upload_or_delete(api: Api) -> None:
    owner, viewer = await api.register(), await api.register()
    board = (await api.board(owner))["id"]
    await api.add_member(owner, board, viewer, "viewer")
    task = await api.task(owner, board)
    created = (await upload(api, owner, task["id"], b"plain words\n", "notes.txt"))[1]

    status, body = await upload(api, viewer, task["id"], b"mine")
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, body = await api.call("DELETE", f"/api/v1/attachments/{created['id']}", viewer)
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert len((await api.call("GET", f"/api/v1/tasks/{task['id']}/attachments", viewer))[1]["items"]) == 1
    response = await download(api, viewer, f"/api/v1/attachments/{created['id']}/content")
    assert (response.status_code, await response.get_data()) == (200, b"plain words\n")
    assert created["content_type"] == "text/plain"


async def test_only_the_uploader_or_an_admin_deletes_an_attachment(api: Api) -> None:
    owner, editor, other_editor = await api.register(), await api.register(), await api.register()
    board = (await api.board(owner))["id"]
    await api.add_member(owner, board, editor, "editor")
    await api.add_member(owner, board, other_editor, "editor")
    task = await api.task(owner, board)
    first = (await upload(api, editor, task["id"], b"one"))[1]
    second = (await upload(api, editor, task["id"], b"two"))[1]

    assert (await api.call("DELETE", f"/api/v1/attachments/{first['id']}", other_editor))[0] == 403
    assert (await api.call("DELETE", f"/api/v1/attachments/{first['id']}", editor))[0] == 204
    assert (await api.call("DELETE", f"/api/v1/attachments/{second['id']}", owner))[0] == 204


async def test_someone_outside_the_board_learns_nothing(api: Api) -> None:
    owner, stranger = await api.register(), await api.register()
    board = (await api.board(owner))["id"]
    task = await api.task(owner, board)
    created = (await upload(api, owner, task["id"], png(), "secret.png"))[1]
    unknown = new_id()

    for path in ("", "/content", "/thumbnail"):
        theirs = await api.call("GET", f"/api/v1/attachments/{created['id']}{path}", stranger)
        nobodys = await api.call("GET", f"/api/v1/attachments/{unknown}{path}", stranger)
        assert theirs == nobodys == (404, theirs[1])
        assert theirs[1]["error"]["code"] == "attachment_not_found"
    assert (await api.call("DELETE", f"/api/v1/attachments/{created['id']}", stranger))[0] == 404
    status, body = await api.call("GET", f"/api/v1/tasks/{task['id']}/attachments", stranger)
    assert (status, body["error"]["code"]) == (404, "task_not_found")
    status, body = await upload(api, stranger, task["id"], b"hello")
    assert (status, body["error"]["code"]) == (404, "task_not_found")
    # Still there for the owner, and nothing of the stranger's was added.
    assert [
        item["id"] for item in (await api.call("GET", f"/api/v1/tasks/{task['id']}/attachments", owner))[1]["items"]
    ] == [created["id"]]


async def test_a_body_that_is_not_a_file_upload_is_refused_with_a_clear_code(api: Api) -> None:
    owner = await api.register()
    task = (await api.task(owner, owner.personal_board))["id"]

    status, body = await api.call("POST", f"/api/v1/tasks/{task}/attachments", owner, json={"file": "x"})
    assert (status, body["error"]["code"]) == (415, "multipart_required")
    status, body = await upload_raw(api, owner, task, multipart(b"x", "x.txt", name="other"))
    assert (status, body["error"]["code"]) == (422, "file_required")
    status, body = await upload_raw(api, owner, task, b"--nonsense\r\nno headers at all")
    assert (status, body["error"]["code"]) == (400, "invalid_multipart")
    assert (await api.call("GET", f"/api/v1/tasks/{task}/attachments", owner))[1]["items"] == []


async def test_the_task_list_counts_attachments_and_names_each_cover_image(api: Api) -> None:
    owner = await api.register()
    board = (await api.board(owner))["id"]
    pictured, documented, bare = [await api.task(owner, board, title) for title in ("a", "b", "c")]
    image = (await upload(api, owner, pictured["id"], png(), "cover.png"))[1]
    await upload(api, owner, pictured["id"], b"notes", "notes.txt")
    await upload(api, owner, documented["id"], b"notes", "notes.txt")

    listed = (await api.call("GET", f"/api/v1/boards/{board}/tasks", owner))[1]

    assert listed["attachment_counts"] == {pictured["id"]: 2, documented["id"]: 1, bare["id"]: 0}
    assert listed["attachment_covers"] == {pictured["id"]: image["id"]}


async def test_deleting_the_task_deletes_its_attachments(api: Api) -> None:
    owner = await api.register()
    task = await api.task(owner, owner.personal_board)
    created = (await upload(api, owner, task["id"], b"bye"))[1]

    assert (await api.call("DELETE", f"/api/v1/tasks/{task['id']}", owner))[0] == 204

    assert (await api.call("GET", f"/api/v1/attachments/{created['id']}", owner))[0] == 404
    assert (await download(api, owner, f"/api/v1/attachments/{created['id']}/content")).status_code == 404


async def test_openapi_documents_the_upload_as_multipart_and_the_download_as_bytes(api: Api) -> None:
    spec = await (await api.client.get("/openapi.json")).get_json()
    upload_op = spec["paths"]["/api/v1/tasks/{task_id}/attachments"]["post"]
    body = upload_op["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["file"] and body["properties"]["file"]["format"] == "binary"
    assert {"201", "403", "413", "415"} <= set(upload_op["responses"])
    assert "board_quota_exceeded" in upload_op["responses"]["413"]["description"]
    download = spec["paths"]["/api/v1/attachments/{attachment_id}/content"]["get"]["responses"]["200"]
    assert download["content"]["application/octet-stream"]["schema"]["format"] == "binary"
    thumbnail = spec["paths"]["/api/v1/attachments/{attachment_id}/thumbnail"]["get"]["responses"]["200"]
    assert "image/webp" in thumbnail["content"]
