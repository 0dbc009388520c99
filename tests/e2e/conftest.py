"""The embedded system, started once per module and backend (SQLite, PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from mistralclient.api import client as mistral_client

from tests.support.postgres import fresh_database
from tests.support.system import LevanteProcess


def db_upgrade(data_dir: Path, database_url: str) -> None:
    """Runs `levante db upgrade` against `database_url`."""
    env = {**os.environ, "LEVANTE_DATA_DIR": str(data_dir), "LEVANTE_DATABASE_URL": database_url}
    subprocess.run(
        [sys.executable, "-m", "levante.cli", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def levante(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LevanteProcess]:
    """A running `levante server` (all services, embedded nats-server)."""
    data_dir = tmp_path_factory.mktemp(f"levante-{request.param}")
    if request.param == "sqlite":
        system = LevanteProcess(data_dir)
        system.start()
        yield system
        system.stop()
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    with fresh_database(admin_url) as url:
        db_upgrade(data_dir, url)
        system = LevanteProcess(data_dir, database_url=url)
        system.start()
        yield system
        system.stop()


@pytest.fixture(scope="module")
def mistral(levante: LevanteProcess):
    """python-mistralclient pointed at the REST face."""
    return mistral_client.client(mistral_url=levante.url)
