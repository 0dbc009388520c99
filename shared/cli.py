"""The `levante` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys

from levante import logs
from levante.config import SERVICES, Settings, parse_services
from levante.errors import LevanteError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="levante", description="Levante: a Mistral-compatible workflow service."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    server = commands.add_parser("server", help="run services (default: all of them)")
    server.add_argument(
        "--services",
        default=",".join(SERVICES),
        help=f"comma-separated services to run (default: {','.join(SERVICES)})",
    )
    server.add_argument(
        "--executor-target",
        default=None,
        metavar="NAME",
        help="executor takes only tasks with `target: NAME`",
    )
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    db_commands.add_parser("upgrade", help="apply the database migrations")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `levante` command."""
    options = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        logs.configure(level=settings.log_level, fmt=settings.log_format)
        if options.command == "server":
            from levante.server import serve

            names = parse_services(options.services)
            asyncio.run(serve(settings, names, executor_target=options.executor_target))
        elif options.command == "db":
            from levante.persistence import migrate
            from levante.persistence.db import Database

            settings.data_dir.mkdir(parents=True, exist_ok=True)
            database = Database(settings.effective_database_url)
            migrate.upgrade(database)
            print(f"database at the newest schema: {database.url.split('@')[-1]}")
    except LevanteError as error:
        print(f"levante: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
