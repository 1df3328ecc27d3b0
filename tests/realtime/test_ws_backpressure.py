"""A slow consumer is cut off (4408) instead of growing memory or slowing the others."""

from __future__ import annotations

import asyncio

import pytest

from app.settings import Settings
from tests.realtime.conftest import LiveApp
from tests.realtime.raw_client import RawWebSocket

SLOW_CONSUMER_CLOSE = bytes([0x88, 0x02]) + (4408).to_bytes(2, "big")


@pytest.fixture
def ws_settings(ws_settings: Settings) -> Settings:
    return ws_settings.model_copy(update=dict(ws_send_queue=8))


class StalledReader(RawWebSocket):
    """A raw WebSocket client that sends its messages and then never reads, with a tiny
    receive buffer so that the server's socket backs up quickly."""

    async def read_to_close(self, timeout: float = 20.0) -> bytes:
        loop, received = asyncio.get_running_loop(), bytearray()
        async with asyncio.timeout(timeout):
            while not received.endswith(SLOW_CONSUMER_CLOSE):
                chunk = await loop.sock_recv(self.sock, 1 << 20)
                if not chunk:
                    break
                received += chunk
        self.sock.close()
        return bytes(received)


async def test_a_reader_that_stalls_is_closed_with_4408_and_others_get_everything(live: LiveApp) -> None:
    alice = await live.api.register()
    board = alice.personal_board
    stalled = StalledReader(live.port)
    await stalled.start(alice.access_token, board)
    healthy = await live.client(alice)
    await healthy.subscribe(board)
    bulky = "x" * 20000
    count = 0
    while live.runtime.hub.connection_count > 1 and count < 1000:
        count += 1
        await live.api.task(alice, board, f"bulky {count}", description=bulky)
        while healthy.seqs.get(board, [0])[-1] < count:
            await healthy.recv()
    assert live.runtime.hub.connection_count == 1, "the stalled reader was never cut off"
    assert healthy.seqs[board] == list(range(1, count + 1))
    assert (await stalled.read_to_close()).endswith(SLOW_CONSUMER_CLOSE)
    await healthy.close()
