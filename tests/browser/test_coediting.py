"""Two people co-editing one task's description in Chromium, each on a different instance
(two server processes sharing one SQLite file and one real Redis): typing at once, with
deletions, converges to one text with every keystroke; the task's description follows;
one of them offline keeps typing and the texts merge on return; others' cursors show with
their names; Ctrl+Z undoes only my own typing; the Markdown preview is sanitised."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.server import REPO_ROOT
from tests.browser.support import People, Rest, open_board
from tests.support.servers import AppServer, app_servers
from tests.support.services import RedisServer

pytestmark = [pytest.mark.browser, pytest.mark.processes]

SCREENSHOT = REPO_ROOT / "docs" / "screenshots" / "coediting-cursors.png"


@pytest.fixture(scope="module")
def instances(redis: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[AppServer]]:
    workdir = tmp_path_factory.mktemp("coediting")
    with app_servers(
        2, f"sqlite:///{workdir / 'shared.db'}", redis.url, workdir, {"TASKWIRE_DOCUMENT_SETTLE_SECONDS": "0.5"}
    ) as servers:
        yield servers


@pytest.fixture
async def two_sides(chromium: Browser, instances: list[AppServer]) -> AsyncIterator[tuple[People, People, Rest]]:
    first, second = People(chromium, instances[0].url), People(chromium, instances[1].url)
    rest = Rest(instances[0].url)
    yield first, second, rest
    for side in (first, second):
        await side.close()
    await rest.close()
    for side in (first, second):
        side.assert_no_errors()


async def shared_task(rest: Rest, description: str) -> tuple[dict, dict, dict, dict]:
    ada = await rest.register("Ada Lovelace")
    bob = await rest.register("Bob Okafor")
    board = await rest.board(ada, "Launch")
    await rest.add_member(ada, board["id"], bob, "editor")
    task = await rest.task(ada, board["id"], "Launch plan", description=description)
    return ada, bob, board, task


async def open_description(page: Page, title: str):
    await page.get_by_role("button", name=f"Open task: {title}").click()
    editor = page.get_by_test_id("description-editor")
    await expect(editor).to_be_editable()  # writable once the document is open
    return editor


async def both_editing(two_sides, description: str):
    """Ada on the first instance and Bob on the second, each with the shared task's
    description open: (Ada's account, the task, (page, editor) of each)."""
    first, second, rest = two_sides
    ada, bob, board, task = await shared_task(rest, description)
    opened = []
    for side, person, label in ((first, ada, "ada"), (second, bob, "bob")):
        page = await side.page(label)
        await open_board(page, person, board["id"])
        opened.append((page, await open_description(page, "Launch plan")))
    return ada, task, *opened


async def value_of(editor) -> str:
    return await editor.input_value()


async def converge(editors, timeout: float = 20.0) -> str:
    async with asyncio.timeout(timeout):
        while True:
            values = [await value_of(editor) for editor in editors]
            if len(set(values)) == 1:
                return values[0]
            await asyncio.sleep(0.1)


async def type_at(editor, position: str, text: str, delay: float) -> None:
    await editor.focus()
    await editor.press("Control+Home" if position == "start" else "Control+End")
    # Hundreds of keystrokes: more than the default action timeout on a busy machine.
    await editor.press_sequentially(text, delay=delay, timeout=120_000)


async def type_with_corrections(editor, position: str, phrases: list[str], typo: str) -> None:
    """Types each phrase followed by ``typo``, then takes the typo back with Backspace:
    a steady stream of insertions and deletions at one place."""
    await editor.focus()
    await editor.press("Control+Home" if position == "start" else "Control+End")
    for phrase in phrases:
        await editor.press_sequentially(phrase + typo, delay=5, timeout=60_000)
        for _ in typo:
            await editor.press("Backspace")


async def test_two_people_on_two_instances_type_at_once_and_keep_every_keystroke(two_sides) -> None:
    rest = two_sides[2]
    ada, task, (ada_page, ada_editor), (bob_page, bob_editor) = await both_editing(two_sides, "Middle.")

    # Each types about 250 characters in ten phrases, each phrase ending in a three-letter
    # typo taken back with Backspace (30 deletions each), both at once on two instances.
    ada_phrases = [f"Ada writes line {n} of the opening. " for n in range(10)]
    bob_phrases = [f" Bob adds closing remark {n}." for n in range(10)]
    await asyncio.gather(
        type_with_corrections(ada_editor, "start", ada_phrases, "qzx"),
        type_with_corrections(bob_editor, "end", bob_phrases, "kjw"),
    )
    ada_text, bob_text = "".join(ada_phrases), "".join(bob_phrases)
    assert len(ada_text) >= 250 and len(bob_text) >= 250
    final = await converge([ada_editor, bob_editor])
    assert final == ada_text + "Middle." + bob_text

    # Others' cursors show with their names; the list says who else is here. Carol joins
    # with her cursor two lines up, so Ada sees two named cursors besides her own.
    carol = await rest.register("Carol Diaz")
    await rest.add_member(ada, task["board_id"], carol, "editor")
    carol_page = await two_sides[1].page("carol")
    await open_board(carol_page, carol, task["board_id"])
    carol_editor = await open_description(carol_page, "Launch plan")
    await carol_editor.focus()
    await carol_editor.press("Control+End")
    for _ in range(2):
        await carol_editor.press("ArrowUp")
    for name in ("Bob Okafor", "Carol Diaz"):
        await expect(ada_page.get_by_test_id("description-editors")).to_contain_text(name)
    carets = ada_page.get_by_test_id("remote-caret")
    await expect(carets).to_have_count(2)
    await expect(carets.filter(has_text="Bob Okafor")).to_have_count(1)
    await expect(carets.filter(has_text="Carol Diaz")).to_have_count(1)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await ada_page.get_by_test_id("task-dialog").screenshot(path=str(SCREENSHOT))

    # The task's description is the document's text once the burst settles.
    async with asyncio.timeout(20):
        while (await rest.get_task(ada, task["id"]))["description"] != final:
            await asyncio.sleep(0.1)


async def test_typing_offline_merges_when_back_online(two_sides) -> None:
    rest = two_sides[2]
    ada, task, (ada_page, ada_editor), (bob_page, bob_editor) = await both_editing(two_sides, "Agenda:")

    await ada_page.context.set_offline(True)
    await expect(ada_page.get_by_test_id("connection")).not_to_have_attribute("data-state", "live")
    await type_at(ada_editor, "end", " venue (offline)", delay=10)
    await type_at(bob_editor, "start", "Bob: ", delay=10)
    await ada_page.context.set_offline(False)
    final = await converge([ada_editor, bob_editor])
    assert final == "Bob: Agenda: venue (offline)"
    async with asyncio.timeout(20):
        while (await rest.get_task(ada, task["id"]))["description"] != final:
            await asyncio.sleep(0.1)


async def test_undo_takes_back_only_my_own_typing_and_the_preview_is_sanitised(two_sides) -> None:
    _, _, (_, ada_editor), (bob_page, bob_editor) = await both_editing(two_sides, "")

    await type_at(bob_editor, "end", "# Plan\n", delay=5)
    await expect(ada_editor).to_have_value("# Plan\n")
    await type_at(ada_editor, "end", "**bold** <img src=x onerror=alert(1)> [me](javascript:alert(2))", delay=2)
    await converge([ada_editor, bob_editor])
    await ada_editor.press("Control+z")
    await converge([ada_editor, bob_editor])
    assert await value_of(ada_editor) == "# Plan\n"  # Bob's heading stays

    await ada_editor.press("Control+Shift+z")
    await converge([ada_editor, bob_editor])
    await bob_page.get_by_role("button", name="Preview").click()
    preview = bob_page.get_by_test_id("description-preview")
    await expect(preview.get_by_role("heading", name="Plan")).to_be_visible()
    await expect(preview.locator("strong")).to_have_text("bold")
    await expect(preview).to_contain_text("<img src=x onerror=alert(1)>")  # raw HTML is shown, not run
    await expect(preview.locator("img")).to_have_count(0)
    assert await preview.locator("a", has_text="me").get_attribute("href") is None  # DOMPurify dropped it
