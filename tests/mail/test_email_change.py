"""A new email where the instance sends email, through a real SMTP server (aiosmtpd), on
both stores: the change waits for the link sent to the new address (single use, expiring,
replaced by a later request), the old address is told and keeps signing in until then;
an address another account has gets the same answer and its owner a notice. Registration
while confirmation is required answers the same whether or not the address has an
account. Without SMTP a change applies at once and leaves the address unconfirmed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from app.domain import clock
from app.factory import create_app
from tests.mail.conftest import mail_settings
from tests.mail.test_account_emails import link_token
from tests.support.apiclient import PASSWORD, Account, Api
from tests.support.smtp import SmtpSink


async def change(api: Api, account: Account, email: str, password: str = PASSWORD) -> tuple[int, dict]:
    return await api.call("PUT", "/api/v1/users/me/email", account, json={"email": email, "current_password": password})


async def me(api: Api, account: Account) -> dict:
    status, body = await api.call("GET", "/api/v1/users/me", account)
    assert status == 200, body
    return body


async def signs_in(api: Api, email: str) -> bool:
    status, _ = await api.call("POST", "/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    return status == 200


async def confirm(api: Api, token: str) -> tuple[int, dict]:
    return await api.call("POST", "/api/v1/auth/verify-email", json={"token": token})


async def test_the_new_address_is_taken_once_its_link_is_followed(api: Api, sink: SmtpSink) -> None:
    bob = await api.register("bob")
    old = bob.email
    status, body = await change(api, bob, "Bob.New@Example.test")
    assert status == 200, body
    assert (body["email"], body["pending_email"]) == (old, "bob.new@example.test")
    view = await me(api, bob)
    assert (view["email"], view["pending_email"], view["has_password"]) == (old, "bob.new@example.test", True)

    await sink.wait_for(lambda: len(sink.to("bob.new@example.test")) == 1 and len(sink.to(old)) == 1)
    [link_mail] = sink.to("bob.new@example.test")
    assert link_mail.message["Subject"] == "Confirm your new email address"
    [notice] = sink.to(old)
    assert notice.message["Subject"] == "Your Taskwire email address is being changed"
    assert "bob.new@example.test" in notice.part("plain") and "If this was not you" in notice.part("plain")
    # Until the link is followed, nothing changed.
    assert await signs_in(api, old) and not await signs_in(api, "bob.new@example.test")

    token = link_token(link_mail, "/verify-email")
    status, body = await confirm(api, token)
    assert (status, body) == (200, {"email": "bob.new@example.test"})
    view = await me(api, bob)
    assert (view["email"], view["email_verified"], view["pending_email"]) == ("bob.new@example.test", True, None)
    assert await signs_in(api, "bob.new@example.test") and not await signs_in(api, old)
    status, body = await confirm(api, token)  # single use
    assert (status, body["error"]["code"]) == (422, "invalid_token")


async def test_the_link_expires_and_a_later_request_replaces_it(api: Api, sink: SmtpSink) -> None:
    bob = await api.register("bob")
    assert (await change(api, bob, "first@example.test"))[1]["pending_email"] == "first@example.test"
    assert (await change(api, bob, "second@example.test"))[1]["pending_email"] == "second@example.test"
    await sink.wait_for(lambda: sink.to("first@example.test") and sink.to("second@example.test"))
    first = link_token(sink.to("first@example.test")[0], "/verify-email")
    second = link_token(sink.to("second@example.test")[0], "/verify-email")
    assert (await me(api, bob))["pending_email"] == "second@example.test"
    status, body = await confirm(api, first)
    assert (status, body["error"]["code"]) == (422, "invalid_token")
    assert (await me(api, bob))["email"] == bob.email

    clock.travel(timedelta(days=1, seconds=1))
    try:
        status, body = await confirm(api, second)
        assert (status, body["error"]["code"]) == (422, "invalid_token")
        assert (await me(api, bob))["pending_email"] is None
    finally:
        clock.travel(-timedelta(days=1, seconds=1))
    assert (await me(api, bob))["email"] == bob.email


async def test_a_wrong_password_changes_and_sends_nothing(api: Api, sink: SmtpSink) -> None:
    bob = await api.register("bob")
    status, body = await change(api, bob, "new@example.test", "not the password at all")
    assert (status, body["error"]["code"]) == (403, "invalid_password")
    assert (await me(api, bob))["pending_email"] is None
    assert sink.received == []


async def test_an_address_in_use_gets_the_same_answer_and_its_owner_a_notice(api: Api, sink: SmtpSink) -> None:
    ada = await api.register("ada")
    bob = await api.register("bob")
    status, body = await change(api, bob, ada.email.upper())
    assert (status, body["email"], body["pending_email"]) == (200, bob.email, ada.email)
    assert (await me(api, bob))["pending_email"] == ada.email  # as for a free address
    await sink.wait_for(lambda: len(sink.to(ada.email)) == 1 and len(sink.to(bob.email)) == 1)
    [notice] = sink.to(ada.email)
    assert notice.message["Subject"] == "Someone tried to use your address on Taskwire"
    assert "move another Taskwire account" in notice.part("plain")
    assert "/verify-email" not in notice.part("plain")  # no link that could move Bob's account there
    assert (await me(api, ada))["email"] == ada.email and (await me(api, bob))["email"] == bob.email


async def test_with_required_confirmation_registering_an_address_in_use_answers_as_for_a_new_one(
    database_url: str, tmp_path: Path, sink: SmtpSink
) -> None:
    application = create_app(mail_settings(database_url, tmp_path, sink.url(), email_verification="required"))
    async with application.test_app():
        api = Api(application.test_client())
        first = {"email": "dora@example.test", "password": PASSWORD, "name": "Dora"}
        new = await api.call("POST", "/api/v1/auth/register", json=first)
        again = await api.call("POST", "/api/v1/auth/register", json={**first, "email": "DORA@example.test"})
        assert new == again == (202, {"verification_required": True, "email": "dora@example.test"})
        await sink.wait_for(lambda: len(sink.to("dora@example.test")) == 2)
        subjects = sorted(mail.message["Subject"] for mail in sink.to("dora@example.test"))
        assert subjects == ["Confirm your email address", "Someone tried to use your address on Taskwire"]
        [notice] = [mail for mail in sink.to("dora@example.test") if "tried" in mail.message["Subject"]]
        assert "create a Taskwire account" in notice.part("plain") and "/signin" in notice.part("plain")
        # The second registration created nothing: the first password still signs in once confirmed.
        [link] = [mail for mail in sink.to("dora@example.test") if "Confirm" in mail.message["Subject"]]
        assert (await confirm(api, link_token(link, "/verify-email")))[0] == 200
        assert await signs_in(api, "dora@example.test")


async def test_without_required_confirmation_registering_an_address_in_use_is_told(api: Api, sink: SmtpSink) -> None:
    bob = await api.register("bob")
    status, body = await api.call(
        "POST", "/api/v1/auth/register", json={"email": bob.email, "password": PASSWORD, "name": "Bob"}
    )
    assert (status, body["error"]["code"]) == (409, "email_taken")


async def test_without_smtp_the_change_applies_at_once_unconfirmed(database_url: str, tmp_path: Path) -> None:
    application = create_app(mail_settings(database_url, tmp_path, ""))
    async with application.test_app():
        api = Api(application.test_client())
        ada = await api.register("ada")
        bob = await api.register("bob")
        status, body = await change(api, bob, "bob.moved@example.test")
        assert (status, body["email"], body["pending_email"]) == (200, "bob.moved@example.test", None)
        view = await me(api, bob)
        assert (view["email_verified"], view["pending_email"]) == (False, None)
        assert await signs_in(api, "bob.moved@example.test")
        status, body = await change(api, bob, ada.email)
        assert (status, body["error"]["code"]) == (409, "email_taken")


async def test_once_a_change_is_confirmed_an_older_link_cannot_move_the_account_back(api: Api, sink: SmtpSink) -> None:
    bob = await api.register("bob")
    await change(api, bob, "older@example.test")
    await sink.wait_for(lambda: sink.to("older@example.test"))
    older = link_token(sink.to("older@example.test")[0], "/verify-email")
    await change(api, bob, "newer@example.test")
    await sink.wait_for(lambda: sink.to("newer@example.test"))
    assert (await confirm(api, link_token(sink.to("newer@example.test")[0], "/verify-email")))[0] == 200
    status, body = await confirm(api, older)
    assert (status, body["error"]["code"]) == (422, "invalid_token")
    assert (await me(api, bob))["email"] == "newer@example.test"
