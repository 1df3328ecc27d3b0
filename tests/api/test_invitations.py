"""Invitations over REST, on both stores: an admin invites an email without an account,
gets a link once; whoever signs up through it joins with the invited role, once; a
revoked, used or expired link is refused with its own code; each step is an event; while
registration is closed a pending link lets its invited address (and no other) sign up; and
a sender registered with the service (the email hook) gets every new link."""

from __future__ import annotations

from quart import Quart

from app.domain.invitations import Invitation
from app.domain.models import Board, User
from app.runtime import Runtime
from tests.support.apiclient import PASSWORD, Account, Api


def token_of(link: str) -> str:
    return link.split("#", 1)[1]


async def invite(api: Api, admin: Account, board: str, email: str, role: str = "editor") -> dict:
    status, body = await api.call(
        "POST", f"/api/v1/boards/{board}/invitations", admin, json={"email": email, "role": role}
    )
    assert status == 201, body
    return body


async def test_an_invited_newcomer_signs_up_and_joins_with_the_invited_role(api: Api) -> None:
    owner = await api.register("Ada")
    board = (await api.board(owner, name="Launch"))["id"]
    seq = (await api.call("GET", f"/api/v1/boards/{board}", owner))[1]["seq"]
    created = await invite(api, owner, board, "Grace@Example.test", "commenter")

    assert created["link"].startswith("http://") and "/invite#" in created["link"]
    assert (created["email"], created["role"], created["status"]) == ("grace@example.test", "commenter", "pending")
    assert "token_hash" not in created
    listed = (await api.call("GET", f"/api/v1/boards/{board}/invitations", owner))[1]["items"]
    assert [item["id"] for item in listed] == [created["id"]] and "link" not in listed[0]

    token = token_of(created["link"])
    status, preview = await api.call("POST", "/api/v1/invitations/lookup", json={"token": token})
    assert status == 200
    assert (preview["board"], preview["invited_by"], preview["invitation"]["role"]) == (
        {"id": board, "name": "Launch"},
        "Ada",
        "commenter",
    )

    grace = await api.register("Grace", "grace@example.test")
    status, joined = await api.call("POST", "/api/v1/invitations/accept", grace, json={"token": token})
    assert status == 200, joined
    assert (joined["board"]["id"], joined["board"]["role"], joined["member"]["role"]) == (
        board,
        "commenter",
        "commenter",
    )
    members = (await api.call("GET", f"/api/v1/boards/{board}/members", owner))[1]["items"]
    assert {member["user_id"]: member["role"] for member in members}[grace.id] == "commenter"
    assert (await api.call("GET", f"/api/v1/boards/{board}/invitations", owner))[1]["items"] == []

    events = (await api.call("GET", f"/api/v1/boards/{board}/events?after={seq}", owner))[1]["items"]
    assert [event["type"] for event in events] == ["invitation.created", "member.added"]
    assert events[0]["data"]["email"] == "grace@example.test" and "token_hash" not in events[0]["data"]
    assert (events[1]["actor"], events[1]["data"]["invitation_id"]) == (grace.id, created["id"])

    # Single use: the link is spent, for anyone.
    other = await api.register()
    status, body = await api.call("POST", "/api/v1/invitations/accept", other, json={"token": token})
    assert (status, body["error"]["code"]) == (409, "invitation_used")
    status, preview = await api.call("POST", "/api/v1/invitations/lookup", json={"token": token})
    assert preview["invitation"]["status"] == "accepted"


async def test_a_revoked_or_expired_link_is_refused_and_an_unknown_one_is_not_found(app: Quart, api: Api) -> None:
    owner, someone = await api.register(), await api.register()
    board = (await api.board(owner))["id"]
    revoked = await invite(api, owner, board, "a@example.test")
    assert (await api.call("DELETE", f"/api/v1/boards/{board}/invitations/{revoked['id']}", owner))[0] == 204
    status, body = await api.call("DELETE", f"/api/v1/boards/{board}/invitations/{revoked['id']}", owner)
    assert (status, body["error"]["code"]) == (409, "invitation_revoked")
    status, body = await api.call(
        "POST", "/api/v1/invitations/accept", someone, json={"token": token_of(revoked["link"])}
    )
    assert (status, body["error"]["code"]) == (409, "invitation_revoked")

    runtime: Runtime = app.extensions["taskwire"]
    runtime.services.invitations._ttl = -runtime.services.invitations._ttl  # links born expired
    expired = await invite(api, owner, board, "b@example.test")
    status, body = await api.call(
        "POST", "/api/v1/invitations/accept", someone, json={"token": token_of(expired["link"])}
    )
    assert (status, body["error"]["code"]) == (409, "invitation_expired")
    listed = (await api.call("GET", f"/api/v1/boards/{board}/invitations", owner))[1]["items"]
    assert [(item["id"], item["status"]) for item in listed] == [(expired["id"], "expired")]

    for path, account in (("/api/v1/invitations/lookup", None), ("/api/v1/invitations/accept", someone)):
        status, body = await api.call("POST", path, account, json={"token": "no-such-token"})
        assert (status, body["error"]["code"]) == (404, "invitation_not_found")
        status, body = await api.call("POST", path, account, json={"token": "not a token!"})
        assert (status, body["error"]["code"]) == (422, "validation_error")
    assert (await api.call("GET", f"/api/v1/boards/{board}/members", someone))[0] == 404


async def test_with_registration_closed_only_the_invited_email_signs_up_through_a_pending_link(
    app: Quart, api: Api
) -> None:
    admin = await api.register("Ada")
    status, _ = await api.call("PATCH", "/api/v1/admin/instance", admin, json={"registration_open": False})
    assert status == 200
    board = (await api.board(admin, name="Launch"))["id"]
    token = token_of((await invite(api, admin, board, "Newbie@Example.test", "commenter"))["link"])
    revoked = await invite(api, admin, board, "late@example.test")
    assert (await api.call("DELETE", f"/api/v1/boards/{board}/invitations/{revoked['id']}", admin))[0] == 204
    runtime: Runtime = app.extensions["taskwire"]
    runtime.services.invitations._ttl = -runtime.services.invitations._ttl  # links born expired
    expired = await invite(api, admin, board, "slow@example.test")

    def sign_up(email: str, invitation_token: str | None) -> dict:
        body = {"email": email, "password": PASSWORD, "name": "Newbie"}
        return body if invitation_token is None else {**body, "invitation_token": invitation_token}

    for email, link_token in (
        ("newbie@example.test", None),  # no link
        ("someone.else@example.test", token),  # the link, for another address
        ("newbie@example.test", "no-such-token"),
        ("late@example.test", token_of(revoked["link"])),
        ("slow@example.test", token_of(expired["link"])),
    ):
        status, body = await api.call("POST", "/api/v1/auth/register", json=sign_up(email, link_token))
        assert (status, body["error"]["code"]) == (403, "registration_closed"), email
    status, body = await api.call("POST", "/api/v1/auth/register", json=sign_up("newbie@example.test", "not a token!"))
    assert (status, body["error"]["code"]) == (422, "validation_error")

    status, session = await api.call("POST", "/api/v1/auth/register", json=sign_up(" NEWBIE@example.test", token))
    assert status == 201, session
    newbie = {"Authorization": f"Bearer {session['access_token']}"}
    status, joined = await api.call("POST", "/api/v1/invitations/accept", json={"token": token}, headers=newbie)
    assert status == 200 and joined["member"]["role"] == "commenter"
    members = (await api.call("GET", f"/api/v1/boards/{board}/members", admin))[1]["items"]
    assert {member["email"]: member["role"] for member in members}["newbie@example.test"] == "commenter"


async def test_invitations_follow_the_granting_rules_and_refuse_members(api: Api) -> None:
    owner, admin, member = await api.register(), await api.register(), await api.register()
    board = (await api.board(owner))["id"]
    await api.add_member(owner, board, admin, "admin")
    await api.add_member(owner, board, member, "viewer")
    status, body = await api.call(
        "POST", f"/api/v1/boards/{board}/invitations", admin, json={"email": "x@example.test", "role": "owner"}
    )
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, body = await api.call(
        "POST", f"/api/v1/boards/{board}/invitations", admin, json={"email": member.email, "role": "editor"}
    )
    assert (status, body["error"]["code"]) == (409, "already_member")
    # An existing account that is not a member may be invited too; accepting as a member is refused.
    created = await invite(api, admin, board, "someone@example.test")
    status, body = await api.call(
        "POST", "/api/v1/invitations/accept", member, json={"token": token_of(created["link"])}
    )
    assert (status, body["error"]["code"]) == (409, "already_member")
    status, body = await api.call("POST", "/api/v1/invitations/lookup", json={"token": token_of(created["link"])})
    assert body["invitation"]["status"] == "pending"  # still usable by its invitee


class RecordingSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str, str]] = []

    async def send_invitation(self, invitation: Invitation, link: str, board: Board, inviter: User) -> None:
        self.sent.append((invitation.email, link, board.name, inviter.name))


class BrokenSender:
    async def send_invitation(self, invitation: Invitation, link: str, board: Board, inviter: User) -> None:
        raise OSError("mail server down")


async def test_every_registered_sender_gets_the_link_and_a_failing_one_does_not_fail_the_invitation(
    app: Quart, api: Api
) -> None:
    runtime: Runtime = app.extensions["taskwire"]
    recording = RecordingSender()
    runtime.services.invitations.add_sender(BrokenSender())
    runtime.services.invitations.add_sender(recording)
    owner = await api.register("Ada")
    board = (await api.board(owner, name="Launch"))["id"]
    created = await invite(api, owner, board, "new@example.test")
    assert recording.sent == [("new@example.test", created["link"], "Launch", "Ada")]


async def test_an_api_token_held_to_other_boards_cannot_join_through_a_link(api: Api) -> None:
    owner, invitee = await api.register(), await api.register()
    board = (await api.board(owner))["id"]
    link = (await invite(api, owner, board, "invitee@example.test"))["link"]
    status, token = await api.call(
        "POST",
        "/api/v1/tokens",
        invitee,
        json={"name": "ci", "scopes": ["read", "write"], "boards": [invitee.personal_board]},
    )
    assert status == 201, token
    headers = {"Authorization": f"Bearer {token['token']}"}
    status, body = await api.call("POST", "/api/v1/invitations/accept", json={"token": token_of(link)}, headers=headers)
    assert (status, body["error"]["code"]) == (404, "invitation_not_found")
    status, _ = await api.call("POST", "/api/v1/invitations/accept", invitee, json={"token": token_of(link)})
    assert status == 200  # the link was not spent
