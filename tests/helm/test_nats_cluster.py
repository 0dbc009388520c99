"""The production values' NATS, run for real: three nats-servers with the
configuration the chart renders (moved to this machine's loopback ports) form a
JetStream cluster, and a Levante server configured by the chart's ConfigMap
creates its streams on it with three replicas."""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from levante.embedded import nats_server_binary
from levante.messaging import jetstream
from tests.helm.conftest import Render
from tests.support.net import free_port
from tests.support.system import LevanteProcess


def local_config(config: str, *, index: int, ports: list[dict[str, int]], store: Path) -> str:
    """The chart's nats.conf with pod addresses and paths replaced by local ones."""
    mine = ports[index]
    config = config.replace("$SERVER_NAME", f"levante-nats-{index}")
    config = config.replace("0.0.0.0:4222", f"127.0.0.1:{mine['client']}")
    config = config.replace("0.0.0.0:8222", f"127.0.0.1:{mine['monitor']}")
    config = config.replace("0.0.0.0:6222", f"127.0.0.1:{mine['cluster']}")
    config = config.replace("/var/run/nats/nats.pid", str(store / "nats.pid"))
    config = config.replace("store_dir: /data", f"store_dir: {store / 'jetstream'}")
    return re.sub(
        r"nats://levante-nats-(\d+)\.[^\s]+:6222",
        lambda m: f"nats://127.0.0.1:{ports[int(m.group(1))]['cluster']}",
        config,
    )


@pytest.fixture
def nats_cluster(rendered: dict[str, Render], tmp_path: Path) -> Iterator[list[str]]:
    result = rendered["production"]
    replicas = result.named("StatefulSet", "levante-nats")["spec"]["replicas"]
    config = result.named("ConfigMap", "levante-nats")["data"]["nats.conf"]
    ports = [
        {"client": free_port(), "cluster": free_port(), "monitor": free_port()}
        for _ in range(replicas)
    ]
    servers = []
    try:
        for index in range(replicas):
            store = tmp_path / f"nats-{index}"
            store.mkdir()
            path = store / "nats.conf"
            path.write_text(local_config(config, index=index, ports=ports, store=store))
            log = open(store / "log", "wb")  # noqa: SIM115 - the child owns it
            servers.append(
                subprocess.Popen(
                    [nats_server_binary(), "--config", str(path)],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            log.close()
        yield [f"nats://127.0.0.1:{p['client']}" for p in ports]
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=15)


async def _jetstream_ready(url: str, *, timeout: float = 60.0) -> None:
    """Waits until the cluster has met and elected its JetStream leader."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            client = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0)
        except Exception:
            client = None
        if client is not None:
            try:
                await client.jetstream().account_info()
                return
            except Exception:
                pass
            finally:
                await client.close()
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no JetStream cluster at {url} after {timeout}s")
        await asyncio.sleep(0.5)


async def _stream_replicas(url: str, *, timeout: float = 60.0) -> dict[str, int]:
    client = await nats.connect(url)
    try:
        js = client.jetstream()
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                found = {}
                for info in await js.streams_info():
                    name = info.config.name
                    # The stream's leader and its followers: all servers hold a copy.
                    copies = 1 + len(info.cluster.replicas or []) if info.cluster else 1
                    found[name] = min(info.config.num_replicas or 1, copies)
                return found
            except Exception:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.5)
    finally:
        await client.close()


def test_levante_creates_its_streams_on_all_three_servers(
    rendered: dict[str, Render], nats_cluster: list[str], tmp_path: Path
) -> None:
    settings = rendered["production"].named("ConfigMap", "levante")["data"]
    assert settings["LEVANTE_NATS_STREAM_REPLICAS"] == "3"
    server = LevanteProcess(
        tmp_path / "levante",
        services="engine",
        ready="log",
        extra_env={
            "LEVANTE_NATS_URL": nats_cluster[0],
            "LEVANTE_NATS_STREAM_REPLICAS": settings["LEVANTE_NATS_STREAM_REPLICAS"],
        },
    )
    asyncio.run(_jetstream_ready(nats_cluster[0]))
    server.start(timeout=60)
    try:
        # Asked through another server of the cluster than the one Levante used.
        replicas = asyncio.run(_stream_replicas(nats_cluster[2]))
        assert {jetstream.WORK_STREAM, jetstream.EVENTS_STREAM} <= set(replicas)
        assert set(replicas.values()) == {3}, replicas
    finally:
        server.stop()
