"""The operations subcommands of ``python -m app``: their arguments and their dispatch.

Each command prints its progress on stdout. When it cannot do its job it prints one line
on stderr and exits 1; a bad setting has already exited 2 before any command runs.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from app.ops.common import OpsError
from app.settings import Settings
from app.store.base import StoreUnavailable

EXIT_FAILED = 1

type Subcommands = argparse._SubParsersAction[argparse.ArgumentParser]


def add_ops_commands(commands: Subcommands) -> None:
    commands.add_parser(
        "create-indexes", help="open the store (creates its schema and indexes) and list the indexes it holds"
    )

    backup = commands.add_parser("backup", help="copy the SQLite store to a file while servers run")
    backup.add_argument("--output", type=Path, required=True, metavar="FILE")
    backup.add_argument("--force", action="store_true", help="replace FILE if it exists")

    export = commands.add_parser("export-board", help="write a board, its members, tasks and events as JSON")
    export.add_argument("board_id", metavar="BOARD_ID")
    export.add_argument("--output", type=Path, required=True, metavar="FILE.json")
    export.add_argument("--force", action="store_true", help="replace FILE.json if it exists")

    load = commands.add_parser("import-board", help="recreate an exported board under a new id")
    load.add_argument("source", type=Path, metavar="FILE.json")
    load.add_argument(
        "--owner-email",
        metavar="EMAIL",
        help="owner of the new board (default: the first exported owner with an account here)",
    )


def run_ops_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        _dispatch(args, settings)
    except OpsError as error:
        print(f"taskwire: {error}", file=sys.stderr)
        return EXIT_FAILED
    except StoreUnavailable as error:
        print(f"taskwire: the store is unavailable: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("taskwire: interrupted", file=sys.stderr)
        return 130
    return 0


def _dispatch(args: argparse.Namespace, settings: Settings) -> None:
    # Imported per command: `backup` must not load PyMongo, nor an export the backup code.
    match args.command:
        case "create-indexes":
            from app.ops.indexes import create_indexes

            _run(create_indexes(settings))
        case "backup":
            from app.ops.backup import backup_sqlite

            backup_sqlite(settings, args.output, force=args.force)
        case "export-board":
            from app.ops.board_export import export_board

            _run(export_board(settings, args.board_id, args.output, force=args.force))
        case "import-board":
            from app.ops.board_import import import_board

            _run(import_board(settings, args.source, args.owner_email))
        case _:
            raise AssertionError(f"no operations command {args.command!r}")


def _run(work: Coroutine[Any, Any, Any]) -> None:
    asyncio.run(work)
