"""Settings, read from the environment once, in the composition root."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from levante.errors import InputError
from levante.security.settings import SecuritySettings

SERVICES = ("api", "engine", "executor", "scheduler")


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a Levante process is configured by.

    Environment variables (see README): LEVANTE_DATA_DIR, LEVANTE_REST_PORT,
    LEVANTE_GRPC_PORT, LEVANTE_BIND_HOST, LEVANTE_NATS_URL,
    LEVANTE_DATABASE_URL, LEVANTE_ENGINE_ADDRESS, LEVANTE_LOG_LEVEL,
    LEVANTE_LOG_FORMAT, LEVANTE_NATS_STREAM_REPLICAS (how many NATS servers
    keep a copy of each JetStream stream: 1 for one server, 3 for a
    production cluster of three or more). `security` holds authentication,
    encryption, TLS and limits (`levante.security.settings`).
    """

    data_dir: Path
    bind_host: str = "127.0.0.1"
    rest_port: int = 8989
    grpc_port: int = 50051
    nats_url: str | None = None
    database_url: str | None = None
    engine_address: str | None = None
    log_level: str = "info"
    log_format: str = "console"
    nats_stream_replicas: int = 1
    #: LEVANTE_METRICS_PORT: serve /metrics there too (processes without REST); None: off.
    metrics_port: int | None = None
    security: SecuritySettings = field(default_factory=SecuritySettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Reads LEVANTE_* variables; raises InputError naming a bad value."""
        env = os.environ if environ is None else environ
        return cls(
            data_dir=Path(env.get("LEVANTE_DATA_DIR", "./.levante")).resolve(),
            bind_host=env.get("LEVANTE_BIND_HOST", "127.0.0.1"),
            rest_port=_port(env, "LEVANTE_REST_PORT", 8989),
            grpc_port=_port(env, "LEVANTE_GRPC_PORT", 50051),
            nats_url=env.get("LEVANTE_NATS_URL") or None,
            database_url=env.get("LEVANTE_DATABASE_URL") or None,
            engine_address=env.get("LEVANTE_ENGINE_ADDRESS") or None,
            log_level=env.get("LEVANTE_LOG_LEVEL", "info").lower(),
            log_format=env.get("LEVANTE_LOG_FORMAT", "console").lower(),
            nats_stream_replicas=_stream_replicas(env),
            metrics_port=_port(env, "LEVANTE_METRICS_PORT", 0) or None,
            security=SecuritySettings.from_env(env),
        )

    @property
    def effective_database_url(self) -> str:
        """LEVANTE_DATABASE_URL, or the SQLite file in the data dir."""
        return self.database_url or f"sqlite:///{self.data_dir / 'levante.db'}"

    @property
    def effective_engine_address(self) -> str:
        """Where the api service calls the engine: this process's own gRPC port by default."""
        return self.engine_address or f"127.0.0.1:{self.grpc_port}"


def parse_services(text: str) -> tuple[str, ...]:
    """Parses `--services api,engine`; raises InputError naming an unknown service."""
    names = tuple(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    unknown = [n for n in names if n not in SERVICES]
    if unknown or not names:
        raise InputError(f"unknown service(s) {unknown}; choose from {', '.join(SERVICES)}")
    return names


def _stream_replicas(env: Mapping[str, str]) -> int:
    # JetStream accepts 1 to 5 replicas per stream; more is refused by the server.
    raw = env.get("LEVANTE_NATS_STREAM_REPLICAS", "").strip()
    if not raw:
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= 5:
        raise InputError(f"LEVANTE_NATS_STREAM_REPLICAS must be 1 to 5, got {raw!r}")
    return int(raw)


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise InputError(f"{name} must be a port number (0-65535), got {raw!r}")
    return int(raw)
