"""Settings from the environment, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from levante.config import Settings, parse_services
from levante.errors import InputError


def test_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({"LEVANTE_DATA_DIR": str(tmp_path)})
    assert (settings.rest_port, settings.grpc_port, settings.bind_host) == (
        8989,
        50051,
        "127.0.0.1",
    )
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'levante.db'}"
    assert settings.effective_engine_address == "127.0.0.1:50051"
    assert settings.nats_url is None


def test_overrides(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "LEVANTE_DATA_DIR": str(tmp_path),
            "LEVANTE_REST_PORT": "9000",
            "LEVANTE_GRPC_PORT": "9001",
            "LEVANTE_NATS_URL": "nats://n:4222",
            "LEVANTE_DATABASE_URL": "postgresql://u@h/db",
        }
    )
    assert (settings.rest_port, settings.grpc_port) == (9000, 9001)
    assert settings.effective_database_url == "postgresql://u@h/db"
    assert settings.effective_engine_address == "127.0.0.1:9001"


@pytest.mark.parametrize("value", ["http", "-1", "70000"])
def test_bad_port_names_the_variable(value: str) -> None:
    with pytest.raises(InputError, match="LEVANTE_REST_PORT must be a port number"):
        Settings.from_env({"LEVANTE_REST_PORT": value})


def test_services() -> None:
    assert parse_services("api, engine") == ("api", "engine")
    with pytest.raises(InputError, match="unknown service"):
        parse_services("api,web")


def test_stream_replicas_default_to_one_and_read_the_variable() -> None:
    assert Settings.from_env({}).nats_stream_replicas == 1
    assert Settings.from_env({"LEVANTE_NATS_STREAM_REPLICAS": "3"}).nats_stream_replicas == 3


@pytest.mark.parametrize("value", ["three", "0", "6"])
def test_bad_stream_replicas_name_the_variable(value: str) -> None:
    with pytest.raises(InputError, match="LEVANTE_NATS_STREAM_REPLICAS must be 1 to 5"):
        Settings.from_env({"LEVANTE_NATS_STREAM_REPLICAS": value})
