"""Readiness that follows the dependencies: gRPC health NOT_SERVING while a service cannot work.

Each service needs some of the database and the broker (NEEDS). A monitor
checks both every second (the database with `SELECT 1`, the broker with a
round trip) and sets, per service of the process, the health of its gRPC
services and of `levante.<service>` (e.g. `levante.engine`), and the
process's overall status (`""`): SERVING when everything its services need
answers, NOT_SERVING otherwise. `levante.process` stays SERVING while the
process runs, for liveness probes: an outage of a dependency is no reason to
restart a process that reconnects by itself.

Services also ask the monitor before working (`available`, `wait_available`),
so they pause instead of failing the same way over and over, and resume when
the dependency answers again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping

import structlog
from grpc_health.v1 import health, health_pb2
from nats.aio.client import Client
from sqlalchemy import text

from levante.persistence.db import Database

log = structlog.get_logger(__name__)

DATABASE = "database"
NATS = "nats"
#: What each service cannot work without. The api talks to the engine over
#: gRPC; the executor to nothing but the broker.
NEEDS: Mapping[str, frozenset[str]] = {
    "api": frozenset({DATABASE}),
    "engine": frozenset({DATABASE, NATS}),
    "executor": frozenset({NATS}),
    "scheduler": frozenset({DATABASE, NATS}),
}
#: Health name that is SERVING while the process runs (liveness).
PROCESS = "levante.process"

_SERVING = health_pb2.HealthCheckResponse.SERVING
_NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def service_health_name(service: str) -> str:
    """The health name of one Levante service, e.g. `levante.engine`."""
    return f"levante.{service}"


class DependencyMonitor:
    """Checks the database and the broker, and sets the health of the process's services.

    Args:
        checker: The gRPC health servicer.
        services: Each service of the process -> the gRPC service names it serves.
        database: Checked with `SELECT 1`.
        nats: Checked with a round trip to the server.
        interval: Seconds between checks.
        timeout: Seconds a check may take before the dependency counts as away.
    """

    def __init__(
        self,
        checker: health.aio.HealthServicer,
        services: Mapping[str, Iterable[str]],
        *,
        database: Database,
        nats: Client,
        interval: float = 1.0,
        timeout: float = 3.0,
    ) -> None:
        self._checker = checker
        self._services = {name: tuple(grpc_names) for name, grpc_names in services.items()}
        self._db = database
        self._nats = nats
        self._interval = interval
        self._timeout = timeout
        self._up = {DATABASE: True, NATS: True}
        self._since = {DATABASE: time.monotonic(), NATS: time.monotonic()}
        self._changed = asyncio.Event()
        self._probe: asyncio.Task[None] | None = None

    def available(self, *dependencies: str) -> bool:
        """Whether every named dependency answered at the last check."""
        return all(self._up[d] for d in dependencies)

    async def wait_available(self, *dependencies: str, timeout: float) -> bool:
        """Waits up to `timeout` for the dependencies to answer; returns whether they do."""
        deadline = time.monotonic() + timeout
        while not self.available(*dependencies):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                return self.available(*dependencies)
        return True

    def serving(self, service: str) -> bool:
        """Whether `service` has what it needs."""
        return self.available(*NEEDS[service])

    async def check(self) -> None:
        """Checks both dependencies once and publishes the health that follows."""
        database, nats = await asyncio.gather(self._database_answers(), self._nats_answers())
        for name, up in ((DATABASE, database), (NATS, nats)):
            if up != self._up[name]:
                away = time.monotonic() - self._since[name]
                if up:
                    log.info(f"{name} answers again; serving", after_seconds=round(away, 1))
                else:
                    log.warning(f"{name} does not answer; reporting NOT_SERVING until it does")
                self._up[name] = up
                self._since[name] = time.monotonic()
                self._changed.set()
        await self.publish()

    async def publish(self) -> None:
        """Sets every health status from the last check."""
        await self._checker.set(PROCESS, _SERVING)
        overall = True
        for service, grpc_names in self._services.items():
            ok = self.serving(service)
            overall = overall and ok
            for name in (service_health_name(service), *grpc_names):
                await self._checker.set(name, _SERVING if ok else _NOT_SERVING)
        await self._checker.set("", _SERVING if overall else _NOT_SERVING)

    async def run(self, stop: asyncio.Event) -> None:
        """Checks every `interval` until `stop` is set."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._interval)
            except TimeoutError:
                pass
            if stop.is_set():
                return
            try:
                await self.check()
            except Exception:  # a check must never end the monitor
                log.exception("dependency check failed")

    async def _database_answers(self) -> bool:
        def probe() -> None:
            with self._db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))

        # A probe that hangs (an unreachable host) keeps its thread: start no
        # second one beside it, the first still says the database is away.
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(asyncio.to_thread(probe))
        try:
            await asyncio.wait_for(asyncio.shield(self._probe), self._timeout)
        except Exception:
            return False
        return True

    async def _nats_answers(self) -> bool:
        if not self._nats.is_connected:
            return False
        try:
            await self._nats.flush(timeout=self._timeout)
        except Exception:
            return False
        return True
