"""Serving one instance with Hypercorn, with a shutdown that always ends.

On SIGTERM the instance drains: ``/readyz`` fails, new WebSockets and event streams are
refused, open ones are closed with 1012, and Hypercorn lets the requests in flight finish.
Hypercorn's final wait is not bounded on Python 3.12+ (``Server.wait_closed`` waits for
every connection, hypercorn issue #308), so the whole shutdown is held to its
``graceful_timeout`` here: whatever still runs near the end is cut, the store and broker
are closed, and should even that hang (a thread stuck on a disk), a watchdog thread ends
the process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading

from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart

from app.runtime import Runtime

log = logging.getLogger("taskwire")

# Shares of graceful_timeout: open sockets get this long to close, and this much is kept
# back at the end to close the store and broker if Hypercorn has to be cut short.
SOCKETS_SHARE = 0.4
CLEANUP_SHARE = 0.25
# The watchdog fires this long before graceful_timeout runs out.
WATCHDOG_MARGIN_SECONDS = 0.2


async def serve_until_stopped(app: Quart, config: Config, stop: asyncio.Event) -> None:
    """Serve until ``stop`` is set, then shut down within ``config.graceful_timeout``."""
    runtime: Runtime = app.extensions["taskwire"]
    budget = float(config.graceful_timeout)

    async def shutdown_trigger() -> None:
        await stop.wait()
        _arm_watchdog(budget - WATCHDOG_MARGIN_SECONDS)
        log.info("shutting down: closing WebSockets, finishing requests in flight")
        await runtime.begin_shutdown(wait=budget * SOCKETS_SHARE)

    serving = asyncio.create_task(serve(app, config, shutdown_trigger=shutdown_trigger))
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not serving.done():
            await _finish_within(serving, runtime, budget)
    finally:
        stopping.cancel()
        await asyncio.gather(stopping, return_exceptions=True)
    if not serving.cancelled():
        serving.result()  # a failure to start (a busy port) is raised, not swallowed


async def _finish_within(serving: asyncio.Task[None], runtime: Runtime, budget: float) -> None:
    cleanup = budget * CLEANUP_SHARE
    await asyncio.wait({serving}, timeout=budget - cleanup)
    if serving.done():
        return
    log.warning("connections still open after %.1f s of shutdown; closing them", budget - cleanup)
    serving.cancel()
    await asyncio.wait({serving}, timeout=cleanup / 3)
    try:
        async with asyncio.timeout(cleanup / 2):
            await runtime.close()
    except Exception as error:  # exiting anyway; the store's committed writes are safe
        log.warning("store and broker not closed cleanly: %r", error)


def _arm_watchdog(seconds: float) -> None:
    """The last resort: end the process even if the event loop or a thread is stuck."""

    def expire() -> None:
        os.write(2, b"taskwire: shutdown overran graceful_timeout; exiting now\n")
        os._exit(1)

    timer = threading.Timer(max(seconds, 0.1), expire)
    timer.daemon = True
    timer.start()
