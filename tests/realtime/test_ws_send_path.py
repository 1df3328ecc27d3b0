"""The WebSocket send path: each message straight to the socket's transport while it has
room, a queue and one packed frame per write while it pushes back, 4408 when the queue
overflows; on real loopback sockets, and through the real server with pings flowing."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import socket
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY

from app.realtime.connection import CLOSE_INTERNAL, CLOSE_SLOW_CONSUMER, Connection, WriteCoalescer
from app.realtime.frames import FrameOutlet
from app.realtime.protocol import Outbound
from app.settings import Settings
from tests.realtime.conftest import LiveApp
from tests.realtime.raw_client import OP_PING, OP_TEXT, Frame, RawWebSocket, parse_frames

QUEUE = 8
BULKY = "x" * 20000


@dataclasses.dataclass
class Wire:
    """A server-side transport (written through a FrameOutlet) and the client socket that
    reads it, paced by the test."""

    outlet: FrameOutlet
    client: socket.socket
    server_writer: asyncio.StreamWriter
    websocket_open: list[bool]
    buffer: bytearray = dataclasses.field(default_factory=bytearray)

    async def read(self, until_messages: int, timeout: float = 10.0) -> list[Frame]:
        frames: list[Frame] = []
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            while sum(len(frame.payload.split(b"\n")) for frame in frames) < until_messages:
                data = await loop.sock_recv(self.client, 1 << 16)
                assert data, "the server closed the connection"
                self.buffer += data
                frames.extend(parse_frames(self.buffer))
        return frames

    async def nothing_more(self) -> bool:
        loop = asyncio.get_running_loop()
        try:
            data = await asyncio.wait_for(loop.sock_recv(self.client, 1 << 16), 0.2)
        except TimeoutError:
            return not self.buffer
        return not data and not self.buffer


@pytest.fixture
async def wire() -> AsyncIterator[Wire]:
    accepted: asyncio.Future[asyncio.StreamWriter] = asyncio.get_running_loop().create_future()

    async def on_connect(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.set_result(writer)

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    client.setblocking(False)
    await asyncio.get_running_loop().sock_connect(client, server.sockets[0].getsockname())
    writer = await accepted
    websocket_open = [True]
    try:
        yield Wire(
            FrameOutlet(writer.transport, writer.drain, lambda: websocket_open[0]), client, writer, websocket_open
        )
    finally:
        client.close()
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
        server.close()


def _message(number: int, text: str = "") -> Outbound:
    return Outbound(f'{{"type":"event","seq":{number},"text":"{text}"}}', "event", number)


async def _unused_send(batch: list[Outbound]) -> None:
    raise AssertionError("a connection with an outlet never uses the ASGI send")


def _fill_until_it_pushes_back(conn: Connection, outlet: FrameOutlet) -> int:
    """Push bulky messages until the transport holds more than it takes; how many went."""
    number = 0
    while outlet.has_room():
        number += 1
        conn.push(_message(number, BULKY))
        assert number < 10_000, "the transport never pushed back"
    return number


def _seqs(frames: list[Frame]) -> list[int]:
    return [line["seq"] for frame in frames for line in frame.lines]


async def test_a_socket_with_room_gets_each_message_at_once_as_its_own_frame(wire: Wire) -> None:
    conn = Connection(_unused_send, QUEUE, wire.outlet)
    shared = _message(1)
    for _ in range(3):
        conn.push(shared)
    frames = await wire.read(3)
    assert [frame.payload for frame in frames] == [shared.text.encode()] * 3
    assert shared.frame is not None  # built once, shared by every write


async def test_a_burst_larger_than_the_queue_reaches_a_reader_that_keeps_up(wire: Wire) -> None:
    conn = Connection(_unused_send, QUEUE, wire.outlet)
    for number in range(1, 10 * QUEUE + 1):
        conn.push(_message(number))
    frames = await wire.read(10 * QUEUE)
    assert _seqs(frames) == list(range(1, 10 * QUEUE + 1))
    assert conn.close_code is None


async def test_a_slow_reader_gets_everything_in_order_with_what_queued_in_one_packed_frame(wire: Wire) -> None:
    conn = Connection(_unused_send, QUEUE, wire.outlet)
    taken = _fill_until_it_pushes_back(conn, wire.outlet)
    for number in range(taken + 1, taken + QUEUE):
        conn.push(_message(number))  # queued: the transport is full
    frames = await wire.read(taken + QUEUE - 1)
    assert _seqs(frames) == list(range(1, taken + QUEUE))
    assert conn.close_code is None
    assert len(frames[-1].lines) == QUEUE - 1, "what queued goes out as one frame"


async def test_a_reader_that_stops_is_closed_with_4408_once_its_queue_overflows(wire: Wire) -> None:
    conn = Connection(_unused_send, QUEUE, wire.outlet)
    taken = _fill_until_it_pushes_back(conn, wire.outlet)
    for number in range(taken + 1, taken + QUEUE + 1):
        conn.push(_message(number))
    assert conn.close_code is None
    conn.push(_message(taken + QUEUE + 1))
    assert conn.close_code == CLOSE_SLOW_CONSUMER
    await conn.stop_sending()
    assert _seqs(await wire.read(taken)) == list(range(1, taken + 1))
    assert await wire.nothing_more(), "nothing queued is sent after the close request"


async def test_close_during_a_write_stops_the_pending_write_and_sends_nothing_after(wire: Wire) -> None:
    conn = Connection(_unused_send, QUEUE, wire.outlet)
    taken = _fill_until_it_pushes_back(conn, wire.outlet)
    conn.push(_message(taken + 1))  # waits for room in a task of its own
    conn.request_close(1000)
    await conn.stop_sending()
    conn.push(_message(taken + 2))
    assert _seqs(await wire.read(taken)) == list(range(1, taken + 1))
    assert await wire.nothing_more()


async def test_a_peer_that_vanishes_during_a_write_closes_the_connection(wire: Wire) -> None:
    conn = Connection(_unused_send, QUEUE, wire.outlet)
    _fill_until_it_pushes_back(conn, wire.outlet)
    conn.push(_message(0))
    wire.client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")  # reset, not FIN
    wire.client.close()
    async with asyncio.timeout(5):
        assert await conn.wait_close_requested() == CLOSE_INTERNAL


async def test_nothing_is_written_once_the_websocket_is_closing(wire: Wire) -> None:
    conn = Connection(_unused_send, QUEUE, wire.outlet)
    conn.push(_message(1))
    wire.websocket_open[0] = False  # e.g. the server answered the client's close frame
    conn.push(_message(2))
    async with asyncio.timeout(5):
        assert await conn.wait_close_requested() == CLOSE_INTERNAL
    assert _seqs(await wire.read(1)) == [1]
    assert await wire.nothing_more()


async def test_with_a_write_delay_what_sockets_get_within_it_goes_out_as_one_frame_each(wire: Wire) -> None:
    coalescer = WriteCoalescer(0.05)
    conns = [Connection(_unused_send, QUEUE, wire.outlet) for _ in range(2)]
    messages = [_message(number) for number in range(1, 4)]
    for conn in conns:
        conn.coalesce_writes(coalescer)
        for message in messages:
            conn.push(message)
    assert [conn.queued for conn in conns] == [3, 3]  # nothing is written before the delay is over
    frames = await wire.read(6)
    assert [_seqs([frame]) for frame in frames] == [[1, 2, 3], [1, 2, 3]]


# -- through the real server -----------------------------------------------------------


@pytest.fixture
def ws_settings(ws_settings: Settings, request: pytest.FixtureRequest) -> Settings:
    return ws_settings.model_copy(update=dict(ws_send_queue=64, ws_write_delay_seconds=getattr(request, "param", 0.0)))


@pytest.fixture
def hypercorn_overrides() -> dict[str, object]:
    return {"websocket_ping_interval": 0.01}


async def _frames_until_seq(reader: RawWebSocket, seq: int, chunk: int, pause: float) -> list[Frame]:
    frames: list[Frame] = []
    while not any(
        line.get("seq") == seq and line["type"] == "event"
        for frame in frames
        if frame.opcode == OP_TEXT
        for line in frame.lines
    ):
        more = await reader.read_frames(chunk)
        assert more, "the server closed the connection"
        frames.extend(more)
        await asyncio.sleep(pause)
    return frames


async def test_sockets_served_by_hypercorn_write_frames_directly(live: LiveApp) -> None:
    alice = await live.api.register()
    client = await live.client(alice)
    [conn] = live.runtime.hub.connections
    assert conn.writes_frames_directly
    await client.close()


async def test_a_slow_reader_of_the_real_server_gets_every_event_in_order_between_pings(live: LiveApp) -> None:
    alice = await live.api.register()
    board = alice.personal_board
    reader = RawWebSocket(live.port)
    await reader.start(alice.access_token, board)
    async with asyncio.timeout(5):
        while not any(sub.live for conn in live.runtime.hub.connections for sub in conn.subscriptions.values()):
            await asyncio.sleep(0.01)
    [conn] = live.runtime.hub.connections
    count = 0
    while conn.queued < 5:  # until the socket pushes back and a few events wait for it
        count += 1
        await live.api.task(alice, board, f"bulky {count}", description=BULKY)
        assert count < 1000 and not conn.closing
    frames = await _frames_until_seq(reader, count, chunk=8192, pause=0.001)
    reader.close()
    events = [line for frame in frames if frame.opcode == OP_TEXT for line in frame.lines if line["type"] == "event"]
    assert [event["seq"] for event in events] == list(range(1, count + 1))
    assert any(frame.opcode == OP_PING for frame in frames), "pings flow between the events"
    assert any(len(frame.lines) >= 5 for frame in frames if frame.opcode == OP_TEXT), "what waited went out packed"
    assert {frame.opcode for frame in frames} <= {OP_TEXT, OP_PING}


async def test_every_event_sent_to_a_socket_is_counted_once(live: LiveApp) -> None:
    alice = await live.api.register()
    board = alice.personal_board
    clients = [await live.client(alice) for _ in range(2)]
    for client in clients:
        await client.subscribe(board)
    before = REGISTRY.get_sample_value("taskwire_events_delivered_total") or 0
    for number in range(1, 4):
        await live.api.task(alice, board, f"task {number}")
    for client in clients:
        await client.recv_until(lambda message: message.get("seq") == 3)
        await client.close()
    assert REGISTRY.get_sample_value("taskwire_events_delivered_total") - before == 6


@pytest.mark.parametrize("ws_settings", [0.0, 0.2], indirect=True, ids=["no delay", "write delay"])
async def test_events_written_at_once_reach_every_socket_complete_and_in_order(live: LiveApp) -> None:
    alice = await live.api.register()
    board = alice.personal_board
    client = await live.client(alice)
    await client.subscribe(board)
    raw = RawWebSocket(live.port, receive_buffer=1 << 20)
    await raw.start(alice.access_token, board)
    async with asyncio.timeout(5):
        while sum(sub.live for conn in live.runtime.hub.connections for sub in conn.subscriptions.values()) < 2:
            await asyncio.sleep(0.01)
    await asyncio.gather(*(live.api.task(alice, board, f"task {number}") for number in range(1, 11)))
    await client.recv_until(lambda message: message.get("seq") == 10)
    assert client.seqs[board] == list(range(1, 11))
    frames = await _frames_until_seq(raw, 10, chunk=1 << 16, pause=0)
    raw.close()
    await client.close()
    texts = [frame for frame in frames if frame.opcode == OP_TEXT]
    assert [line["seq"] for frame in texts for line in frame.lines if line["type"] == "event"] == list(range(1, 11))
    if live.runtime.settings.ws_write_delay_seconds:
        assert len(texts) < 10, "events within the delay share frames"


async def test_a_socket_without_a_transport_to_write_to_gets_events_through_the_asgi_send(live: LiveApp) -> None:
    alice = await live.api.register()
    board = alice.personal_board
    async with live.app.test_client().websocket("/api/v1/ws") as socket:  # no Hypercorn stream
        await socket.send(json.dumps({"type": "auth", "token": alice.access_token}))
        await socket.send(json.dumps({"type": "subscribe", "board": board, "id": "s"}))
        received: list[dict] = []
        while not any(message["type"] == "subscribed" for message in received):
            received += [json.loads(line) for line in (await socket.receive()).split("\n")]
        assert not any(conn.writes_frames_directly for conn in live.runtime.hub.connections)
        for number in range(1, 4):
            await live.api.task(alice, board, f"task {number}")
        async with asyncio.timeout(10):
            while not any(message.get("seq") == 3 and message["type"] == "event" for message in received):
                received += [json.loads(line) for line in (await socket.receive()).split("\n")]
    assert [message["seq"] for message in received if message["type"] == "event"] == [1, 2, 3]
