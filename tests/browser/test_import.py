"""Importing a board in the dashboard: a CSV file with odd quoting and UTF-8 is chosen, its
columns are mapped (guessed from the header, changeable), the first rows show as they will
import, and a progress bar runs to a report; the new board is then in the list. The
preview is the docs' screenshot."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.server import REPO_ROOT
from tests.browser.support import sign_in

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
CSV = (
    "\ufeffKey,Summary,Notes,Stage,Tags,Target date\r\n"
    'W-1,"Launch page, v2","Copy from ""Marketing""",Backlog,"web; copy",2027-02-01\r\n'
    "W-2,Café menu ☕,Prices in €,In progress,food,\r\n"
    'W-3,"Press kit","Logos,\nphotos",Done,press,2027-03-15\r\n'
)


async def test_a_csv_file_is_mapped_previewed_and_imported_with_a_progress_bar(people, rest) -> None:
    ada = await rest.register("Ada Lovelace")
    page = await people.page("ada")
    await sign_in(page, ada)
    panel = page.get_by_test_id("import")
    await panel.locator("summary").click()
    await panel.get_by_label("A Trello or Planka board export (.json) or a CSV file").set_input_files(
        files=[{"name": "roadmap.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
    )
    preview = panel.get_by_test_id("import-preview")
    await expect(preview.get_by_label("Title", exact=True)).to_have_value("Summary")  # guessed from the header
    await expect(preview.get_by_label("Column", exact=True)).to_have_value("Stage")
    await expect(preview.get_by_label("Due date")).to_have_value("")  # not guessed: chosen by hand below
    await preview.get_by_label("Due date").select_option("Target date")
    sample = preview.get_by_test_id("import-sample")
    await expect(sample.locator("tbody tr")).to_have_count(3)
    await expect(sample.locator("tbody tr").nth(0)).to_contain_text('Launch page, v2Copy from "Marketing"backlog')
    await expect(sample.locator("tbody tr").nth(2)).to_contain_text("Logos,\nphotos")
    await page.screenshot(path=str(SCREENSHOTS / "import-preview.png"), full_page=True)

    await panel.get_by_role("button", name="Import").click()
    await expect(panel.get_by_test_id("import-progress")).to_have_attribute("value", "100")
    await expect(panel.get_by_test_id("import-status")).to_have_text(re.compile(r"^Imported: 1 board, 3 card\.$"))
    await expect(page.get_by_test_id("board-tile").filter(has_text="Imported from CSV")).to_be_visible()
    await page.get_by_test_id("board-tile").filter(has_text="Imported from CSV").locator("a").click()
    await expect(page.get_by_test_id("column-backlog")).to_contain_text("Launch page, v2")
    await expect(page.get_by_test_id("column-in-progress")).to_contain_text("Café menu ☕")
    people.assert_no_errors()
