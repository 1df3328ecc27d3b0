"""Attachments in the dashboard, with two people in two browsers: Ada attaches an image in
the task dialog and Bob sees it appear live, with its thumbnail, in his open dialog and on
the card; he downloads it; the activity feed says what happened; a viewer cannot upload;
Ada deletes it and it leaves Bob's card."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image, ImageDraw
from playwright.async_api import expect

from tests.browser.server import REPO_ROOT
from tests.browser.support import card, open_board

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
TITLE = "Design the launch banner"


def banner_png() -> bytes:
    """A small picture worth a thumbnail: a sky, a sun and a hill."""
    image = Image.new("RGB", (960, 540), (90, 140, 220))
    draw = ImageDraw.Draw(image)
    for y in range(540):
        draw.line([(0, y), (960, y)], fill=(90 + y // 6, 140 + y // 8, 220 - y // 10))
    draw.ellipse((640, 80, 800, 240), fill=(255, 214, 90))
    draw.ellipse((-200, 360, 700, 900), fill=(60, 150, 90))
    draw.ellipse((400, 400, 1300, 1000), fill=(40, 120, 75))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def people_on_a_task(people, rest):
    ada = await rest.register("Ada Lovelace")
    bob = await rest.register("Bob Okafor")
    board = await rest.board(ada, "Launch")
    await rest.add_member(ada, board["id"], bob, "editor")
    task = await rest.task(ada, board["id"], TITLE, description="Hero image for the launch page.")
    pages = {}
    for name, account in (("ada", ada), ("bob", bob)):
        page = await people.page(name)
        await open_board(page, account, board["id"])
        await card(page, TITLE).click()
        pages[name] = page
    return ada, bob, board, task, pages


async def attach(page, name: str, content: bytes, mime: str) -> None:
    section = page.get_by_test_id("task-dialog").get_by_test_id("attachment-section")
    await section.get_by_test_id("attachment-input").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": content}]
    )


async def thumbnail_loaded(image) -> None:
    await expect(image).to_have_attribute("src", re.compile("^blob:"))
    await expect(image).to_have_js_property("complete", True)
    assert await image.evaluate("img => img.naturalWidth") > 0  # decoded: a picture, not a broken image


async def test_an_attached_image_appears_live_with_its_thumbnail_for_the_other_person(people, rest) -> None:
    _, _, _, _, pages = await people_on_a_task(people, rest)
    ada, bob = pages["ada"], pages["bob"]
    picture = banner_png()
    bob_list = bob.get_by_test_id("task-dialog").get_by_test_id("attachments")
    await expect(bob_list).to_contain_text("No files yet.")

    await attach(ada, "banner.png", picture, "image/png")

    # Live in Bob's open dialog: the file, its size and type, and its thumbnail.
    bob_item = bob_list.get_by_test_id("attachment")
    await expect(bob_item).to_have_count(1)
    await expect(bob_item).to_contain_text("banner.png")
    await expect(bob_item).to_contain_text("image/png")
    await thumbnail_loaded(bob_item.get_by_test_id("attachment-thumb"))

    # Bob downloads it: the same bytes, under its name.
    async with bob.expect_download() as downloading:
        await bob_item.get_by_role("button", name="Download banner.png").click()
    download = await downloading.value
    assert download.suggested_filename == "banner.png"
    assert (await download.path()).read_bytes() == picture

    # On both cards: the thumbnail as a cover, and the paperclip's count.
    for page in (ada, bob):
        await page.get_by_test_id("task-dialog").get_by_role("button", name="Close").click()
        task_card = card(page, TITLE)
        await thumbnail_loaded(task_card.get_by_test_id("card-cover"))
        await expect(task_card.get_by_role("img", name="1 attachment")).to_be_visible()
    await expect(bob.get_by_test_id("activity")).to_contain_text(
        "Ada Lovelace attached ‘banner.png’ to ‘Design the launch banner’"
    )

    # Ada deletes it (a second press confirms): it leaves Bob's card.
    await card(ada, TITLE).click()
    ada_item = ada.get_by_test_id("task-dialog").get_by_test_id("attachment")
    await ada_item.get_by_role("button", name="Delete banner.png").click()
    await ada_item.get_by_role("button", name="Confirm: delete banner.png").click()
    await expect(ada.get_by_test_id("task-dialog").get_by_test_id("attachment")).to_have_count(0)
    await expect(card(bob, TITLE).get_by_test_id("card-cover")).to_have_count(0)
    await expect(card(bob, TITLE).get_by_test_id("attachment-count")).to_have_count(0)
    await expect(bob.get_by_test_id("activity")).to_contain_text(
        "Ada Lovelace removed the attachment ‘banner.png’ from ‘Design the launch banner’"
    )


async def test_a_viewer_sees_the_files_but_cannot_attach_and_a_disguised_page_is_only_a_download(people, rest) -> None:
    ada = await rest.register("Ada Lovelace")
    vic = await rest.register("Vic Viewer")
    board = await rest.board(ada, "Launch")
    await rest.add_member(ada, board["id"], vic, "viewer")
    task = await rest.task(ada, board["id"], TITLE)
    page = await people.page("ada")
    await open_board(page, ada, board["id"])
    await card(page, TITLE).click()
    await attach(page, "cat.png", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "image/png")
    item = page.get_by_test_id("task-dialog").get_by_test_id("attachment")
    # Stored as what it is: HTML, with no thumbnail.
    await expect(item).to_contain_text("text/html")
    await expect(item.get_by_test_id("attachment-thumb")).to_have_count(0)

    viewer = await people.page("vic")
    await open_board(viewer, vic, board["id"])
    await card(viewer, TITLE).click()
    dialog = viewer.get_by_test_id("task-dialog")
    await expect(dialog.get_by_test_id("attachment")).to_contain_text("cat.png")
    await expect(dialog.get_by_role("button", name="Attach files")).to_be_hidden()
    await expect(dialog.get_by_role("button", name="Delete cat.png")).to_have_count(0)
    assert task["id"]


async def test_attachment_screenshot(people, rest) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    _, _, _, _, pages = await people_on_a_task(people, rest)
    ada, bob = pages["ada"], pages["bob"]
    await attach(ada, "launch-banner.png", banner_png(), "image/png")
    await attach(
        bob, "copy-notes.txt", b"Headline: Taskwire 2.0 is here.\nSubline: real-time, everywhere.\n", "text/plain"
    )
    dialog = ada.get_by_test_id("task-dialog")
    await expect(dialog.get_by_test_id("attachment")).to_have_count(2)
    await thumbnail_loaded(dialog.get_by_test_id("attachment-thumb"))
    await ada.screenshot(path=str(SCREENSHOTS / "attachment.png"))
