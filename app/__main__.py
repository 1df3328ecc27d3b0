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
from typing import TYPE_CHECKING

from app.observability.logs import configure_logging
from app.ops.cli import add_ops_commands, run_ops_command
from app.private_files import PRIVATE_UMASK
from app.settings import Settings, SettingsError, ensure_secret_key, load_settings, settings_table
from app.store.base import StoreUnavailable
from app.workers import die_with_supervisor, run_workers

if TYPE_CHECKING:
    from hypercorn.config import Config

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


def _listen(host: str, port: int, backlog: int, *, reuse_port: bool = False) -> socket.socket:
    """Bind and listen before anything else starts, so that a busy port is one clear line."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:  # one socket per worker on the same port (app/workers.py)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
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
    return (
        f"Taskwire listening on {url} ({where}; store {settings.effective_database_url.split('://')[0]}, "
        f"broker {'redis' if settings.redis_url else 'in-process'})"
    )


def _hypercorn_config(config_path: Path) -> Config:
    from hypercorn.config import Config

    return Config.from_toml(config_path) if config_path.exists() else Config()


def _event_loop_factory(config_path: Path) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop the Hypercorn config's ``worker_class`` names. ``hypercorn.asyncio.serve``
    leaves the loop to its caller, so it is read here, and a value Taskwire does not run is
    refused instead of ignored."""
    config = _hypercorn_config(config_path)
    if config.worker_class == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    if config.worker_class != "asyncio":
        raise SettingsError(f'worker_class = "{config.worker_class}" in {config_path.name}: use "uvloop" or "asyncio"')
    return None


def _worker_count(settings: Settings, config_path: Path) -> int:
    """TASKWIRE_WORKERS, else ``workers`` of hypercorn.toml; more than one needs Redis."""
    count = settings.workers or _hypercorn_config(config_path).workers
    if count > 1 and not settings.redis_url:
        raise SettingsError(
            f"{count} workers need TASKWIRE_REDIS_URL: with the in-process broker each worker "
            f"would fan out only to its own clients (set it, or run one worker)"
        )
    return count


def _serve_workers(settings: Settings, config_path: Path, count: int) -> int:
    backlog = _hypercorn_config(config_path).backlog
    listeners = [_listen(settings.host, settings.port, backlog, reuse_port=True) for _ in range(count)]
    return run_workers(listeners, config_path)


async def _serve(settings: Settings, config_path: Path, listen_fd: int | None = None) -> None:
    from app.factory import create_app
    from app.serving import serve_until_stopped

    config = _hypercorn_config(config_path)
    # A worker of a multi-core instance is handed its socket, already bound and listening.
    listener = (
        socket.socket(fileno=listen_fd)
        if listen_fd is not None
        else _listen(settings.host, settings.port, config.backlog)
    )
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


def _mcp(settings: Settings) -> int:
    """The MCP server over stdio, acting with the API token in TASKWIRE_TOKEN."""
    from app.api.mcp.stdio import TOKEN_VARIABLE, TokenRefused, serve_stdio

    try:
        asyncio.run(serve_stdio(settings, os.environ.get(TOKEN_VARIABLE, "")))
    except TokenRefused as error:
        print(f"taskwire: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description="Taskwire")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the server (Hypercorn) on $PORT")
    serve_parser.add_argument("--config", type=Path, default=REPO_ROOT / "hypercorn.toml")
    # Internal: how app/workers.py hands a worker its listening socket.
    serve_parser.add_argument("--listen-fd", type=int, default=None, help=argparse.SUPPRESS)
    serve_parser.add_argument("--supervisor", type=int, default=None, help=argparse.SUPPRESS)
    commands.add_parser("mcp", help="serve the MCP server on stdin/stdout with the API token in $TASKWIRE_TOKEN")
    commands.add_parser("settings-table", help="print the README's table of every setting (Markdown)")
    add_ops_commands(commands)
    args = parser.parse_args(argv)
    if getattr(args, "supervisor", None) is not None:
        die_with_supervisor(args.supervisor)
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
    if args.command == "mcp":
        return _mcp(settings)
    if args.command == "serve":
        try:
            loop_factory = _event_loop_factory(args.config)
            workers = 1 if args.listen_fd is not None else _worker_count(settings, args.config)
        except SettingsError as error:
            print(f"taskwire: {error}", file=sys.stderr)
            return 2
        try:
            if workers > 1:
                return _serve_workers(settings, args.config, workers)
            asyncio.run(_serve(settings, args.config, args.listen_fd), loop_factory=loop_factory)
        except StartupError as error:
            print(f"taskwire: {error}", file=sys.stderr)
            return 1
        return 0
    return run_ops_command(args, settings)


if __name__ == "__main__":
    sys.exit(main())
