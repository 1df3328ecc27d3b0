"""Taskwire itself under Uvicorn (uvloop, httptools), for bench/floor/servers.sh: the whole
app, logging as ``python -m app serve`` does, so only the server differs. A measuring tool,
not a way to run Taskwire: graceful shutdown, pings and the fan-out's direct frame writes
are Hypercorn's (app/serving.py, app/realtime/hypercorn_compat.py)."""

import os

import uvicorn

from app.factory import create_app
from app.observability.logs import configure_logging
from app.settings import ensure_secret_key, load_settings

settings = ensure_secret_key(load_settings())
configure_logging(settings.log_level)
uvicorn.run(
    create_app(settings),
    host="127.0.0.1",
    port=int(os.environ["PORT"]),
    loop="uvloop",
    http="httptools",
    access_log=False,  # our JSON request log (app/api/http_policy.py) runs under both servers
    log_config=None,
    timeout_keep_alive=15,
)
