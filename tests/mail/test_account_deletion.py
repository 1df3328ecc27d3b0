"""Deleting an account with email on (both stores, a real SMTP server): the account's own
messages, their delivery log, its preferences and watches go; the emails others were sent
about what it did say "Deleted user". Checked by reading every table or collection."""

from __future__ import annotations

import asyncio

from app.domain.mail import MailStatus
from tests.api.test_account import NAME, leave_traces_elsewhere, raw_store_text, shared_world
from tests.mail.conftest import store_of
from tests.support.apiclient import PASSWORD, Account, Api
from tests.support.smtp import SmtpSink


async def all_sent(api: Api, accounts: list[Account], timeout: float = 10.0) -> None:
    """Once every email is sent (the digest's lines stay held)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        mail = [m for account in accounts for m in await store_of(api).list_mail(account.id, 50)]
        if mail and all(m.status in (MailStatus.SENT, MailStatus.HELD) for m in mail):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"mail not all sent: {[(m.kind, m.status) for m in mail]}")


async def test_deleting_leaves_no_personal_data_in_the_mail_of_anyone(
    api: Api, sink: SmtpSink, database_url: str
) -> None:
    zelda, bob, carol, shared, team = await shared_world(api)
    await leave_traces_elsewhere(api, zelda, carol, team)
    status, _ = await api.call("PATCH", "/api/v1/preferences", zelda, json={"digest_hour": 7})
    assert status == 200
    assert (await api.call("PUT", f"/api/v1/boards/{team['id']}/watch", zelda, json={"watching": True}))[0] == 200
    await all_sent(api, [zelda, bob, carol])
    about_zelda = [m for m in await store_of(api).list_mail(carol.id, 50) if m.data.get("actor_name") == NAME]
    assert about_zelda and await store_of(api).list_mail(zelda.id, 50)

    status, _ = await api.call(
        "POST", "/api/v1/users/me/delete", zelda, json={"current_password": PASSWORD, "boards": {shared["id"]: bob.id}}
    )
    assert status == 204

    assert await store_of(api).list_mail(zelda.id, 50) == []
    kept = {m.id: m for m in await store_of(api).list_mail(carol.id, 50)}
    assert {kept[m.id].data["actor_name"] for m in about_zelda} == {"Deleted user"}
    text = await raw_store_text(database_url)
    for trace in ("zelda@example.test", NAME, zelda.id):
        assert trace not in text, trace
