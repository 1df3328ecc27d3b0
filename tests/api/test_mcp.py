"""The MCP server, driven by the ``mcp`` package's own client: over streamable HTTP against
a real server process (the main read, write and refusal paths on SQLite and on MongoDB), and
over stdio against ``python -m app mcp`` sharing that server's store and Redis. A token's
scopes and board limits bind the assistant; its writes go through the services (versions,
idempotency, events) and reach live clients "via" it."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.realtime.follower import Rest
from tests.realtime.sse_client import SseStream
from tests.support.app_fixtures import mongo_database_url
from tests.support.mcp_client import call, mcp_over_http
from tests.support.servers import BASE_ENV, AppServer, app_servers, trickle
from tests.support.services import REPO_ROOT, MongoWireServer, RedisServer

pytestmark = pytest.mark.processes

ASSISTANT_ORIGIN = "https://assistant.example.test"
SERVER_ENV = {"TASKWIRE_CORS_ORIGINS": ASSISTANT_ORIGIN}

# Tests that take ``server`` run on SQLite; these run on MongoDB too. Only the main paths:
# a second store doubles a test's time, and the transport does not depend on the store.
ON_BOTH_STORES = pytest.mark.parametrize("server", ["sqlite", "mongo"], indirect=True)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mcp")


@pytest.fixture(scope="module")
def sqlite_server(redis: RedisServer, workdir: Path) -> Iterator[AppServer]:
    with app_servers(1, f"sqlite:///{workdir / 'taskwire.db'}", redis.url, workdir, extra_env=SERVER_ENV) as servers:
        yield servers[0]


@pytest.fixture(scope="module")
def mongo_server(redis: RedisServer, mongo_wire: MongoWireServer, workdir: Path) -> Iterator[AppServer]:
    url = mongo_database_url(mongo_wire.url)
    with app_servers(1, url, redis.url, workdir / "mongo", extra_env=SERVER_ENV) as servers:
        yield servers[0]


@pytest.fixture
def server(request: pytest.FixtureRequest) -> AppServer:
    """The SQLite server, or the store named by ``ON_BOTH_STORES``; each started once."""
    store = getattr(request, "param", "sqlite")
    started: AppServer = request.getfixturevalue(f"{store}_server")
    return started


class Team:
    """Alice's two boards, Bob a viewer on the first, and Alice's tokens."""

    def __init__(self, rest: Rest) -> None:
        self.rest = rest

    async def setup(self) -> Team:
        self.alice = await self.rest.register("alice")
        self.bob = await self.rest.register("bob")
        self.launch = await self.rest.board(self.alice["token"], "Launch")
        self.private = await self.rest.board(self.alice["token"], "Private")
        await self.rest.add_member(self.alice["token"], self.launch, self.bob["email"], "viewer")
        self.writer = await self.token(self.alice, "Claude", ["read", "write"])
        self.reader = await self.token(self.alice, "Reader", ["read"])
        self.limited = await self.token(self.alice, "Launch only", ["read", "write"], [self.launch])
        self.bobs = await self.token(self.bob, "Bob's assistant", ["read", "write"])
        return self

    async def token(self, user: dict[str, Any], name: str, scopes: list[str], boards: list[str] | None = None) -> dict:
        body: dict[str, Any] = {"name": name, "scopes": scopes}
        if boards:
            body["boards"] = boards
        return await self.rest.call("POST", "/api/v1/tokens", user["token"], body)


@pytest.fixture
async def team(server: AppServer) -> AsyncIterator[Team]:
    rest = Rest(server.url)
    try:
        yield await Team(rest).setup()
    finally:
        await rest.close()


def stdio_parameters(server: AppServer, token: str) -> StdioServerParameters:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TASKWIRE_")}
    env.update(BASE_ENV)
    env.update(
        TASKWIRE_DATABASE_URL=server.env["TASKWIRE_DATABASE_URL"],
        TASKWIRE_REDIS_URL=server.env["TASKWIRE_REDIS_URL"],
        TASKWIRE_DATA_DIR=server.env["TASKWIRE_DATA_DIR"],
        TASKWIRE_TOKEN=token,
    )
    return StdioServerParameters(command=sys.executable, args=["-m", "app", "mcp"], env=env, cwd=str(REPO_ROOT))


async def refusal(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """The error envelope of a refused call (REST's, with the same stable code)."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result
    prefix, _, envelope = result.content[0].text.partition(": ")
    assert prefix == f"Error executing tool {tool}"
    error: dict[str, Any] = json.loads(envelope)["error"]
    return error


@ON_BOTH_STORES
async def test_an_assistant_works_a_board_over_http_and_it_shows_live_as_made_via_its_token(
    server: AppServer, team: Team
) -> None:
    stream = await SseStream.open(server.url, team.launch, team.bob["token"])
    await stream.until("subscribed")
    async with mcp_over_http(server.url, team.writer["token"]) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert tools >= {
            "list_boards",
            "search_tasks",
            "read_board",
            "read_task",
            "create_task",
            "update_task",
            "move_task",
            "comment_on_task",
            "list_changes",
        }
        boards = await call(client, "list_boards")
        assert {board["name"] for board in boards["boards"]} >= {"Launch", "Private"}

        task = await call(client, "create_task", board_id=team.launch, title="Write the release notes", priority="high")
        assert task["status"] == "todo" and task["version"] == 1 and task["created_by"] == team.alice["id"]

        # Bob, watching the board, sees it at once, made by Alice via the token.
        [created] = await stream.events(1)
        message = created.data
        assert message["event"] == "task.created" and message["data"]["id"] == task["id"]
        assert message["actor"] == team.alice["id"]
        assert message["via"] == {"token_id": team.writer["id"], "token_name": "Claude"}

        updated = await call(client, "update_task", task_id=task["id"], version=1, description="Draft by Friday")
        assert updated["version"] == 2
        stale = await refusal(client, "update_task", task_id=task["id"], version=1, title="Lost update")
        assert stale["code"] == "version_conflict"
        moved = await call(client, "move_task", task_id=task["id"], status="in_progress")
        assert moved["status"] == "in_progress"

        # A retried comment with its idempotency key is written once.
        first = await call(client, "comment_on_task", task_id=task["id"], body="On it", idempotency_key="c-1")
        again = await call(client, "comment_on_task", task_id=task["id"], body="On it", idempotency_key="c-1")
        assert again["id"] == first["id"]

        read = await call(client, "read_task", task_id=task["id"])
        assert read["task"]["description"] == "Draft by Friday" and read["task"]["version"] == 3
        assert [comment["body"] for comment in read["comments"]] == ["On it"]
        found = await call(client, "search_tasks", query="release")
        assert [hit["id"] for hit in found["tasks"]] == [task["id"]]

        seq_before = message["seq"]
        changes = await call(client, "list_changes", board_id=team.launch, after_seq=seq_before)
        assert [event["type"] for event in changes["events"]] == ["task.updated", "task.moved", "comment.created"]
        assert all(event["via"]["token_name"] == "Claude" for event in changes["events"])
        assert changes["latest_seq"] == seq_before + 3

        resource = await client.read_resource(f"taskwire://boards/{team.launch}")
        board = json.loads(resource.contents[0].text)
        assert board["board"]["name"] == "Launch" and [t["id"] for t in board["tasks"]] == [task["id"]]
        [contents] = (await client.read_resource(f"taskwire://tasks/{task['id']}")).contents
        assert contents.uri == f"taskwire://tasks/{task['id']}" and contents.mime_type == "application/json"
        assert json.loads(contents.text) == read
    live = await stream.events(3)
    assert [item.data["event"] for item in live] == ["task.updated", "task.moved", "comment.created"]
    await stream.close()

    # The activity feed (REST's log) says the same.
    events = await team.rest.call(
        "GET", f"/api/v1/boards/{team.launch}/events?after={seq_before - 1}", team.bob["token"]
    )
    assert events["items"][0]["via"]["token_name"] == "Claude"


@ON_BOTH_STORES
async def test_a_read_only_token_reads_and_is_refused_every_write(server: AppServer, team: Team) -> None:
    task = await team.rest.call("POST", f"/api/v1/boards/{team.launch}/tasks", team.alice["token"], {"title": "Keep"})
    async with mcp_over_http(server.url, team.reader["token"]) as client:
        assert (await call(client, "read_task", task_id=task["id"]))["task"]["title"] == "Keep"
        refusals = [
            await refusal(client, "create_task", board_id=team.launch, title="Sneaky"),
            await refusal(client, "update_task", task_id=task["id"], version=1, title="Changed"),
            await refusal(client, "move_task", task_id=task["id"], status="done"),
            await refusal(client, "comment_on_task", task_id=task["id"], body="Hi"),
        ]
        assert {error["code"] for error in refusals} == {"insufficient_scope"}
    board = await team.rest.call("GET", f"/api/v1/boards/{team.launch}/tasks", team.alice["token"])
    assert [(item["title"], item["version"], item["status"]) for item in board["items"]] == [("Keep", 1, "todo")]
    assert await team.rest.call("GET", f"/api/v1/tasks/{task['id']}/comments", team.alice["token"]) == {
        "items": [],
        "next_cursor": None,
    }


@ON_BOTH_STORES
async def test_a_board_limited_token_sees_and_touches_only_its_boards(server: AppServer, team: Team) -> None:
    hidden = await team.rest.call("POST", f"/api/v1/boards/{team.private}/tasks", team.alice["token"], {"title": "x"})
    async with mcp_over_http(server.url, team.limited["token"]) as client:
        assert [board["id"] for board in (await call(client, "list_boards"))["boards"]] == [team.launch]
        assert (await refusal(client, "read_board", board_id=team.private))["code"] == "board_not_found"
        assert (await refusal(client, "read_task", task_id=hidden["id"]))["code"] == "task_not_found"
        assert (await refusal(client, "create_task", board_id=team.private, title="No"))["code"] == "board_not_found"
        assert (await refusal(client, "list_changes", board_id=team.private))["code"] == "board_not_found"
        assert (await call(client, "search_tasks", query="x"))["tasks"] == []
        assert (await call(client, "create_task", board_id=team.launch, title="Yes"))["title"] == "Yes"
        with pytest.raises(Exception, match="board_not_found"):
            await client.read_resource(f"taskwire://boards/{team.private}")
        with pytest.raises(Exception, match="task_not_found"):
            await client.read_resource(f"taskwire://tasks/{hidden['id']}")


@ON_BOTH_STORES
async def test_the_token_holders_role_binds_the_assistant(server: AppServer, team: Team) -> None:
    async with mcp_over_http(server.url, team.bobs["token"]) as client:
        assert (await call(client, "read_board", board_id=team.launch))["board"]["role"] == "viewer"
        assert (await refusal(client, "create_task", board_id=team.launch, title="No"))["code"] == "forbidden"


async def test_http_needs_a_live_api_token_on_every_request(server: AppServer, team: Team) -> None:
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        for credential, code in ((None, "api_token_required"), (team.alice["token"], "api_token_required")):
            auth = {"Authorization": f"Bearer {credential}"} if credential else {}
            answer = await http.post("/mcp", json=initialize, headers={**headers, **auth})
            assert answer.status_code == 401 and answer.json()["error"]["code"] == code
            assert answer.headers["www-authenticate"] == "Bearer"
        async with mcp_over_http(server.url, team.writer["token"]) as client:
            await call(client, "list_boards")
            await team.rest.call("DELETE", f"/api/v1/tokens/{team.writer['id']}", team.alice["token"])
            with pytest.raises(Exception):  # noqa: B017 - the SDK raises what the transport met
                await client.call_tool("list_boards", {})
    # A new connection: the one above idled through the MCP session and may meet the
    # server's keep-alive timeout on a loaded machine, which says nothing about tokens.
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        answer = await http.post(
            "/mcp", json=initialize, headers={**headers, "Authorization": f"Bearer {team.writer['token']}"}
        )
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "invalid_token"


def mcp_requests_counted(metrics: str) -> dict[str, float]:
    """status -> taskwire_http_requests_total of POST /mcp."""
    counted = {}
    for line in metrics.splitlines():
        if line.startswith("taskwire_http_requests_total{") and 'route="/mcp"' in line and 'method="POST"' in line:
            status = line.split('status="')[1].split('"')[0]
            counted[status] = float(line.rsplit(" ", 1)[1])
    return counted


async def test_http_answers_get_the_policies_of_every_response(server: AppServer, team: Team) -> None:
    """Security headers, the request id, CORS for configured origins, and the request
    metrics: on /mcp as on the REST API, refused or answered."""
    tools_list = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "Origin": ASSISTANT_ORIGIN,
    }
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        before = mcp_requests_counted((await http.get("/metrics")).text)
        refused = await http.post("/mcp", json=tools_list, headers={**headers, "X-Request-ID": "mcp-refused-1"})
        answered = await http.post(
            "/mcp",
            json=tools_list,
            headers={**headers, "X-Request-ID": "mcp-answered-1", "Authorization": f"Bearer {team.reader['token']}"},
        )
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "api_token_required"
        assert answered.status_code == 200 and answered.json()["result"]["tools"], answered.text
        for answer, request_id in ((refused, "mcp-refused-1"), (answered, "mcp-answered-1")):
            assert answer.headers["x-content-type-options"] == "nosniff"
            assert answer.headers["referrer-policy"] == "no-referrer"
            assert answer.headers["content-security-policy"].startswith("default-src 'self'")
            assert answer.headers["x-frame-options"] == "DENY"
            assert answer.headers["x-request-id"] == request_id
            assert answer.headers["access-control-allow-origin"] == ASSISTANT_ORIGIN
        preflight = await http.options(
            "/mcp",
            headers={
                "Origin": ASSISTANT_ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == ASSISTANT_ORIGIN
        assert "Authorization" in preflight.headers["access-control-allow-headers"]
        after = mcp_requests_counted((await http.get("/metrics")).text)
    assert after.get("401", 0) - before.get("401", 0) == 1
    assert after.get("200", 0) - before.get("200", 0) == 1


async def test_stdio_acts_with_its_token_and_its_writes_reach_live_clients_of_the_server(
    server: AppServer, team: Team
) -> None:
    stream = await SseStream.open(server.url, team.launch, team.alice["token"])
    await stream.until("subscribed")
    async with Client(stdio_parameters(server, team.limited["token"]), cache=None) as client:
        task = await call(client, "create_task", board_id=team.launch, title="From the terminal")
        [created] = await stream.events(1)
        message = created.data
        assert message["data"]["id"] == task["id"] and message["via"]["token_name"] == "Launch only"
        assert (await refusal(client, "read_board", board_id=team.private))["code"] == "board_not_found"
        board = json.loads((await client.read_resource(f"taskwire://boards/{team.launch}")).contents[0].text)
        assert task["id"] in [item["id"] for item in board["tasks"]]
    await stream.close()
    async with Client(stdio_parameters(server, team.reader["token"]), cache=None) as client:
        assert (await refusal(client, "create_task", board_id=team.launch, title="No"))["code"] == "insufficient_scope"


def test_stdio_refuses_to_start_without_a_valid_token(server: AppServer) -> None:
    import subprocess

    parameters = stdio_parameters(server, "twp_not-a-real-token")
    finished = subprocess.run(
        [parameters.command, *parameters.args], env=parameters.env, cwd=parameters.cwd, capture_output=True, timeout=60
    )
    assert finished.returncode == 1
    assert b"TASKWIRE_TOKEN" in finished.stderr and finished.stdout == b""


async def test_tool_calls_count_against_the_users_api_rate_limit(server: AppServer, team: Team) -> None:
    carl = await team.rest.register("carl")
    token = await team.token(carl, "Chatty", ["read"])
    parameters = stdio_parameters(server, token["token"])
    assert parameters.env is not None
    parameters.env["TASKWIRE_RATE_LIMIT_API"] = "3"  # this process's limit; the count is Redis's, per user
    async with Client(parameters, cache=None) as client:
        assert "boards" in await call(client, "list_boards")
        refusals = [await client.call_tool("list_boards", {}) for _ in range(3)]
    limited = [result for result in refusals if result.is_error]
    assert limited and all("rate_limited" in result.content[0].text for result in limited)


async def test_a_body_over_the_limit_is_413_and_the_server_goes_on(server: AppServer, team: Team) -> None:
    """The SDK reads the body through Quart, so /mcp has the API's body limit (1 MiB by
    default) and its error envelope; a huge request changes nothing and breaks nothing."""
    oversized = b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"pad": "' + b"x" * (2 << 20) + b'"}}'
    headers = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "Authorization": f"Bearer {team.writer['token']}",
    }
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        answer = await http.post("/mcp", content=oversized, headers=headers)
        assert answer.status_code == 413 and answer.json()["error"]["code"] == "payload_too_large"
    async with mcp_over_http(server.url, team.writer["token"]) as client:
        assert await call(client, "list_boards") is not None


async def test_a_body_far_over_the_limit_gets_its_413_while_the_client_is_still_sending(
    server: AppServer, team: Team
) -> None:
    """Refused on its announced length at once, while most of its 16 MiB is still to come:
    the server reads the rest before it lets the connection go, so the client, which
    writes the whole body before it reads, finds the answer (not a reset connection)."""
    oversized = b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"pad": "' + b"x" * (16 << 20) + b'"}}'
    headers = {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "Content-Length": str(len(oversized)),
        "Authorization": f"Bearer {team.writer['token']}",
    }
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        answer = await http.post("/mcp", content=trickle(oversized, piece=256 * 1024), headers=headers)
        assert answer.status_code == 413 and answer.json()["error"]["code"] == "payload_too_large"
    async with mcp_over_http(server.url, team.writer["token"]) as client:
        assert await call(client, "list_boards") is not None
