"""Command line: ``python -m app serve`` and the operations commands of ``app.ops.cli``."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path

from app.observability.logs import configure_logging
from app.ops.cli import add_ops_commands, run_ops_command
from app.private_files import PRIVATE_UMASK
from app.settings import Settings, SettingsError, ensure_secret_key, load_settings, settings_table

REPO_ROOT = Path(__file__).resolve().parent.parent


def _configure_logging(settings: Settings) -> None:
    configure_logging(settings.log_level)
    if settings.sentry_dsn:
        try:
            import sentry_sdk
        except ImportError:
            logging.getLogger("taskwire").warning("TASKWIRE_SENTRY_DSN is set but sentry-sdk is not installed")
        else:
            sentry_sdk.init(dsn=settings.sentry_dsn, send_default_pii=False)


class StartupError(Exception):
    """Start-up cannot go on; the message is the one line the operator sees."""


def _listen(host: str, port: int, backlog: int) -> socket.socket:
    """Bind and listen before anything else starts, so that a busy port is one clear line."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as error:
        sock.close()
        hint = "; another server holds it: stop it or choose another PORT" if error.errno == errno.EADDRINUSE else ""
        raise StartupError(f"cannot listen on {_address(host, port)}: {error.strerror}{hint}") from None
    return sock


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _listening_line(settings: Settings) -> str:
    url = f"http://{_address(settings.host, settings.port)}"
    if settings.host in ("0.0.0.0", "::"):
        every = "every IPv4 interface" if settings.host == "0.0.0.0" else "every interface"
        where = f"{every}; from this machine: http://{_address('127.0.0.1', settings.port)}/"
    else:
        where = "this address only"
    return (f"Taskwire listening on {url} ({where}; store {settings.effective_database_url.split('://')[0]}, "
            f"broker {'redis' if settings.redis_url else 'in-process'})")


def _event_loop_factory(config_path: Path) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop the Hypercorn config's ``worker_class`` names. ``hypercorn.asyncio.serve``
    leaves the loop and the process count to its caller, so both are read here, and a value
    Taskwire does not run is refused instead of ignored."""
    from hypercorn.config import Config

    config = Config.from_toml(config_path) if config_path.exists() else Config()
    if config.workers != 1:
        # One process per instance (docs/operations.md): scale with processes behind the
        # load balancer, each with its own hub on the shared broker.
        raise SettingsError(f"workers = {config.workers} in {config_path.name}: Taskwire runs one worker per process; "
                            "start more processes instead")
    if config.worker_class == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    if config.worker_class != "asyncio":
        raise SettingsError(f'worker_class = "{config.worker_class}" in {config_path.name}: use "uvloop" or "asyncio"')
    return None


async def _serve(settings: Settings, config_path: Path) -> None:
    from hypercorn.config import Config

    from app.factory import create_app
    from app.serving import serve_until_stopped
    from app.store.base import StoreUnavailable

    config = Config.from_toml(config_path) if config_path.exists() else Config()
    listener = _listen(settings.host, settings.port, config.backlog)
    config.bind = [f"fd://{listener.detach()}"]
    # Hypercorn's own lines go through our log handler, once (its "-" would add a second,
    # plain-text copy on stderr).
    config.errorlog = logging.getLogger("hypercorn.error")
    app = create_app(settings)
    try:
        # Store.open is idempotent: opening it here, before Hypercorn's lifespan opens the
        # runtime, turns an unreachable database into one line instead of Quart's tracebacks.
        await app.extensions["taskwire"].store.open()
    except StoreUnavailable as error:
        reason = str(error).splitlines()[0].split(" (configured timeouts")[0]
        raise StartupError(f"cannot open the store: {reason}") from None

    @app.before_serving
    async def announce() -> None:
        logging.getLogger("taskwire").info(_listening_line(settings))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    await serve_until_stopped(app, config, stop)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description="Taskwire")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the server (Hypercorn) on $PORT")
    serve_parser.add_argument("--config", type=Path, default=REPO_ROOT / "hypercorn.toml")
    commands.add_parser("settings-table", help="print the README's table of every setting (Markdown)")
    add_ops_commands(commands)
    args = parser.parse_args(argv)
    if args.command == "settings-table":
        print(settings_table(), end="")
        return 0
    # Everything this process creates (the database and its -wal/-shm, backups, exports,
    # the secret key, their partial files) starts readable by its owner only.
    os.umask(PRIVATE_UMASK)
    try:
        settings = load_settings()
        # Only the server signs tokens; an operations command must not leave a generated
        # key behind in a data dir (say, on the host that keeps the backups).
        if args.command == "serve":
            settings = ensure_secret_key(settings)
    except SettingsError as error:
        print(f"taskwire: {error}", file=sys.stderr)
        return 2
    _configure_logging(settings)
    if args.command == "serve":
        try:
            loop_factory = _event_loop_factory(args.config)
        except SettingsError as error:
            print(f"taskwire: {error}", file=sys.stderr)
            return 2
        try:
            asyncio.run(_serve(settings, args.config), loop_factory=loop_factory)
        except StartupError as error:
            print(f"taskwire: {error}", file=sys.stderr)
            return 1
        return 0
    return run_ops_command(args, settings)


if __name__ == "__main__":
    sys.exit(main())
