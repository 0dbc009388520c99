"""Both REST faces fuzzed with authentication on, as a project member (not an administrator).

The same schemathesis run as test_openapi.py (no 5xx; answers conform to
their documented schemas and content types), against a server with a tokens
file and a valid member token on every request: the authorization paths
(404 for what is not the caller's, 403 for `all_projects` and public scope)
and the limits get fuzzed too. A few requests without a token check the 401
of both faces.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_openapi import CHECKS, EXAMPLES, FACES, ROOT, SEED, _schemathesis
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
    report = tmp_path / "report.json"
    command = [
        _schemathesis(),
        "run",
        f"http://127.0.0.1:{server.rest_port}{path}",
        f"--checks={CHECKS}",
        f"--max-examples={EXAMPLES}",
        f"--seed={SEED}",
        "--workers=1",
        "--suppress-health-check=filter_too_much",
        "--request-timeout=20",
        f"--header=X-Auth-Token: {B}",
        "--report=json",
        f"--report-json-path={report}",
        *extra,
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.e2e.schemathesis_hooks",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert report.exists(), result.stdout[-4000:] + result.stderr[-4000:]
    summary = json.loads(report.read_text())
    cases = summary["test_cases"]
    print(
        f"schemathesis, {face} face, authenticated member: {cases['generated']} requests "
        f"generated over {summary['operations']['tested']} operations in "
        f"{summary['running_time']:.1f} s, {cases['with_failures']} with failures (seed {SEED})"
    )
    assert summary["failures"] == [] and summary["errors"] == [], result.stdout[-8000:]
    assert result.returncode == 0, result.stdout[-8000:]
    assert cases["generated"] > 0 and summary["operations"]["tested"] > 0


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
