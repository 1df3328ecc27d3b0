"""In-process: the real app served by a real Hypercorn on a loopback port in the test's
event loop (SQLite file + in-process broker), so WebSocket close codes and the Origin
check are seen exactly as a client sees them. REST calls go through Quart's test client
to the same app and runtime."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart

from app.factory import create_app
from app.runtime import Runtime
from app.settings import Settings, load_settings
from tests.realtime.client import WsClient
from tests.support.apiclient import Account, Api
from tests.support.services import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-secret-key-that-is-long-enough-0123456789"


@dataclasses.dataclass
class LiveApp:
    app: Quart
    api: Api
    port: int

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/v1/ws"

    @property
    def runtime(self) -> Runtime:
        return self.app.extensions["taskwire"]

    async def client(self, account: Account | None = None, **options) -> WsClient:
        """A connected client, authenticated as ``account`` when given."""
        client = await WsClient.open(self.ws_url, **options)
        if account is not None:
            ready = await client.auth(account.access_token)
            assert ready["type"] == "ready", ready
        return client


@pytest.fixture
def ws_settings(tmp_path: Path) -> Settings:
    return load_settings().model_copy(
        update=dict(
            data_dir=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'taskwire.db'}",
            redis_url="",
            secret_key=SECRET,
            ws_auth_timeout_seconds=0.5,
            ws_max_message_bytes=4096,
            ws_max_boards=3,
            replay_limit=20,
            sse_keepalive_seconds=0.3,
            rate_limit_ws_messages_per_minute=50,
            rate_limit_api_per_minute=100_000,
            rate_limit_auth_per_minute=100_000,
        )
    )


async def _wait_listening(port: int, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.02)
            continue
        writer.close()
        return


@pytest.fixture
def hypercorn_overrides() -> dict[str, object]:
    """Hypercorn settings a test module needs other than hypercorn.toml's."""
    return {}


@pytest.fixture
async def live(ws_settings: Settings, hypercorn_overrides: dict[str, object]) -> AsyncIterator[LiveApp]:
    app = create_app(ws_settings)
    config = Config.from_toml(REPO_ROOT / "hypercorn.toml")
    for name, value in hypercorn_overrides.items():
        setattr(config, name, value)
    port = free_port()
    config.bind = [f"127.0.0.1:{port}"]
    config.errorlog = None
    stop = asyncio.Event()

    async def shutdown_trigger() -> None:
        await stop.wait()
        await app.extensions["taskwire"].begin_shutdown()

    server = asyncio.create_task(serve(app, config, shutdown_trigger=shutdown_trigger))
    try:
        await _wait_listening(port)
        yield LiveApp(app, Api(app.test_client()), port)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(server, 15)
