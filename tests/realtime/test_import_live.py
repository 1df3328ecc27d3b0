"""A member an import adds hears of the board live, as one added by hand does: a notification
on their own channel, naming the board and who imported it."""

from __future__ import annotations

import json

from tests.imports.exports import rich_export
from tests.imports.test_import_api import finished, start
from tests.realtime.conftest import LiveApp
from tests.realtime.test_ws_notifications import listed, subscribe_notifications


async def test_a_member_an_import_adds_is_told_of_the_board_live(live: LiveApp) -> None:
    ada, bob = await live.api.register("Ada"), await live.api.register("Bob")
    bob_socket = await live.client(bob)
    assert (await subscribe_notifications(bob_socket))["unread"] == 0

    data = json.dumps(rich_export(bob.email)).encode()
    job = await finished(live.api, ada, (await start(live.api, ada, "trello", data))["id"])
    assert job["state"] == "done" and job["result"]["imported"]["member"] == 1, job

    added = (await bob_socket.recv_type("notification"))["notification"]
    assert (added["type"], added["board_id"], added["board_name"], added["actor"]) == (
        "member.added",
        job["board_id"],
        "Product launch",
        {"id": ada.id, "name": "Ada"},
    )
    assert added["data"] == {"role": "editor"}
    assert (await listed(live, bob))["items"] == [added]
    # Assigned on import too, but an import does not notify the people it assigns.
    assert [message for message in await bob_socket.quiet() if message["type"] == "notification"] == []
    await bob_socket.close()
