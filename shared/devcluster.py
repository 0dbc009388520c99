"""A multi-process Levante cluster on one machine, for tests and demos (`levante dev cluster`).

Any number of api, engine, executor and scheduler processes (`levante server
--services <kind>`) run against one PostgreSQL and one nats-server or a
JetStream cluster on loopback (see `levante.devinfra`). Each process, the
broker and the database can be stopped (SIGTERM: a graceful drain), killed
(SIGKILL) and started again while workflows run; the HA harness in
tests/ha drives faults through this class.

Engines listen on ports from a fixed pool (`engine_slots`): the api's
LEVANTE_ENGINE_ADDRESS names them all (`ipv4:host:p1,host:p2,...`), and
gRPC's client connects to whichever answers, as it would to the addresses
of a DNS name, so engines can come and go.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from levante.devinfra import LocalPostgres, NatsServers
from levante.embedded import free_port
from levante.errors import InputError, UnavailableError

KINDS = ("api", "engine", "executor", "scheduler")


def health_status(address: str, service: str = "", *, timeout: float = 1.0) -> str:
    """The gRPC health status of `service` at `address`: SERVING, NOT_SERVING, or UNREACHABLE."""
    with grpc.insecure_channel(address) as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError:
            return "UNREACHABLE"
    return health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)


@dataclass
class ServiceProcess:
    """One `levante server --services <kind>` process; restartable with the same ports."""

    name: str
    kind: str
    data_dir: Path
    env: dict[str, str]
    grpc_port: int
    rest_port: int
    process: subprocess.Popen[bytes] | None = None
    #: Exit codes of earlier runs (negative: killed by that signal).
    exits: list[int] = field(default_factory=list)
    #: Process ids of every run so far.
    pids: list[int] = field(default_factory=list)

    @property
    def grpc_address(self) -> str:
        """Where its gRPC server (health, and the engine's or the api's services) listens."""
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def url(self) -> str:
        """The REST face (api processes only)."""
        return f"http://127.0.0.1:{self.rest_port}/v2"

    @property
    def log_path(self) -> Path:
        """Its log (every run appends)."""
        return self.data_dir / "server.log"

    @property
    def pid(self) -> int | None:
        """Process id while it runs."""
        return self.process.pid if self.alive else None

    @property
    def alive(self) -> bool:
        """Whether the process runs."""
        return self.process is not None and self.process.poll() is None

    def start(self, *, wait: bool = True, timeout: float = 90.0) -> None:
        """Starts the process; with `wait`, returns once its health is SERVING."""
        if self.alive:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **self.env,
            "LEVANTE_DATA_DIR": str(self.data_dir),
            "LEVANTE_GRPC_PORT": str(self.grpc_port),
            "LEVANTE_REST_PORT": str(self.rest_port),
        }
        command = [sys.executable, "-m", "levante.cli", "server", "--services", self.kind]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self.pids.append(self.process.pid)
        if wait:
            self.wait_serving(timeout=timeout)

    def wait_serving(self, *, timeout: float = 90.0) -> None:
        """Waits until the process reports SERVING; raises if it exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive:
                raise UnavailableError(f"{self.name} exited; see {self.log_path}")
            if self.health() == "SERVING":
                return
            time.sleep(0.2)
        raise UnavailableError(f"{self.name} not SERVING after {timeout:.0f}s; see {self.log_path}")

    def health(self, service: str = "") -> str:
        """Its gRPC health status (UNREACHABLE when it does not answer)."""
        return health_status(self.grpc_address, service) if self.alive else "UNREACHABLE"

    def signal(self, sig: int, *, timeout: float = 120.0) -> int | None:
        """Sends `sig` and waits up to `timeout` for the exit; returns the exit code."""
        process = self.process
        if process is None or process.poll() is not None:
            return None
        process.send_signal(sig)
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        self.exits.append(code)
        return code


class Cluster:
    """Processes of every kind on shared infrastructure; see the module docstring.

    Args:
        root: Directory for logs, data dirs and the broker's store.
        nats_nodes: 1 for one nats-server, 3 (or more) for a JetStream cluster.
        database_url: An existing PostgreSQL database to use (migrated here);
            without it a PostgreSQL of its own is started (and can be stopped).
        env: Extra environment for every service process.
        engine_slots: How many engines can run at once (ports reserved for them).
    """

    def __init__(
        self,
        root: Path,
        *,
        nats_nodes: int = 1,
        database_url: str | None = None,
        env: dict[str, str] | None = None,
        engine_slots: int = 4,
    ) -> None:
        self.root = root
        self.nats = NatsServers(root, nodes=nats_nodes)
        self.postgres: LocalPostgres | None = None if database_url else LocalPostgres()
        self.database_url = database_url or ""
        self.extra_env = dict(env or {})
        self.engine_ports = [free_port() for _ in range(engine_slots)]
        self.services: dict[str, ServiceProcess] = {}
        self._numbers = {kind: itertools.count(1) for kind in KINDS}

    # -- life cycle -------------------------------------------------------------

    def start(self, **counts: int) -> None:
        """Starts the broker and database, migrates, then `counts` processes of each kind.

        Engines start first (the api calls them), the api last.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        self.nats.start()
        if self.postgres is not None:
            self.postgres.start()
            self.database_url = self.postgres.create_database()
        from levante.persistence import migrate
        from levante.persistence.db import Database

        database = Database(self.database_url)
        try:
            migrate.upgrade(database)
        finally:
            database.dispose()
        started = [
            self.add(kind, wait=False)
            for kind in ("engine", "executor", "scheduler", "api")
            for _ in range(counts.get(kind, 0))
        ]
        for service in started:
            service.wait_serving()

    def close(self, *, timeout: float = 60.0) -> None:
        """Stops every process (SIGTERM, SIGKILL after `timeout`), the broker and the database."""
        live = [s.process for s in self.services.values() if s.alive and s.process is not None]
        for process in live:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in live:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.nats.stop()
        if self.postgres is not None:
            self.postgres.close()

    def env(self) -> dict[str, str]:
        """The environment every service process gets."""
        engines = ",".join(f"127.0.0.1:{port}" for port in self.engine_ports)
        env = {
            **os.environ,
            "LEVANTE_NATS_URL": self.nats.url,
            "LEVANTE_DATABASE_URL": self.database_url,
            "LEVANTE_ENGINE_ADDRESS": f"ipv4:{engines}",
            "LEVANTE_BIND_HOST": "127.0.0.1",
            **self.extra_env,
        }
        if self.nats.nodes >= 3:
            env.setdefault("LEVANTE_NATS_STREAM_REPLICAS", "3")
        return env

    # -- processes ----------------------------------------------------------------

    def add(self, kind: str, *, wait: bool = True) -> ServiceProcess:
        """Starts one more process of `kind`; returns it."""
        if kind not in KINDS:
            raise InputError(f"unknown service kind {kind!r}; choose from {', '.join(KINDS)}")
        name = f"{kind}-{next(self._numbers[kind])}"
        grpc_port = self._engine_port() if kind == "engine" else free_port()
        service = ServiceProcess(
            name=name,
            kind=kind,
            data_dir=self.root / name,
            env=self.env(),
            grpc_port=grpc_port,
            rest_port=free_port(),
        )
        self.services[name] = service
        service.start(wait=wait)
        return service

    def _engine_port(self) -> int:
        used = {s.grpc_port for s in self.running("engine")}
        for port in self.engine_ports:
            if port not in used:
                return port
        raise InputError(f"all {len(self.engine_ports)} engine slots are in use")

    def running(self, kind: str | None = None) -> list[ServiceProcess]:
        """The live processes (of `kind`)."""
        return [s for s in self.services.values() if s.alive and (kind is None or s.kind == kind)]

    def get(self, name: str) -> ServiceProcess:
        """The process named `name` (e.g. `engine-2`)."""
        try:
            return self.services[name]
        except KeyError:
            raise InputError(f"no process named {name!r}") from None

    def stop(self, name: str, *, timeout: float = 120.0) -> int | None:
        """SIGTERM: a graceful drain; returns the exit code."""
        return self.get(name).signal(signal.SIGTERM, timeout=timeout)

    def kill(self, name: str) -> int | None:
        """SIGKILL: a crash."""
        return self.get(name).signal(signal.SIGKILL, timeout=30)

    def restart(self, name: str, *, wait: bool = True) -> ServiceProcess:
        """Starts a stopped or killed process again, on the same ports."""
        service = self.get(name)
        if service.kind == "engine" and service.grpc_port in {
            s.grpc_port for s in self.running("engine") if s is not service
        }:
            service.grpc_port = self._engine_port()
        service.env = self.env()
        service.start(wait=wait)
        return service

    def api_urls(self) -> list[str]:
        """REST base URLs of the running api processes."""
        return [s.url for s in self.running("api")]

    def status(self) -> list[str]:
        """One line per process, the broker and the database."""
        lines = []
        for service in self.services.values():
            state = service.health() if service.alive else f"exited {service.exits[-1:]}"
            extra = f" rest={service.url}" if service.kind == "api" else ""
            lines.append(
                f"{service.name:<12} pid={service.pid or '-':<8} grpc={service.grpc_address} "
                f"{state}{extra}"
            )
        for index in range(self.nats.nodes):
            up = "running" if self.nats.running(index) else "stopped"
            lines.append(f"nats-{index:<7} nats://127.0.0.1:{self.nats.ports[index]} {up}")
        if self.postgres is not None:
            up = "running" if self.postgres.running else "stopped"
            lines.append(f"postgres     {self.database_url} {up}")
        return lines


HELP = """commands:
  status                          processes, broker and database
  add KIND                        start one more api|engine|executor|scheduler
  stop NAME | kill NAME           SIGTERM (graceful drain) | SIGKILL (crash)
  start NAME                      start a stopped or killed process again
  nats stop|kill|start [NODE]     the broker (every node unless NODE is given)
  db stop|crash|start             the database (crash: stop -m immediate)
  quit                            stop everything and exit"""


def command(cluster: Cluster, line: str) -> str:
    """Runs one console command (see HELP); returns what to print."""
    words = line.split()
    if not words:
        return ""
    verb, args = words[0], words[1:]
    if verb == "status":
        return "\n".join(cluster.status())
    if verb == "add" and len(args) == 1:
        service = cluster.add(args[0])
        return f"{service.name} started (pid {service.pid})"
    if verb in ("stop", "kill") and len(args) == 1:
        code = (cluster.stop if verb == "stop" else cluster.kill)(args[0])
        return f"{args[0]} exited with {code}"
    if verb == "start" and len(args) == 1:
        service = cluster.restart(args[0])
        return f"{service.name} started (pid {service.pid})"
    if verb == "nats" and args and args[0] in ("stop", "kill", "start"):
        node = int(args[1]) if len(args) > 1 else None
        if args[0] == "start":
            cluster.nats.start(node)
        else:
            cluster.nats.stop(node, kill=args[0] == "kill")
        return f"nats {args[0]}: done"
    if verb == "db" and args and args[0] in ("stop", "crash", "start"):
        if cluster.postgres is None:
            raise InputError("the database was given by URL: this cluster does not run it")
        if args[0] == "start":
            cluster.postgres.start()
        else:
            cluster.postgres.stop(mode="fast" if args[0] == "stop" else "immediate")
        return f"db {args[0]}: done"
    return HELP


def run_console(cluster: Cluster, *, counts: dict[str, int]) -> int:
    """`levante dev cluster`: starts the cluster, then obeys commands from stdin until `quit`.

    Without a terminal on stdin (EOF at once) it runs until SIGINT/SIGTERM.
    Everything it started is stopped on the way out.
    """
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        print(f"starting in {cluster.root} ...", flush=True)
        cluster.start(**counts)
        print("\n".join(cluster.status()), flush=True)
        print(HELP, flush=True)
        for line in sys.stdin:
            if line.strip() in ("quit", "exit"):
                return 0
            try:
                print(command(cluster, line), flush=True)
            except (InputError, UnavailableError, ValueError) as error:
                print(f"error: {error}", flush=True)
        while True:  # stdin closed: run until a signal
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        print("stopping the cluster ...", flush=True)
        cluster.close()
