"""A controlled clock for real server processes: a test that puts this directory on
PYTHONPATH and sets TEST_CLOCK_START (an ISO 8601 time) starts the process's wall clock
there, ticking on from it (time-machine patches time.time and datetime.now; the monotonic
clocks the event loop runs on are untouched)."""

import os

if start := os.environ.get("TEST_CLOCK_START"):
    import time_machine

    time_machine.travel(start, tick=True).start()
