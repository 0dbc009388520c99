"""Applies the Alembic migrations (`levante db upgrade`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

import levante.migrations
from levante.persistence.db import Database


def alembic_config(database: Database) -> Config:
    """An Alembic configuration pointing at Levante's migration scripts."""
    config = Config()
    config.set_main_option("script_location", str(Path(levante.migrations.__file__).parent))
    config.set_main_option("sqlalchemy.url", database.url.replace("%", "%%"))
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Brings the schema to `revision` (the newest by default)."""
    config = alembic_config(database)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
