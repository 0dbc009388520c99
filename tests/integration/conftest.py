"""Real infrastructure for integration tests: nats-server and both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from nats.aio.client import Client

from levante.messaging import jetstream
from levante.persistence import migrate
from levante.persistence.db import Database
from tests.support.nats import nats_server
from tests.support.postgres import fresh_database


@pytest.fixture
async def nats_client(tmp_path: Path) -> AsyncIterator[Client]:
    """A client of a fresh nats-server, with Levante's streams created."""
    async with nats_server(tmp_path / "nats") as server:
        client = await jetstream.connect(server.url, name="test")
        await jetstream.ensure_streams(client.jetstream())
        try:
            yield client
        finally:
            await client.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'test.db'}")
        migrate.upgrade(db)
        yield db
        db.dispose()
        return
    with fresh_database(request.getfixturevalue("postgres_admin_url")) as url:
        db = Database(url)
        migrate.upgrade(db)
        yield db
        db.dispose()
