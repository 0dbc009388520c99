"""Both REST faces fuzzed with authentication on, as a project member (not an administrator).

The same schemathesis run as test_openapi.py (no 5xx; answers conform to
their documented schemas and content types), against a server with a tokens
file and a valid member token on every request: the authorization paths
(404 for what is not the caller's, 403 for `all_projects` and public scope)
and the limits get fuzzed too. A few requests without a token check the 401
of both faces.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fuzz import FACES, fuzz
from tests.support.system import LevanteProcess
from tests.support.tenants import B, call, secured_process


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LevanteProcess]:
    """One embedded server (SQLite) with authentication on."""
    system = secured_process(tmp_path_factory.mktemp("levante-fuzz-secured"))
    system.start()
    yield system
    system.stop()


@pytest.mark.parametrize(("face", "path", "extra"), FACES, ids=[face[0] for face in FACES])
def test_schemathesis_as_a_member_finds_no_server_error(
    server: LevanteProcess, tmp_path: Path, face: str, path: str, extra: list[str]
) -> None:
    fuzz(
        f"http://127.0.0.1:{server.rest_port}{path}",
        tmp_path,
        label=f"{face} face, authenticated member",
        extra=extra,
        token=B,
    )


@pytest.mark.parametrize(
    ("path", "shape"),
    [("/v2/executions", "faultstring"), ("/levante/v2/executions", "message")],
    ids=["mistral", "transcoded"],
)
def test_without_a_token_both_faces_answer_401(
    server: LevanteProcess, path: str, shape: str
) -> None:
    status, answer = call(server, None, "GET", path)
    assert status == 401 and shape in answer, answer
