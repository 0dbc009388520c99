"""The `levante` command line.

Server side: `server`, `db upgrade`, `actions sync`. Client side (talking to
a running server through `levante.client`): `run`, `watch`, `report`,
`get`, `list`, `graph`, defined in `levante.client.commands`. Operators'
(`levante.ops_commands`): `doctor`, and `dev cluster` for a multi-process
cluster on one machine.
"""

from __future__ import annotations

import asyncio
import sys

import click

from levante.config import SERVICES
from levante.errors import LevanteError


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    help="Levante: a Mistral-compatible workflow service.",
)
def cli() -> None:
    """The `levante` command."""


@cli.command(help="run services (default: all of them)")
@click.option(
    "--services",
    default=",".join(SERVICES),
    show_default=True,
    help="comma-separated services to run",
)
@click.option(
    "--executor-target",
    default=None,
    metavar="NAME",
    help="executor takes only tasks with `target: NAME`",
)
def server(services: str, executor_target: str | None) -> None:
    from levante import tracing
    from levante.config import parse_services
    from levante.server import serve

    settings = _settings()
    names = parse_services(services)
    tracing.configure(service="+".join(names))
    try:
        asyncio.run(serve(settings, names, executor_target=executor_target))
    finally:
        tracing.shutdown()


@cli.group(help="the action catalogue")
def actions() -> None:
    """`levante actions ...`."""


@actions.command(
    help="load the standard actions and the enabled plugins (entry points "
    "`levante.actions`, LEVANTE_ACTION_PACKS) and list them; servers load "
    "the same catalogue when they start"
)
def sync() -> int:
    _settings()
    return _sync_actions()


@cli.group(help="database maintenance")
def db() -> None:
    """`levante db ...`."""


@db.command(help="apply the database migrations")
def upgrade() -> None:
    from levante.persistence import migrate
    from levante.persistence.db import Database

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database = Database(settings.effective_database_url)
    migrate.upgrade(database)
    print(f"database at the newest schema: {database.url.split('@')[-1]}")


def _settings():  # noqa: ANN202 - levante.config.Settings, imported late
    from levante import logs
    from levante.config import Settings

    settings = Settings.from_env()
    logs.configure(level=settings.log_level, fmt=settings.log_format)
    return settings


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


def _add_client_commands() -> None:
    from levante import ops_commands
    from levante.client import commands

    for command in (*commands.COMMANDS, *ops_commands.COMMANDS):
        cli.add_command(command)


_add_client_commands()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `levante` command; returns the exit status."""
    from levante.client import ClientError

    try:
        result = cli.main(args=argv, prog_name="levante", standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except (click.Abort, KeyboardInterrupt):
        return 130
    except LevanteError as error:
        print(f"levante: {error}", file=sys.stderr)
        return 2
    except ClientError as error:
        print(f"levante: {error.message}", file=sys.stderr)
        return 1
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    sys.exit(main())
