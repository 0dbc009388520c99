"""Both REST faces' OpenAPI documents, as the real server serves them, and a fuzz run on each.

The fuzz runs are bounded (LEVANTE_FUZZ_EXAMPLES test cases per operation and
phase, a fixed seed unless LEVANTE_FUZZ_SEED is set) so both take well under
two minutes on both databases; every run prints how many requests it generated. Checks: no 5xx,
answers conform to the documented schemas and content types.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from levante.api import http_rules
from tests.e2e.conftest import db_upgrade
from tests.support.fuzz import FACES, fuzz
from tests.support.http import request
from tests.support.postgres import fresh_database
from tests.support.system import LevanteProcess


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LevanteProcess]:
    """A server per database: PostgreSQL refuses values SQLite takes (NUL, json `=`)."""
    data_dir = tmp_path_factory.mktemp(f"levante-openapi-{request.param}")
    if request.param == "sqlite":
        system = LevanteProcess(data_dir)
        system.start()
        yield system
        system.stop()
        return
    with fresh_database(request.getfixturevalue("postgres_admin_url")) as url:
        db_upgrade(data_dir, url)
        system = LevanteProcess(data_dir, database_url=url)
        system.start()
        yield system
        system.stop()


def _get(server: LevanteProcess, path: str) -> dict:
    status, document = request("GET", f"http://127.0.0.1:{server.rest_port}{path}")
    assert status == 200, document
    return document


def test_the_mistral_document_describes_every_served_route(server: LevanteProcess) -> None:
    document = _get(server, "/v2/openapi.json")
    assert document["openapi"] == "3.1.0"
    # Computed from the application's router when served: table and routes agree.
    assert document["x-levante-drift"] == {"undocumented": [], "unserved": []}
    assert document["paths"]["/v2/executions/{id}"]["put"]["requestBody"]["content"]


def test_the_transcoded_document_has_an_operation_per_rule(server: LevanteProcess) -> None:
    document = _get(server, "/levante/v2/openapi.json")
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert len(operations) == len(http_rules.discover())
    assert len({op["operationId"] for op in operations}) == len(operations)
    assert all(path.startswith("/levante/v2/") for path in document["paths"])
    # Descriptions come from the proto comments.
    patch = document["paths"]["/levante/v2/executions/{name}"]["patch"]
    assert patch["summary"].startswith("Changes an execution")
    execution = document["components"]["schemas"]["levante.v2.Execution"]
    assert execution["properties"]["state"]["readOnly"] is True
    assert execution["properties"]["customContext"]["writeOnly"] is True


@pytest.mark.parametrize(("face", "path", "extra"), FACES, ids=[face[0] for face in FACES])
def test_schemathesis_finds_no_server_error(
    server: LevanteProcess, tmp_path: Path, face: str, path: str, extra: list[str]
) -> None:
    fuzz(f"http://127.0.0.1:{server.rest_port}{path}", tmp_path, label=f"{face} face", extra=extra)
