"""Runs the real system (`levante server`) as a child process for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.net import eventually, free_port


class LevanteProcess:
    """`levante server` with its own data dir, ports, and (optionally) database URL."""

    def __init__(
        self,
        data_dir: Path,
        *,
        database_url: str | None = None,
        services: str | None = None,
        extra_env: dict[str, str] | None = None,
        server_args: list[str] | None = None,
        ready: str = "rest",
    ) -> None:
        self.data_dir = data_dir
        self.rest_port = free_port()
        self.grpc_port = free_port()
        self.database_url = database_url
        self.services = services
        self.extra_env = extra_env or {}
        self.server_args = server_args or []
        # "rest": ready when the REST face answers; "log": when the log says it is up.
        self.ready = ready
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "server.log"

    @property
    def url(self) -> str:
        """The REST base URL (Mistral's /v2)."""
        return f"http://127.0.0.1:{self.rest_port}/v2"

    @property
    def grpc_address(self) -> str:
        """The gRPC address."""
        return f"127.0.0.1:{self.grpc_port}"

    def start(self, *, timeout: float = 60.0) -> None:
        """Starts the server and waits until the REST face answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "LEVANTE_DATA_DIR": str(self.data_dir),
            "LEVANTE_REST_PORT": str(self.rest_port),
            "LEVANTE_GRPC_PORT": str(self.grpc_port),
            **self.extra_env,
        }
        if "LEVANTE_NATS_URL" not in self.extra_env:
            env.pop("LEVANTE_NATS_URL", None)
        if self.database_url:
            env["LEVANTE_DATABASE_URL"] = self.database_url
        command = [sys.executable, "-m", "levante.cli", "server"]
        if self.services:
            command += ["--services", self.services]
        command += self.server_args
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"levante server exited early:\n{self.log()}")
            if self.ready == "log":
                return "levante is up" in self.log()
            try:
                with urllib.request.urlopen(f"{self.url}", timeout=1) as response:
                    return response.status == 200
            except OSError:
                return False

        eventually(ready, timeout=timeout, interval=0.1, what="the REST face to answer")

    def stop(self, *, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Stops the server with `sig`; returns its exit code."""
        process, self.process = self.process, None
        if process is None:
            return 0
        if process.poll() is None:
            process.send_signal(sig)
            try:
                return process.wait(timeout)
            except subprocess.TimeoutExpired as error:
                process.kill()
                process.wait()
                raise AssertionError(
                    f"levante server did not stop in {timeout}s:\n{self.log()}"
                ) from error
        return process.returncode

    def log(self) -> str:
        """The server's log so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def nats_children(data_dir: Path) -> list[int]:
    """PIDs of nats-server processes whose store is in `data_dir`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            cmdline
            and cmdline[0].endswith(b"nats-server")
            and str(data_dir).encode() in b" ".join(cmdline)
        ):
            found.append(int(proc.name))
    return found


def wait_gone(pids: list[int], *, timeout: float = 10.0) -> None:
    """Waits until none of `pids` is alive."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() for pid in pids):
            return
        time.sleep(0.05)
    raise AssertionError(f"processes still alive: {pids}")
