"""A real nats-server with JetStream for one test, on a free port, in a temp store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from levante.embedded import EmbeddedNats


@asynccontextmanager
async def nats_server(data_dir: Path) -> AsyncIterator[EmbeddedNats]:
    """Starts nats-server -js; stops it when the block exits."""
    server = EmbeddedNats(data_dir)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
