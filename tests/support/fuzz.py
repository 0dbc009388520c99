"""Runs schemathesis against a server's OpenAPI document and checks its report.

Bounded: LEVANTE_FUZZ_EXAMPLES test cases per operation and phase, a fixed
seed unless LEVANTE_FUZZ_SEED is set. The hooks (tests.e2e.schemathesis_hooks)
keep action runs to std.noop. Checks: no 5xx, answers conform to the
documented schemas and content types.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = os.environ.get("LEVANTE_FUZZ_EXAMPLES", "20")
SEED = os.environ.get("LEVANTE_FUZZ_SEED", "20261123")
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"

FACES = [
    # /v2/event_triggers answers 501 on purpose (no event listener): not a server error to find.
    ("mistral", "/v2/openapi.json", ["--exclude-path-regex", "^/v2/event_triggers"]),
    ("transcoded", "/levante/v2/openapi.json", []),
]


def _schemathesis() -> str:
    found = Path(sys.executable).parent / "schemathesis"
    return str(found) if found.exists() else (shutil.which("schemathesis") or "schemathesis")


def fuzz(
    schema_url: str, workdir: Path, *, label: str, extra: Sequence[str] = (), token: str = ""
) -> None:
    """Fuzzes the operations of `schema_url`; fails on any failure or error found."""
    report = workdir / "report.json"
    command = [
        _schemathesis(),
        "run",
        schema_url,
        f"--checks={CHECKS}",
        f"--max-examples={EXAMPLES}",
        f"--seed={SEED}",
        "--workers=1",
        # Path parameters that would change the path's shape are filtered out; fine here.
        "--suppress-health-check=filter_too_much",
        "--request-timeout=20",
        *([f"--header=X-Auth-Token: {token}"] if token else []),
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
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert report.exists(), result.stdout[-4000:] + result.stderr[-4000:]
    summary = json.loads(report.read_text())
    cases = summary["test_cases"]
    print(
        f"schemathesis, {label}: {cases['generated']} requests generated over "
        f"{summary['operations']['tested']} operations in {summary['running_time']:.1f} s, "
        f"{cases['with_failures']} with failures (seed {SEED})"
    )
    assert summary["failures"] == [] and summary["errors"] == [], result.stdout[-8000:]
    assert result.returncode == 0, result.stdout[-8000:]
    assert cases["generated"] > 0 and summary["operations"]["tested"] > 0
