"""Health that follows the dependencies: each service NOT_SERVING while what it needs is away."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2

from levante.backoff import Backoff
from levante.health import PROCESS, DependencyMonitor
from levante.persistence.db import Database

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class RecordingHealth:
    """Keeps the last status set per name, as the health servicer would serve it."""

    def __init__(self) -> None:
        self.status: dict[str, int] = {}

    async def set(self, name: str, status: int) -> None:
        self.status[name] = status


class FakeNats:
    """A NATS client whose connection the test turns on and off."""

    def __init__(self) -> None:
        self.is_connected = True

    async def flush(self, timeout: float) -> None:
        if not self.is_connected:
            raise TimeoutError


class BrokenDatabase(Database):
    """A database whose connections fail while `down`."""

    down = False

    def __init__(self, path: Path) -> None:
        super().__init__(f"sqlite:///{path}")
        original = self.engine.connect

        def connect():  # noqa: ANN202 - SQLAlchemy's connection
            if self.down:
                raise OSError("connection refused")
            return original()

        self.engine.connect = connect  # type: ignore[method-assign]


@pytest.fixture
def parts(tmp_path: Path):
    database = BrokenDatabase(tmp_path / "health.db")
    yield RecordingHealth(), database, FakeNats()
    database.dispose()


async def test_each_service_follows_what_it_needs(parts) -> None:
    checker, database, nats = parts
    monitor = DependencyMonitor(
        checker,  # type: ignore[arg-type]
        {"api": ("levante.v2.WorkflowsService",), "engine": ("x.EngineService",), "executor": ()},
        database=database,
        nats=nats,  # type: ignore[arg-type]
        timeout=1,
    )
    await monitor.check()
    assert set(checker.status.values()) == {SERVING}
    assert set(checker.status) == {
        "",
        PROCESS,
        "levante.api",
        "levante.v2.WorkflowsService",
        "levante.engine",
        "x.EngineService",
        "levante.executor",
    }

    nats.is_connected = False
    await monitor.check()
    assert not monitor.available("nats") and monitor.available("database")
    assert checker.status["levante.api"] == SERVING, "the api does not need the broker"
    assert checker.status["levante.engine"] == checker.status["x.EngineService"] == NOT_SERVING
    assert checker.status["levante.executor"] == NOT_SERVING
    assert checker.status[""] == NOT_SERVING
    assert checker.status[PROCESS] == SERVING, "liveness is not readiness"

    nats.is_connected, database.down = True, True
    await monitor.check()
    assert checker.status["levante.api"] == checker.status["levante.engine"] == NOT_SERVING
    assert checker.status["levante.executor"] == SERVING, "executors need no database"

    database.down = False
    await monitor.check()
    assert set(checker.status.values()) == {SERVING}


async def test_waiting_for_a_dependency_ends_when_it_answers(parts) -> None:
    checker, database, nats = parts
    monitor = DependencyMonitor(
        checker,  # type: ignore[arg-type]
        {"engine": ()},
        database=database,
        nats=nats,  # type: ignore[arg-type]
        interval=0.05,
        timeout=1,
    )
    nats.is_connected = False
    await monitor.check()
    assert await monitor.wait_available("nats", timeout=0.1) is False
    stop = asyncio.Event()
    running = asyncio.create_task(monitor.run(stop))
    waiting = asyncio.create_task(monitor.wait_available("database", "nats", timeout=10))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    nats.is_connected = True
    assert await asyncio.wait_for(waiting, 5) is True
    stop.set()
    await running


def test_backoff_doubles_up_to_its_maximum_and_resets() -> None:
    backoff = Backoff(base=0.1, maximum=1.0)
    assert [round(backoff.failed(), 2) for _ in range(5)] == [0.2, 0.4, 0.8, 1.0, 1.0]
    assert backoff.failures == 5 and not backoff.worth_logging
    backoff.succeeded()
    backoff.failed()
    assert backoff.failures == 1 and backoff.worth_logging
