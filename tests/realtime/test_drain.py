"""Once an instance starts draining (SIGTERM), a balancer is told at once and nothing new
attaches to it: ``/readyz`` fails, new WebSockets and event streams are refused with 503,
and a socket still in its auth phase is closed with 1012 instead of holding the drain.
The process side (the signal, the exit within graceful_timeout) is tests/ops/test_drain.py."""

from __future__ import annotations

import pytest
from websockets.exceptions import InvalidStatus

from tests.realtime.client import WsClient
from tests.realtime.conftest import LiveApp


async def test_a_socket_still_authenticating_is_closed_with_1012_when_the_drain_starts(live: LiveApp) -> None:
    silent = await WsClient.open(live.ws_url)
    await live.runtime.begin_shutdown()
    assert await silent.closed_with(timeout=2) == 1012


async def test_once_draining_readyz_fails_and_new_sockets_and_streams_are_refused(live: LiveApp) -> None:
    alice = await live.api.register()
    assert (await live.api.call("GET", "/readyz"))[0] == 200
    await live.runtime.begin_shutdown()
    status, body = await live.api.call("GET", "/readyz")
    assert (status, body["checks"]) == (503, {"draining": "yes"})
    status, body = await live.api.call("GET", f"/api/v1/boards/{alice.personal_board}/events/stream", alice)
    assert (status, body["error"]["code"]) == (503, "unavailable")
    with pytest.raises(InvalidStatus) as refused:
        await WsClient.open(live.ws_url)
    assert refused.value.response.status_code == 503
    # Plain requests are still served while the requests in flight finish.
    assert (await live.api.call("GET", "/api/v1/users/me", alice))[0] == 200
