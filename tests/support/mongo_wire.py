"""Run mongoeco's MongoDB wire server in its own process, for the tests.

``python -m tests.support.mongo_wire`` prints ``PORT <n>`` once it listens and serves
until stdin closes or it is terminated. A process of its own lets real server processes
and the test process share one "MongoDB", as they would share a real one.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from mongoeco.wire import AsyncMongoEcoProxyServer


async def serve() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncMongoEcoProxyServer(host="127.0.0.1", port=0) as server:
        print(f"PORT {server.address.port}", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(serve())
    sys.exit(0)
