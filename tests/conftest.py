"""Shared fixtures: a real PostgreSQL server for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.postgres import postgres_server


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """Admin URL of a real PostgreSQL (LEVANTE_TEST_POSTGRES_URL, or one started here)."""
    with postgres_server() as url:
        yield url
