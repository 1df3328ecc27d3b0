"""Command line: ``python -m app serve`` and the operations commands of ``app.ops.cli``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from app.ops.cli import add_ops_commands, run_ops_command
from app.settings import Settings, SettingsError, ensure_secret_key, load_settings

REPO_ROOT = Path(__file__).resolve().parent.parent


def _configure_logging(settings: Settings) -> None:
    from app.observability.logs import configure_logging

    configure_logging(settings.log_level)
    if settings.sentry_dsn:
        try:
            import sentry_sdk
        except ImportError:
            logging.getLogger("taskwire").warning("TASKWIRE_SENTRY_DSN is set but sentry-sdk is not installed")
        else:
            sentry_sdk.init(dsn=settings.sentry_dsn, send_default_pii=False)


async def _serve(settings: Settings, config_path: Path) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    from app.factory import create_app

    config = Config.from_toml(config_path) if config_path.exists() else Config()
    config.bind = [f"0.0.0.0:{settings.port}"]
    app = create_app(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    logging.getLogger("taskwire").info("Taskwire listening on http://127.0.0.1:%s (store %s, broker %s)",
                                       settings.port, settings.effective_database_url.split("://")[0],
                                       "redis" if settings.redis_url else "in-process")

    async def shutdown_trigger() -> None:
        await stop.wait()
        logging.getLogger("taskwire").info("shutting down: closing WebSockets, finishing requests in flight")
        # Hypercorn stops accepting once this returns and then lets requests in flight
        # finish (graceful_timeout); it would wait forever for open WebSockets (hypercorn
        # issue #308), so those are closed with 1012 first and reconnect elsewhere.
        await app.extensions["taskwire"].services.begin_shutdown()

    await serve(app, config, shutdown_trigger=shutdown_trigger)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description="Taskwire")
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the server (Hypercorn) on $PORT")
    serve_parser.add_argument("--config", type=Path, default=REPO_ROOT / "hypercorn.toml")
    add_ops_commands(commands)
    args = parser.parse_args(argv)
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
        asyncio.run(_serve(settings, args.config))
        return 0
    return run_ops_command(args, settings)


if __name__ == "__main__":
    sys.exit(main())
