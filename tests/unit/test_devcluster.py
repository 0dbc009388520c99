"""The `levante dev cluster` console: each command reaches the cluster, bad ones get the help."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from levante.devcluster import HELP, command
from levante.errors import InputError


class FakeCluster:
    """Records what the console asked of it."""

    def __init__(self, *, with_postgres: bool = True) -> None:
        self.calls: list[tuple[Any, ...]] = []
        service = SimpleNamespace(name="executor-3", pid=42)
        self.add = lambda kind: self._call("add", kind) or service
        self.restart = lambda name: self._call("restart", name) or service
        self.stop = lambda name: self._call("stop", name) or 0
        self.kill = lambda name: self._call("kill", name) or -9
        self.status = lambda: ["engine-1 SERVING"]
        self.nats = SimpleNamespace(
            start=lambda node=None: self._call("nats start", node),
            stop=lambda node=None, kill=False: self._call("nats stop", node, kill),
        )
        self.postgres = (
            SimpleNamespace(
                start=lambda: self._call("db start"),
                stop=lambda mode: self._call("db stop", mode),
            )
            if with_postgres
            else None
        )

    def _call(self, *args: Any) -> None:
        self.calls.append(args)


@pytest.mark.parametrize(
    ("line", "printed", "call"),
    [
        ("status", "engine-1 SERVING", None),
        ("add executor", "executor-3 started (pid 42)", ("add", "executor")),
        ("stop engine-2", "engine-2 exited with 0", ("stop", "engine-2")),
        ("kill engine-2", "engine-2 exited with -9", ("kill", "engine-2")),
        ("start engine-2", "executor-3 started (pid 42)", ("restart", "engine-2")),
        ("nats kill 1", "nats kill: done", ("nats stop", 1, True)),
        ("nats stop", "nats stop: done", ("nats stop", None, False)),
        ("nats start", "nats start: done", ("nats start", None)),
        ("db crash", "db crash: done", ("db stop", "immediate")),
        ("db stop", "db stop: done", ("db stop", "fast")),
        ("db start", "db start: done", ("db start",)),
        ("help", HELP, None),
        ("kill", HELP, None),
    ],
    ids=lambda value: str(value)[:20],
)
def test_commands(line: str, printed: str, call: tuple[Any, ...] | None) -> None:
    cluster = FakeCluster()
    assert command(cluster, line) == printed  # type: ignore[arg-type]
    assert cluster.calls == ([call] if call else [])


def test_the_database_of_a_url_is_not_ours_to_stop() -> None:
    with pytest.raises(InputError, match="given by URL"):
        command(FakeCluster(with_postgres=False), "db stop")  # type: ignore[arg-type]
