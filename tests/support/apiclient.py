"""A thin client over Quart's test client that speaks the v1 contract, for readable tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from quart.testing import QuartClient

_counter = itertools.count()
PASSWORD = "correct horse battery"


@dataclass
class Account:
    id: str
    email: str
    name: str
    access_token: str
    refresh_token: str
    personal_board: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.headers = {"Authorization": f"Bearer {self.access_token}"}


class Api:
    def __init__(self, client: QuartClient) -> None:
        self.client = client

    async def call(
        self,
        method: str,
        path: str,
        account: Account | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> tuple[int, Any]:
        all_headers = dict(account.headers if account else {})
        all_headers.update(headers or {})
        response = await self.client.open(path, method=method, json=json, headers=all_headers, **kwargs)
        body = await response.get_data(as_text=True)
        import json as jsonlib

        return response.status_code, (jsonlib.loads(body) if body else None)

    async def register(self, name: str | None = None, email: str | None = None) -> Account:
        number = next(_counter)
        name = name or f"user{number}"
        email = email or f"{name}.{number}@example.test"
        status, body = await self.call(
            "POST", "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": name}
        )
        assert status == 201, body
        account = Account(body["user"]["id"], email, name, body["access_token"], body["refresh_token"])
        status, boards = await self.call("GET", "/api/v1/boards", account)
        account.personal_board = boards["items"][0]["id"]
        return account

    async def board(self, owner: Account, name: str = "Launch", **extra: Any) -> dict:
        status, body = await self.call("POST", "/api/v1/boards", owner, json={"name": name, **extra})
        assert status == 201, body
        return body

    async def add_member(self, owner: Account, board_id: str, member: Account, role: str) -> None:
        status, body = await self.call(
            "POST", f"/api/v1/boards/{board_id}/members", owner, json={"email": member.email, "role": role}
        )
        assert status == 201, body

    async def task(self, account: Account, board_id: str, title: str = "Ship it", **fields: Any) -> dict:
        status, body = await self.call(
            "POST", f"/api/v1/boards/{board_id}/tasks", account, json={"title": title, **fields}
        )
        assert status == 201, body
        return body
