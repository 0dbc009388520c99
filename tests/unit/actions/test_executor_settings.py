"""The executor's settings from the environment."""

from __future__ import annotations

import pytest

from levante.errors import InputError
from levante.executor.settings import ExecutorSettings


def test_defaults() -> None:
    assert ExecutorSettings.from_env({}) == ExecutorSettings(
        concurrency=64, threads=16, grace_seconds=60.0, public_url=None
    )


def test_values_are_read() -> None:
    settings = ExecutorSettings.from_env(
        {
            "LEVANTE_EXECUTOR_CONCURRENCY": "8",
            "LEVANTE_EXECUTOR_THREADS": "2",
            "LEVANTE_EXECUTOR_GRACE_SECONDS": "2.5",
            "LEVANTE_PUBLIC_URL": "https://levante.example/v2/",
        }
    )
    assert settings == ExecutorSettings(
        concurrency=8, threads=2, grace_seconds=2.5, public_url="https://levante.example/v2"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LEVANTE_EXECUTOR_CONCURRENCY", "0"),
        ("LEVANTE_EXECUTOR_CONCURRENCY", "many"),
        ("LEVANTE_EXECUTOR_THREADS", "-1"),
        ("LEVANTE_EXECUTOR_GRACE_SECONDS", "soon"),
        ("LEVANTE_EXECUTOR_GRACE_SECONDS", "-5"),
        ("LEVANTE_EXECUTOR_GRACE_SECONDS", "nan"),
    ],
    ids=lambda value: str(value),
)
def test_bad_values_are_named(name: str, value: str) -> None:
    with pytest.raises(InputError, match=name):
        ExecutorSettings.from_env({name: value})
