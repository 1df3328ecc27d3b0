"""Hostile clients over REST, on both stores: forged and misused tokens, one tenant reaching
for another's data, query-operator injection, malformed and oversized bodies.

What a user would notice if any of these failed: someone else reading or changing their
board, or the service answering 5xx to a request it should simply refuse.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import ipaddress
import json
import math
import os
import secrets
import socket as socket_module
import sqlite3
import stat
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pymongo
import pytest

from app.services.auth import ACCESS_AUDIENCE
from app.webhooks.destinations import DestinationGuard, DestinationRefused, is_public
from tests.realtime.client import WsClient
from tests.reliability.instances import running
from tests.support.apiclient import PASSWORD, Account, Api
from tests.support.app_fixtures import SECRET
from tests.support.servers import AppServer
from tests.support.services import REPO_ROOT

# -- malformed input: refused with 4xx, never a crash ------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/boards"])
async def test_a_body_that_is_not_utf8_is_refused_as_invalid_json(api: Api, path: str) -> None:
    account = await api.register()
    response = await api.client.post(
        path, data=b'{"name": "\xca\xfe"}', headers={**account.headers, "Content-Type": "application/json"}
    )
    body = await response.get_json()
    assert response.status_code == 400 and body["error"]["code"] == "invalid_json"


async def test_a_number_too_long_to_parse_is_refused_as_invalid_json(api: Api) -> None:
    response = await api.client.post(
        "/api/v1/auth/login",
        data='{"email": "a@b.cd", "password": ' + "9" * 5000 + "}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400 and (await response.get_json())["error"]["code"] == "invalid_json"


async def test_an_event_cursor_beyond_64_bits_is_refused_not_a_crash(api: Api) -> None:
    account = await api.register()
    status, body = await api.call("GET", f"/api/v1/boards/{account.personal_board}/events?after={2**64}", account)
    assert status == 422 and body["error"]["code"] == "validation_error"
    status, body = await api.call("GET", f"/api/v1/boards/{account.personal_board}/events?after={2**63 - 1}", account)
    assert status == 200 and body["items"] == []


def _cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


async def test_forged_cursors_on_every_list_are_refused_as_invalid_cursor(api: Api) -> None:
    account = await api.register()
    task = await api.task(account, account.personal_board)
    status, hook = await api.call(
        "POST", f"/api/v1/boards/{account.personal_board}/webhooks", account, json={"url": "https://93.184.215.14/hook"}
    )  # no DNS, no events: never called
    lists = {
        "boards": ("/api/v1/boards", 1),
        "comments": (f"/api/v1/tasks/{task['id']}/comments", 1),
        "notifications": ("/api/v1/notifications", 1),
        "deliveries": (f"/api/v1/boards/{account.personal_board}/webhooks/{hook['id']}/deliveries", 1),
        **{
            f"tasks:{sort}": (f"/api/v1/boards/{account.personal_board}/tasks?sort={sort}", 2)
            for sort in ("position", "-created_at", "-updated_at", "due_at", "priority")
        },
    }
    # What each store would choke on as a query value: an integer beyond 64 bits (SQLite's
    # OverflowError, BSON's too) and a lone surrogate (neither driver encodes it). (A cursor
    # is at most 512 characters: too short to nest past the JSON parser's recursion limit.)
    hostile = [2**63, 2**64, -(2**63) - 1, 10**30, "\ud800", "a\udfffb"]
    refused, tried = [], 0
    for kind, (path, arity) in lists.items():
        separator = "&" if "?" in path else "?"
        cursors = [_cursor(kind, *([value] * arity)) for value in hostile]
        for cursor in cursors:
            tried += 1
            status, body = await api.call("GET", f"{path}{separator}cursor={cursor}", account)
            if (status, body["error"]["code"]) != (400, "invalid_cursor"):
                refused.append((kind, cursor[:40], status, body))
    print(f"forged cursors tried: {tried}; not refused as invalid_cursor: {len(refused)}")
    assert refused == []


NESTED = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/boards", "/api/v1/tokens"])
async def test_a_body_nested_a_hundred_thousand_deep_is_invalid_json(api: Api, path: str) -> None:
    account = await api.register()
    for body in (NESTED, '{"name": ' + NESTED + "}"):
        headers = {**account.headers, "Content-Type": "application/json"}
        response = await api.client.post(path, data=body, headers=headers)
        answer = await response.get_json()
        assert response.status_code == 400 and answer["error"]["code"] == "invalid_json", answer


async def test_times_outside_years_1000_to_9999_are_refused_not_a_crash(api: Api) -> None:
    account = await api.register()
    path = f"/api/v1/boards/{account.personal_board}/tasks"
    for due_at in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0999-06-01T00:00:00Z"):
        status, body = await api.call("POST", path, account, json={"title": "x", "due_at": due_at})
        assert (status, body["error"]["code"]) == (422, "validation_error"), due_at
    status, body = await api.call("POST", path, account, json={"title": "x", "due_at": "1000-01-01T00:00:00Z"})
    assert status == 201 and body["due_at"] == "1000-01-01T00:00:00.000000Z"


async def test_malformed_webhook_urls_are_refused_as_invalid(api: Api) -> None:
    account = await api.register()
    path = f"/api/v1/boards/{account.personal_board}/webhooks"
    for url in (
        "http://[::1/",
        "http://[::1",
        "https://[fe80::1%25eth0/",
        "http://" + "a" * 64 + ".example/",
        "http://a..example/",
        "http://a\u0000b.example/",
        "http://[v1.fe80::1]/",
    ):
        status, body = await api.call("POST", path, account, json={"url": url})
        assert (status, body["error"]["code"]) == (422, "invalid_webhook_url"), (url, body)


# -- server-side requests: a webhook never calls into a private network -------------------

NOT_PUBLIC = [
    "0.0.0.0",
    "10.1.2.3",
    "100.64.0.1",
    "100.127.255.254",
    "127.0.0.1",
    "169.254.169.254",
    "172.16.0.1",
    "192.0.0.8",
    "192.0.2.1",
    "192.88.99.1",
    "192.168.1.1",
    "198.18.0.1",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "::127.0.0.1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a00:1",
    "64:ff9b::7f00:1",
    "64:ff9b:1::1",
    "100::1",
    "2001::1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    "2001:2::1",
    "2001:10::1",
    "2001:20::1",
    "2001:db8::1",
    "2002:a00:1::1",
    "2002:808:808::1",
    "3fff::1",
    "5f00::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "febf::1",
    "fec0::1",
    "fee0::1",
    "feff::1",
    "ff02::1",
    "ff0e::1",
    "4000::1",
    "8000::1",
    "e000::1",
]
PUBLIC = [
    "1.1.1.1",
    "8.8.8.8",
    "93.184.215.14",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
]


def test_every_non_global_range_is_refused_and_public_addresses_are_not() -> None:
    wrongly_allowed = [text for text in NOT_PUBLIC if is_public(ipaddress.ip_address(text))]
    wrongly_refused = [text for text in PUBLIC if not is_public(ipaddress.ip_address(text))]
    assert (wrongly_allowed, wrongly_refused) == ([], [])


async def test_webhooks_to_site_local_and_other_non_global_ipv6_are_refused(api: Api) -> None:
    account = await api.register()
    path = f"/api/v1/boards/{account.personal_board}/webhooks"
    for address in ("fec0::1", "fd00::1", "64:ff9b::7f00:1", "2002:7f00:1::1", "2001::1", "::ffff:10.0.0.1"):
        status, body = await api.call("POST", path, account, json={"url": f"http://[{address}]/hook"})
        assert (status, body["error"]["code"]) == (422, "webhook_url_not_allowed"), address
    assert (await api.call("GET", path, account))[1]["items"] == []


async def test_delivery_time_checks_refuse_site_local_too() -> None:
    guard = DestinationGuard(())
    with pytest.raises(DestinationRefused):
        await guard.resolve("http://[fec0::1]:8080/hook")


# -- credentials: a replayed response never crosses a token's limits ---------------------


async def test_a_board_limited_token_replaying_a_sessions_key_gets_nothing_of_the_other_board(api: Api) -> None:
    owner = await api.register()
    secret_board = (await api.board(owner, "Secret"))["id"]
    status, token = await api.call(
        "POST",
        "/api/v1/tokens",
        owner,
        json={"name": "bot", "scopes": ["read", "write"], "boards": [owner.personal_board]},
    )
    assert status == 201
    body = json.dumps({"title": "launch codes"})
    path = f"/api/v1/boards/{secret_board}/tasks"
    response = await api.client.post(
        path, data=body, headers={**owner.headers, "Content-Type": "application/json", "Idempotency-Key": "k-1"}
    )
    created = await response.get_json()
    assert response.status_code == 201

    replay = await api.client.post(
        path,
        data=body,
        headers={
            "Authorization": f"Bearer {token['token']}",
            "Content-Type": "application/json",
            "Idempotency-Key": "k-1",
        },
    )
    answer = await replay.get_data(as_text=True)
    assert replay.status_code == 404 and json.loads(answer)["error"]["code"] == "board_not_found"
    assert created["id"] not in answer and "launch codes" not in answer
    assert "Idempotent-Replayed" not in replay.headers


# -- tokens: anything but an HS256 access token we signed is refused ---------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(header: dict, claims: dict, sign: Callable[[bytes], bytes]) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}".encode()
    return f"{signing_input.decode()}.{_b64(sign(signing_input))}"


def _claims(user_id: str, **overrides: Any) -> dict:
    now = int(time.time())
    claims = {
        "iss": "taskwire",
        "aud": ACCESS_AUDIENCE,
        "sub": user_id,
        "sid": "S1",
        "jti": secrets.token_hex(6),
        "iat": now,
        "exp": now + 600,
        **overrides,
    }
    return {name: value for name, value in claims.items() if value is not None}


def _hs(key: bytes, digest: str = "sha256") -> Callable[[bytes], bytes]:
    return lambda data: hmac.new(key, data, digest).digest()


class _AttackerRsaKey:
    """An RSA key of the attacker's own, in pure Python (the suite has no crypto library):
    enough to make real RS256 signatures and a real public-key PEM."""

    def __init__(self) -> None:
        e = 65537
        while True:
            p, q = _prime(1024), _prime(1024)
            phi = (p - 1) * (q - 1)
            if p != q and math.gcd(e, phi) == 1:
                break
        self.n, self.e, self.d = p * q, e, pow(e, -1, phi)

    def sign_rs256(self, data: bytes) -> bytes:
        size = (self.n.bit_length() + 7) // 8
        digest_info = bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(data).digest()
        padded = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
        return pow(int.from_bytes(padded), self.d, self.n).to_bytes(size)

    def public_pem(self) -> bytes:
        rsa_key = _der(0x30, _der_int(self.n) + _der_int(self.e))
        algorithm = _der(0x30, bytes.fromhex("06092a864886f70d0101010500"))
        spki = _der(0x30, algorithm + _der(0x03, b"\x00" + rsa_key))
        body = base64.encodebytes(spki).decode().replace("\n", "")
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return ("-----BEGIN PUBLIC KEY-----\n" + "\n".join(lines) + "\n-----END PUBLIC KEY-----\n").encode()

    def jwk(self) -> dict:
        def number(value: int) -> str:
            return _b64(value.to_bytes((value.bit_length() + 7) // 8))

        return {"kty": "RSA", "e": number(self.e), "n": number(self.n)}


def _prime(bits: int) -> int:
    while True:
        candidate = secrets.randbits(bits) | (1 << (bits - 1)) | 1
        if all(candidate % small for small in (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37)) and _probably_prime(candidate):
            return candidate


def _probably_prime(n: int, rounds: int = 24) -> bool:
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    for _ in range(rounds):
        x = pow(secrets.randbelow(n - 3) + 2, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    encoded = length.to_bytes((length.bit_length() + 7) // 8)
    return bytes([tag, 0x80 | len(encoded)]) + encoded + content


def _der_int(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1))


@pytest.fixture(scope="module")
def attacker_key() -> _AttackerRsaKey:
    return _AttackerRsaKey()


ACCESS_KEY = hmac.new(SECRET.encode(), b"taskwire access jwt v1", "sha256").digest()
TYP = {"typ": "at+jwt"}

FORGERIES: dict[str, Callable[[str, _AttackerRsaKey], str]] = {
    "alg none, empty signature": lambda uid, key: _jwt({"alg": "none", **TYP}, _claims(uid), lambda _: b""),
    "alg None": lambda uid, key: _jwt({"alg": "None", **TYP}, _claims(uid), lambda _: b""),
    "alg NONE with our signature": lambda uid, key: _jwt({"alg": "NONE", **TYP}, _claims(uid), _hs(ACCESS_KEY)),
    "RS256 signed by the attacker, key embedded as jwk": lambda uid, key: _jwt(
        {"alg": "RS256", **TYP, "jwk": key.jwk()}, _claims(uid), key.sign_rs256
    ),
    "RS256 header over our HMAC signature": lambda uid, key: _jwt(
        {"alg": "RS256", **TYP}, _claims(uid), _hs(ACCESS_KEY)
    ),
    "HS256 keyed with the attacker's public key PEM": lambda uid, key: _jwt(
        {"alg": "HS256", **TYP, "jwk": key.jwk()}, _claims(uid), _hs(key.public_pem())
    ),
    "HS512 keyed with our own key": lambda uid, key: _jwt(
        {"alg": "HS512", **TYP}, _claims(uid), _hs(ACCESS_KEY, "sha512")
    ),
    "HS256 keyed with the raw secret": lambda uid, key: _jwt(
        {"alg": "HS256", **TYP}, _claims(uid), _hs(SECRET.encode())
    ),
    "kid path traversal with an empty key": lambda uid, key: _jwt(
        {"alg": "HS256", **TYP, "kid": "../../../../dev/null"}, _claims(uid), _hs(b"")
    ),
    "forged signature bytes": lambda uid, key: _jwt(
        {"alg": "HS256", **TYP}, _claims(uid), lambda _: secrets.token_bytes(32)
    ),
    "expired": lambda uid, key: _jwt(
        {"alg": "HS256", **TYP}, _claims(uid, iat=int(time.time()) - 1200, exp=int(time.time()) - 600), _hs(ACCESS_KEY)
    ),
    "not yet valid (nbf)": lambda uid, key: _jwt(
        {"alg": "HS256", **TYP}, _claims(uid, nbf=int(time.time()) + 600), _hs(ACCESS_KEY)
    ),
    "wrong issuer": lambda uid, key: _jwt({"alg": "HS256", **TYP}, _claims(uid, iss="evil"), _hs(ACCESS_KEY)),
    "wrong audience": lambda uid, key: _jwt(
        {"alg": "HS256", **TYP}, _claims(uid, aud="taskwire:refresh"), _hs(ACCESS_KEY)
    ),
    "audience list without ours": lambda uid, key: _jwt(
        {"alg": "HS256", **TYP}, _claims(uid, aud=["other"]), _hs(ACCESS_KEY)
    ),
    "subject as an object": lambda uid, key: _jwt({"alg": "HS256", **TYP}, _claims({"$ne": None}), _hs(ACCESS_KEY)),
    "no expiry": lambda uid, key: _jwt({"alg": "HS256", **TYP}, _claims(uid, exp=None), _hs(ACCESS_KEY)),
}


async def test_a_correctly_signed_forgery_template_is_accepted(api: Api) -> None:
    # The control: the forgeries below differ from this token by exactly one flaw.
    account = await api.register()
    token = _jwt({"alg": "HS256", **TYP}, _claims(account.id), _hs(ACCESS_KEY))
    assert (await api.call("GET", "/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}))[0] == 200


async def test_forged_and_misused_tokens_never_authenticate(api: Api, attacker_key: _AttackerRsaKey) -> None:
    account = await api.register()
    accepted = {}
    for name, forge in FORGERIES.items():
        headers = {"Authorization": f"Bearer {forge(account.id, attacker_key)}"}
        status, body = await api.call("GET", f"/api/v1/boards/{account.personal_board}", headers=headers)
        if status != 401 or body["error"]["code"] not in {"invalid_token", "token_expired"}:
            accepted[name] = (status, body)
    print(f"forged tokens tried: {len(FORGERIES)}; accepted: {len(accepted)}")
    assert accepted == {}


def _delete_user_row(database_url: str, user_id: str) -> None:
    """What an operator deleting an account by hand does; there is no delete-user API."""
    if database_url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as conn:
            assert conn.execute("DELETE FROM users WHERE id = ?", (user_id,)).rowcount == 1
            conn.commit()
        return
    client: pymongo.MongoClient = pymongo.MongoClient(database_url)
    try:
        assert client.get_default_database()["users"].delete_one({"_id": user_id}).deleted_count == 1
    finally:
        client.close()


async def test_tokens_of_a_deleted_user_stop_working(api: Api, database_url: str) -> None:
    account = await api.register()
    assert (await api.call("GET", "/api/v1/users/me", account))[0] == 200
    _delete_user_row(database_url, account.id)
    status, body = await api.call("GET", f"/api/v1/boards/{account.personal_board}", account)
    assert status == 401 and body["error"]["code"] == "invalid_token"
    status, _ = await api.call("POST", "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token})
    assert status == 401


async def test_racing_replays_of_one_refresh_token_leave_no_working_session(api: Api) -> None:
    account = await api.register()
    results = await asyncio.gather(
        *[api.call("POST", "/api/v1/auth/refresh", json={"refresh_token": account.refresh_token}) for _ in range(8)]
    )
    assert all(status in (200, 401) for status, _ in results), results
    winners = [body for status, body in results if status == 200]
    assert len(winners) <= 1, results
    # Seven replays mean the token was stolen: whatever pair the race handed out is dead,
    # the refresh token included (or the session would come back once the access marker expires).
    for pair in winners:
        assert (await api.call("GET", "/api/v1/users/me", headers={"Authorization": f"Bearer {pair['access_token']}"}))[
            0
        ] == 401
        assert (await api.call("POST", "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}))[0] == 401


# -- tenants: user A never reaches user B's board, tasks, members or events --------------


async def _snapshot(api: Api, owner: Account, board: str) -> tuple:
    """Everything B can see of B's board; must be identical before and after A's attempts."""
    calls = [
        f"/api/v1/boards/{board}",
        f"/api/v1/boards/{board}/members",
        f"/api/v1/boards/{board}/tasks",
        f"/api/v1/boards/{board}/events?limit=1000",
    ]
    return tuple([await api.call("GET", path, owner) for path in calls])


async def test_a_user_can_never_read_change_or_list_another_users_board(api: Api) -> None:
    alice, bob = await api.register("alice"), await api.register("bob")
    board = (await api.board(bob, "Bob's secrets"))["id"]
    task = await api.task(bob, board, "salary review", labels=["private"])
    carol = await api.register("carol")
    await api.add_member(bob, board, carol, "editor")
    before = await _snapshot(api, bob, board)

    attempts = [
        ("GET", f"/api/v1/boards/{board}", None),
        ("PATCH", f"/api/v1/boards/{board}", {"name": "pwned"}),
        ("DELETE", f"/api/v1/boards/{board}", None),
        ("GET", f"/api/v1/boards/{board}/members", None),
        ("POST", f"/api/v1/boards/{board}/members", {"email": alice.email, "role": "owner"}),
        ("PATCH", f"/api/v1/boards/{board}/members/{carol.id}", {"role": "viewer"}),
        ("PATCH", f"/api/v1/boards/{board}/members/{alice.id}", {"role": "owner"}),
        ("DELETE", f"/api/v1/boards/{board}/members/{carol.id}", None),
        ("DELETE", f"/api/v1/boards/{board}/members/{bob.id}", None),
        ("GET", f"/api/v1/boards/{board}/tasks", None),
        ("GET", f"/api/v1/boards/{board}/tasks?q=salary&include_total=true", None),
        ("POST", f"/api/v1/boards/{board}/tasks", {"title": "planted"}),
        ("GET", f"/api/v1/boards/{board}/events", None),
        ("GET", f"/api/v1/tasks/{task['id']}", None),
        ("PATCH", f"/api/v1/tasks/{task['id']}", {"title": "pwned", "version": task["version"]}),
        ("POST", f"/api/v1/tasks/{task['id']}/move", {"status": "done"}),
        ("DELETE", f"/api/v1/tasks/{task['id']}", None),
    ]
    leaks = []
    for method, path, body in attempts:
        status, answer = await api.call(method, path, alice, json=body)
        # A board or task Alice is not on does not exist for her: the very answer an unknown id gets.
        unknown = path.replace(board, "01NOSUCHBOARD0000000000000").replace(task["id"], "01NOSUCHTASK00000000000000")
        if (status, answer) != await api.call(method, unknown, alice, json=body) or status != 404:
            leaks.append((method, path, status, answer))
    assert leaks == []
    assert await _snapshot(api, bob, board) == before


async def test_another_boards_ids_inside_a_request_are_refused_like_unknown_ones(api: Api) -> None:
    alice, bob = await api.register("alice"), await api.register("bob")
    bobs_task = await api.task(bob, bob.personal_board, "bob's")
    mine = await api.task(alice, alice.personal_board, "mine")
    unknown = "01NOSUCHTASK00000000000000"

    async def same_as_unknown(method: str, path: str, body_with: Callable[[str], dict] | None = None) -> None:
        with_bobs = await api.call(
            method, path.format(bobs_task["id"], bob.id), alice, json=body_with(bobs_task["id"]) if body_with else None
        )
        with_unknown = await api.call(
            method, path.format(unknown, unknown), alice, json=body_with(unknown) if body_with else None
        )
        # The answer may echo the id that was sent; apart from that it must be the same.
        echoed = json.dumps(with_bobs).replace(bobs_task["id"], unknown).replace(bob.id, unknown)
        assert with_bobs[0] in (404, 422) and echoed == json.dumps(with_unknown)

    # Bob's task as a neighbour in a move of Alice's own task.
    await same_as_unknown("POST", f"/api/v1/tasks/{mine['id']}/move", lambda other: {"status": "todo", "before": other})
    await same_as_unknown("POST", f"/api/v1/tasks/{mine['id']}/move", lambda other: {"status": "todo", "after": other})
    # Bob (a user, not on Alice's board) as an assignee or as a member to re-role.
    await same_as_unknown(
        "POST",
        f"/api/v1/boards/{alice.personal_board}/tasks",
        lambda _: {"title": "x", "assignees": [bob.id]} if _ != unknown else {"title": "x", "assignees": [unknown]},
    )
    await same_as_unknown("PATCH", f"/api/v1/boards/{alice.personal_board}/members/{{1}}", lambda _: {"role": "viewer"})
    assert (await api.call("GET", f"/api/v1/tasks/{bobs_task['id']}", bob))[1]["title"] == "bob's"


async def test_lists_and_search_only_ever_return_the_callers_boards_and_tasks(api: Api) -> None:
    alice, bob = await api.register("alice"), await api.register("bob")
    for number in range(3):
        await api.task(bob, bob.personal_board, f"needle {number}", labels=["needle"])
    await api.task(alice, alice.personal_board, "needle of alice", labels=["needle"])
    _, boards = await api.call("GET", "/api/v1/boards?limit=200", alice)
    assert [board["id"] for board in boards["items"]] == [alice.personal_board]
    for query in ("q=needle", "label=needle", "q=needle&include_total=true&sort=-created_at"):
        _, page = await api.call("GET", f"/api/v1/boards/{alice.personal_board}/tasks?{query}", alice)
        assert [task["title"] for task in page["items"]] == ["needle of alice"]
        assert page.get("total", 1) == 1
    # A cursor taken from Bob's list pages Alice's board, not Bob's.
    _, bobs_page = await api.call("GET", f"/api/v1/boards/{bob.personal_board}/tasks?limit=1", bob)
    status, page = await api.call(
        "GET", f"/api/v1/boards/{alice.personal_board}/tasks?cursor={bobs_page['next_cursor']}", alice
    )
    assert status == 400 or all(task["board_id"] == alice.personal_board for task in page["items"])


# -- query-operator injection: an operator object is refused, operator text is just text --

OPERATORS: list[Any] = [
    {"$gt": ""},
    {"$ne": None},
    {"$where": "sleep(1000) || true"},
    {"$regex": ".*"},
    {"$in": ["a"]},
    [{"$ne": None}],
]


def _bodies(world: dict[str, Any]) -> list[tuple[str, str, dict]]:
    """A valid body for every JSON endpoint, built on real records."""
    board, task, member = world["board"], world["task"], world["member"]
    return [
        ("POST", "/api/v1/auth/register", {"email": "new@example.test", "password": PASSWORD, "name": "New"}),
        ("POST", "/api/v1/auth/login", {"email": world["email"], "password": PASSWORD}),
        ("POST", "/api/v1/auth/refresh", {"refresh_token": world["refresh_token"]}),
        ("PATCH", "/api/v1/users/me", {"name": "Renamed", "password": PASSWORD, "current_password": PASSWORD}),
        ("POST", "/api/v1/boards", {"name": "B", "description": "d", "columns": ["todo", "done"]}),
        ("PATCH", f"/api/v1/boards/{board}", {"name": "B", "description": "d", "columns": ["todo", "done"]}),
        ("POST", f"/api/v1/boards/{board}/members", {"email": world["other_email"], "role": "editor"}),
        ("PATCH", f"/api/v1/boards/{board}/members/{member}", {"role": "viewer"}),
        (
            "POST",
            f"/api/v1/boards/{board}/tasks",
            {
                "title": "t",
                "description": "d",
                "status": "todo",
                "priority": "high",
                "assignees": [world["user"]],
                "labels": ["x"],
                "due_at": "2030-01-01T00:00:00Z",
            },
        ),
        (
            "PATCH",
            f"/api/v1/tasks/{task}",
            {
                "version": 1,
                "title": "t",
                "description": "d",
                "status": "todo",
                "priority": "low",
                "assignees": [world["user"]],
                "labels": ["y"],
                "due_at": "2030-01-01T00:00:00Z",
            },
        ),
        ("POST", f"/api/v1/tasks/{task}/move", {"status": "todo", "before": task, "after": task}),
        ("POST", "/api/v1/auth/logout", {"refresh_token": world["refresh_token"]}),
    ]


async def test_an_operator_object_in_any_json_field_is_refused_and_changes_nothing(api: Api) -> None:
    owner, other = await api.register("owner"), await api.register("other")
    member = await api.register("member")
    await api.add_member(owner, owner.personal_board, member, "editor")
    task = await api.task(owner, owner.personal_board, "target")
    world = {
        "board": owner.personal_board,
        "task": task["id"],
        "member": member.id,
        "user": owner.id,
        "email": owner.email,
        "other_email": other.email,
        "refresh_token": owner.refresh_token,
    }
    before = await _snapshot(api, owner, owner.personal_board)
    accepted = []
    tried = 0
    for method, path, body in _bodies(world):
        for field, value in body.items():
            payloads = OPERATORS + ([[operator] for operator in OPERATORS[:4]] if isinstance(value, list) else [])
            for payload in payloads:
                tried += 1
                status, answer = await api.call(method, path, owner, json={**body, field: payload})
                if status not in (400, 422):
                    accepted.append((method, path, field, payload, status, answer))
    print(f"operator objects tried in JSON fields: {tried}; accepted: {len(accepted)}")
    assert tried > 150 and accepted == []
    assert await _snapshot(api, owner, owner.personal_board) == before
    assert (await api.call("GET", "/api/v1/users/me", owner))[0] == 200  # the session survived too


INJECTED_TEXT = ['{"$gt": ""}', '{"$ne": null}', '{"$where": "1"}', ".*", "^", "$where", "' OR 1=1 --", "*", "\\"]


async def test_operator_text_in_query_parameters_matches_nothing(api: Api) -> None:
    owner = await api.register()
    board = owner.personal_board
    for title in ("alpha", "beta", "gamma"):
        await api.task(owner, board, title, labels=["plain"], assignees=[owner.id])
    matched = []
    for parameter in ("q", "label", "status", "assignee"):
        for text in INJECTED_TEXT:
            status, page = await api.call(
                "GET", f"/api/v1/boards/{board}/tasks", owner, query_string={parameter: text, "include_total": "true"}
            )
            if status >= 500 or (status == 200 and (page["items"] or page["total"])):
                matched.append((parameter, text, status, page))
    # PHP/Express-style nested keys are unknown parameters, not operators.
    for key in ("label[$ne]", "q[$regex]", "status[$gt]", "cursor[$gt]"):
        status, page = await api.call("GET", f"/api/v1/boards/{board}/tasks", owner, query_string={key: "x"})
        if status != 422:
            matched.append((key, status, page))
    for key, text in (("after", '{"$gt": 0}'), ("limit", '{"$gt": 0}'), ("after[$gt]", "0")):
        status, page = await api.call("GET", f"/api/v1/boards/{board}/events", owner, query_string={key: text})
        if status != 422:
            matched.append((key, text, status, page))
    assert matched == []


async def test_a_cursor_smuggling_an_operator_is_refused(api: Api) -> None:
    owner = await api.register()
    for title in ("alpha", "beta"):
        await api.task(owner, owner.personal_board, title)
    for position in ([{"$gt": ""}, "x"], ["a", {"$ne": None}], [["$gt"], "x"], [None, None]):
        raw = json.dumps(["tasks:position", *position]).encode()
        cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        status, body = await api.call("GET", f"/api/v1/boards/{owner.personal_board}/tasks?cursor={cursor}", owner)
        assert status == 400 and body["error"]["code"] == "invalid_cursor"


async def test_operator_text_is_stored_and_found_verbatim(api: Api) -> None:
    owner = await api.register()
    text = '{"$where": "this.title != null"}'
    task = await api.task(owner, owner.personal_board, text, labels=["$ne"], description="$gt")
    await api.task(owner, owner.personal_board, "ordinary", labels=["plain"])
    _, stored = await api.call("GET", f"/api/v1/tasks/{task['id']}", owner)
    assert (stored["title"], stored["labels"], stored["description"]) == (text, ["$ne"], "$gt")
    _, page = await api.call(
        "GET", f"/api/v1/boards/{owner.personal_board}/tasks", owner, query_string={"label": "$ne"}
    )
    assert [item["id"] for item in page["items"]] == [task["id"]]


# -- a real server process: oversized input and clients that hold connections ------------

HYPERCORN = tomllib.loads((REPO_ROOT / "hypercorn.toml").read_text())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    with running(tmp_path_factory.mktemp("attacks")) as [instance]:
        yield instance


async def _raw_exchange(port: int, head: bytes, body_chunks: list[bytes], timeout: float = 10.0) -> bytes:
    """Send a request by hand (headers, then body chunks) and return the status line."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        for chunk in body_chunks:
            if reader.at_eof() or writer.is_closing():
                break
            writer.write(chunk)
            with contextlib.suppress(ConnectionError):
                await writer.drain()
        return await asyncio.wait_for(reader.readline(), timeout)
    finally:
        writer.close()


@pytest.mark.processes
async def test_bodies_over_the_limit_are_413_whether_announced_or_streamed(server: AppServer) -> None:
    announced = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Content-Length: 2097152\r\n\r\n"
    )
    # Refused on the announced length alone: the server does not wait for 2 MiB that never come.
    started = time.monotonic()
    assert b" 413 " in await _raw_exchange(server.port, announced, [], timeout=5)
    assert time.monotonic() - started < 5
    chunked = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"x" * 65536
    chunks = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 32 + [b"0\r\n\r\n"]
    assert b" 413 " in await _raw_exchange(server.port, chunked, chunks)
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/healthz")).status_code == 200


@pytest.mark.processes
async def test_oversized_websocket_frames_close_with_1009_and_the_server_stays_up(server: AppServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            "/api/v1/auth/register",
            json={"email": f"big.{secrets.token_hex(4)}@example.test", "password": PASSWORD, "name": "Big"},
        )
        token = response.json()["access_token"]
        limit = int(HYPERCORN["websocket_max_message_size"])
        for size in (limit + 1, 4 * 1024 * 1024):
            socket = await WsClient.open(server.ws_url, max_size=None)
            assert (await socket.auth(token))["type"] == "ready"
            await socket.send({"type": "ping", "id": "x" * size})
            # The close can take ~20 s: Hypercorn reads the rest of a frame larger than its
            # read chunk before it sees the client's close (see test_ws_fuzz's xfail).
            assert await socket.closed_with(timeout=40) == 1009
        # Even before authenticating.
        socket = await WsClient.open(server.ws_url)
        await socket.send("x" * (limit + 1))
        assert await socket.closed_with() == 1009
        assert (await client.get("/healthz")).status_code == 200


async def _slow_header_client(port: int, seconds: float) -> tuple[float, bytes]:
    """Send a request's headers one byte per second; when did the server hang up, and what
    did it say (nothing but a close is expected)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    request = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Padding: " + b"a" * 1000
    try:
        for byte in request:
            writer.write(bytes([byte]))
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                answer = await asyncio.wait_for(reader.read(1024), 1.0)
                return time.monotonic() - started, answer
            if time.monotonic() - started > seconds:
                break
        return time.monotonic() - started, b"<still open>"
    except ConnectionError:
        return time.monotonic() - started, b""
    finally:
        writer.close()


async def _never_reading_client(port: int, seconds: float) -> float:
    """Ask for a page and never read it; when the server closed the connection."""
    sock = socket_module.socket()
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    await loop.sock_sendall(sock, b"GET /openapi.json HTTP/1.1\r\nHost: t\r\n\r\n")
    started = time.monotonic()
    try:
        await asyncio.sleep(seconds)  # not reading; then drain what the server left behind
        while True:
            chunk = await asyncio.wait_for(loop.sock_recv(sock, 1 << 16), 1.0)
            if not chunk:
                return time.monotonic() - started
    except TimeoutError:
        return float("inf")  # still open
    finally:
        sock.close()


@pytest.mark.processes
async def test_slow_header_and_never_reading_clients_are_cut_off_while_others_are_served(server: AppServer) -> None:
    keep_alive = float(HYPERCORN["keep_alive_timeout"])
    budget = keep_alive + 5
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
        response = await client.post(
            "/api/v1/auth/register",
            json={"email": f"patient.{secrets.token_hex(4)}@example.test", "password": PASSWORD, "name": "Patient"},
        )
        headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        latencies: list[float] = []

        async def others_keep_being_served() -> None:
            deadline = time.monotonic() + budget
            while time.monotonic() < deadline:
                started = time.monotonic()
                assert (await client.get("/api/v1/boards", headers=headers)).status_code == 200
                latencies.append(time.monotonic() - started)
                await asyncio.sleep(0.2)

        slow, never_reading, _ = await asyncio.gather(
            asyncio.gather(*[_slow_header_client(server.port, budget) for _ in range(20)]),
            asyncio.gather(*[_never_reading_client(server.port, budget) for _ in range(5)]),
            others_keep_being_served(),
        )
    print(
        f"slow-header clients closed after {min(t for t, _ in slow):.1f}-{max(t for t, _ in slow):.1f}s; "
        f"never-reading closed after {max(never_reading):.1f}s; others: {len(latencies)} requests, "
        f"slowest {max(latencies) * 1000:.0f} ms"
    )
    # Hypercorn's idle timer runs until a request's headers are complete: keep_alive_timeout
    # is how long a slow-header client can hold a connection.
    assert all(answer == b"" and closed_after < keep_alive + 2 for closed_after, answer in slow), slow
    # A client that never reads a small page is closed once it sits idle after the answer
    # (drained here after `budget` seconds: the EOF was already waiting).
    assert all(closed_after < budget + 2 for closed_after in never_reading), never_reading
    assert len(latencies) > budget and max(latencies) < 2.0, latencies


# -- guessing one account's password from many addresses, across instances ---------------


def _sign_in(server: AppServer, email: str, password: str, address: str | None = None) -> httpx.Response:
    # The instances trust 127.0.0.1 as a proxy, so X-Forwarded-For names the client.
    headers = {"X-Forwarded-For": address} if address else {}
    return httpx.post(f"{server.url}/api/v1/auth/login", json={"email": email, "password": password}, headers=headers)


@pytest.mark.processes
def test_failed_sign_ins_counted_on_two_instances_delay_strangers_but_never_the_owner(tmp_path, redis) -> None:
    with running(tmp_path, count=2, redis_url=redis.url, env={"TASKWIRE_TRUSTED_PROXIES": "127.0.0.1"}) as [one, two]:
        email = f"victim.{secrets.token_hex(4)}@example.test"
        assert (
            httpx.post(
                f"{one.url}/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": "Victim"}
            ).status_code
            == 201
        )
        # A botnet: each guess from another address, spread over both instances.
        for number in range(6):
            server = (one, two)[number % 2]
            assert _sign_in(server, email, "a wrong guess", f"203.0.113.{number}").status_code == 401
        refused = _sign_in(one, email, PASSWORD, "203.0.113.99")
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_failed_sign_ins"
        assert refused.headers["Retry-After"] == "1"
        assert _sign_in(two, email, PASSWORD).status_code == 200  # the owner's own address
        time.sleep(1.05)
        assert _sign_in(two, email, "a wrong guess", "203.0.113.7").status_code == 401
        refused = _sign_in(one, email, PASSWORD, "203.0.113.99")
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "2"
        time.sleep(2.05)
        assert _sign_in(one, email, PASSWORD, "203.0.113.99").status_code == 200


# -- files: another local user reads nothing Taskwire keeps on disk ----------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.processes
def test_the_data_dir_database_wal_backups_exports_and_secret_key_are_private_to_their_owner(tmp_path) -> None:
    old_umask = os.umask(0o022)  # what a default shell gives: new files 0644, folders 0755
    try:
        data = tmp_path / "instance0"
        (data / "backups").mkdir(parents=True)
        with contextlib.closing(sqlite3.connect(data / "taskwire.db")) as conn:
            conn.execute("PRAGMA journal_mode = WAL")
        (data / "secret_key").write_text(secrets.token_urlsafe(48))
        (data / "backups" / "old.db").write_bytes(b"left by an earlier version")
        assert _mode(data) == 0o755 and _mode(data / "taskwire.db") == 0o644  # the flaw, as found

        with running(tmp_path, database_url=f"sqlite:///{data / 'taskwire.db'}") as [server]:
            response = httpx.post(
                f"{server.url}/api/v1/auth/register",
                json={"email": "files@example.test", "password": PASSWORD, "name": "Files"},
            )
            assert response.status_code == 201
            board = httpx.get(
                f"{server.url}/api/v1/boards", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
            ).json()["items"][0]["id"]
            env = {**server.env, "TASKWIRE_DATA_DIR": str(data)}
            for args in (
                ["backup", "--output", str(data / "backups" / "new.db")],
                ["export-board", board, "--output", str(tmp_path / "exports" / "board.json")],
            ):
                done = subprocess.run(
                    [sys.executable, "-m", "app", *args],
                    cwd=REPO_ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                assert done.returncode == 0, done.stderr
            files = [data / name for name in ("taskwire.db", "taskwire.db-wal", "taskwire.db-shm", "secret_key")]
            files += [data / "backups" / "old.db", data / "backups" / "new.db", tmp_path / "exports" / "board.json"]
            folders = [data, data / "backups", tmp_path / "exports"]
            modes = {str(path.relative_to(tmp_path)): oct(_mode(path)) for path in files + folders}
    finally:
        os.umask(old_umask)
    assert modes == {
        **{str(path.relative_to(tmp_path)): oct(0o600) for path in files},
        **{str(path.relative_to(tmp_path)): oct(0o700) for path in folders},
    }
