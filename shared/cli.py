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
    actions = commands.add_parser("actions", help="the action catalogue")
    action_commands = actions.add_subparsers(
        dest="actions_command", required=True, metavar="COMMAND"
    )
    action_commands.add_parser(
        "sync",
        help="load the standard actions and the enabled plugins (entry points "
        "`levante.actions`, LEVANTE_ACTION_PACKS) and list them; servers load "
        "the same catalogue when they start",
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
        elif options.command == "actions":
            return _sync_actions()
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


def _sync_actions() -> int:
    """Loads the action catalogue as a server would; lists it and any plugin that failed."""
    import os

    from levante.actions import ActionCatalogue

    catalogue = ActionCatalogue.from_env(os.environ)
    try:
        for entry in catalogue:
            source = entry.distribution or "standard"
            kind = "sync" if entry.is_sync else "async"
            print(f"{entry.name}\t{kind}\t{source}\t{entry.input}")
        for problem in catalogue.load_errors:
            print(f"levante: plugin not loaded: {problem}", file=sys.stderr)
        print(f"{len(catalogue)} actions", file=sys.stderr)
    finally:
        catalogue.close()
    return 1 if catalogue.load_errors else 0


if __name__ == "__main__":
    sys.exit(main())
