"""A nats-server -js with its monitoring port, and who of our processes sent what through it.

Several `levante server` processes join it with LEVANTE_NATS_URL. Its
monitoring endpoint (`/connz`) counts the messages each client connection
sent (`in_msgs`) and was sent (`out_msgs`); `connection_of(pid)` finds the
connection of one process by the client's TCP port, so a test can tell
whether each of several same-named processes (two engines) did any work.
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

from levante.embedded import nats_server_binary
from tests.support.net import eventually, free_port


class MonitoredNats:
    """`nats-server -js -m <port>` with its store in `data_dir`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.monitor_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The client URL (for LEVANTE_NATS_URL)."""
        return f"nats://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 15.0) -> None:
        """Starts the server; returns once its monitoring endpoint answers."""
        store = self.data_dir / "jetstream"
        store.mkdir(parents=True, exist_ok=True)
        log = open(self.data_dir / "nats-server.log", "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(
            [
                nats_server_binary(),
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-m",
                str(self.monitor_port),
                "-sd",
                str(store),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()

        def up() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"nats-server exited with {self.process.returncode}")
            try:
                self._get("/healthz")
                return True
            except OSError:
                return False

        eventually(up, timeout=timeout, interval=0.05, what="nats-server to listen")

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stops the server (SIGTERM, then SIGKILL)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def connections(self) -> list[dict[str, Any]]:
        """The server's client connections (`/connz`)."""
        return self._get("/connz?limit=4096&subs=detail")["connections"] or []

    def connection_of(self, pid: int) -> dict[str, Any]:
        """The one client connection of process `pid` (by its local TCP port)."""
        ports = tcp_ports(pid)
        found = [c for c in self.connections() if c.get("port") in ports]
        if len(found) != 1:
            raise AssertionError(f"process {pid} has {len(found)} NATS connections: {found}")
        return found[0]

    def _get(self, path: str) -> dict[str, Any]:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{self.monitor_port}{path}", timeout=5
        ) as response:
            return json.loads(response.read())


def inbox_messages(connection: dict[str, Any]) -> int:
    """Messages delivered to the connection's exact `_INBOX.<id>` subscriptions.

    A Levante pull consumer takes its messages on such an inbox; the replies
    to the client's own requests (publish acks) arrive on a wildcard inbox.
    """
    return sum(
        sub.get("msgs", 0)
        for sub in connection.get("subscriptions_list_detail") or ()
        if sub["subject"].startswith("_INBOX.") and not sub["subject"].endswith((".*", ".>"))
    )


def tcp_ports(pid: int) -> set[int]:
    """The local ports of the TCP sockets process `pid` has open."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def cpu_seconds(pid: int) -> float:
    """User + system CPU time process `pid` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # After the command: state is field 3, utime 14 and stime 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
