"""What every service of one `levante server` process shares."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Protocol

import grpc
from nats.aio.client import Client
from nats.js import JetStreamContext

from levante.config import Settings
from levante.health import DependencyMonitor
from levante.persistence.db import Database
from levante.security.auth import Authentication
from levante.security.internal import InternalCredentials


@dataclass(slots=True)
class Shared:
    """Connections and servers the composition root built, handed to each service."""

    settings: Settings
    database: Database
    nats: Client
    jetstream: JetStreamContext
    grpc_server: grpc.aio.Server
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    #: The services this process runs (`--services`), and its executor target.
    services: tuple[str, ...] = ()
    executor_target: str | None = None
    #: Verifies tokens (None while authentication is off).
    authentication: Authentication | None = None
    #: The service credential calls to internal services carry (None: none needed).
    internal: InternalCredentials | None = None
    #: Whether the database and the broker answer (set before the services start).
    dependencies: DependencyMonitor | None = None


class Service(Protocol):
    """A service's life cycle inside a process."""

    #: Full names of the gRPC services it registered (for health and reflection).
    grpc_services: tuple[str, ...]

    async def start(self) -> None:
        """Starts taking work (called after the gRPC server started)."""

    async def stop(self) -> None:
        """Stops taking work, finishes what it has, and returns."""
