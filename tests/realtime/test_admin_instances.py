"""Disabling an account on one instance ends its live connections on every instance at
once: two real server processes sharing one SQLite file and one real Redis."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.realtime.client import WsClient
from tests.realtime.follower import Rest
from tests.realtime.sse_client import SseStream
from tests.support.apiclient import PASSWORD
from tests.support.servers import AppServer, app_servers
from tests.support.services import RedisServer

pytestmark = pytest.mark.processes

ADMIN_EMAIL = "root@example.test"


@pytest.fixture(scope="module")
def instances(redis: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[AppServer]]:
    workdir = tmp_path_factory.mktemp("admin-instances")
    with app_servers(
        2, f"sqlite:///{workdir / 'shared.db'}", redis.url, workdir, {"TASKWIRE_ADMIN_EMAILS": ADMIN_EMAIL}
    ) as servers:
        yield servers


async def test_disabling_an_account_closes_its_sockets_and_streams_on_both_instances(instances) -> None:
    first, second = Rest(instances[0].url), Rest(instances[1].url)
    try:
        admin = await first.call(
            "POST", "/api/v1/auth/register", json_body={"email": ADMIN_EMAIL, "password": PASSWORD, "name": "Root"}
        )
        victim = await second.register("victim")
        other = await second.register("bystander")
        board = (await second.call("GET", "/api/v1/boards", victim["token"]))["items"][0]["id"]
        token = await second.call("POST", "/api/v1/tokens", victim["token"], {"name": "bot", "scopes": ["read"]})

        sockets = [await WsClient.open(server.ws_url) for server in instances]
        for socket in sockets:
            assert (await socket.auth(victim["token"]))["type"] == "ready"
        token_socket = await WsClient.open(instances[0].ws_url)
        assert (await token_socket.auth(token["token"]))["type"] == "ready"
        stream = await SseStream.open(instances[1].url, board, token["token"])
        await stream.until("subscribed")
        bystander = await WsClient.open(instances[1].ws_url)
        assert (await bystander.auth(other["token"]))["type"] == "ready"

        await first.call("PATCH", f"/api/v1/admin/accounts/{victim['id']}", admin["access_token"], {"disabled": True})

        for socket in [*sockets, token_socket]:
            assert await socket.closed_with() == 4401
        assert (await stream.until("error"))[-1].data["code"] == "session_ended"
        assert await stream.next() is None
        await stream.close()
        for server in instances:
            async with httpx.AsyncClient(base_url=server.url) as http:
                for credential in (victim["token"], token["token"]):
                    response = await http.get("/api/v1/boards", headers={"Authorization": f"Bearer {credential}"})
                    assert response.status_code == 401
            again = await WsClient.open(server.ws_url)
            await again.send({"type": "auth", "token": token["token"]})
            assert await again.closed_with() == 4401
        await bystander.send({"type": "ping", "id": "p"})
        assert (await bystander.recv_type("pong"))["id"] == "p"  # nobody else is touched
        await bystander.close()
    finally:
        await first.close()
        await second.close()
