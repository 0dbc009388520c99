"""The Helm chart rendered by Helm itself (scripts/helm_render.py in .venv-helm).

helm-sdkpy needs Python 3.12+, so the rendering runs in its own virtualenv,
which `make test` (and `make helm-tools`) creates. Without it these tests
fail and say how to get it: they are never skipped.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "levante"
VALUES = CHART / "values"
HELM_VENV = ROOT / ".venv-helm" / "bin"
# The oldest Kubernetes the chart supports (gRPC probes are GA in 1.27) and
# the newest whose schemas kubernetes-validate ships.
KUBE_VERSIONS = "1.27,1.37"

# Values sets rendered by the tests: name -> values files, in order.
VALUES_SETS: dict[str, list[Path]] = {
    "default": [],
    "minimal": [VALUES / "minimal.yaml"],
    "production": [VALUES / "production.yaml"],
    "mesh": [VALUES / "production.yaml", VALUES / "mesh.yaml"],
    "mesh-linkerd": [
        VALUES / "production.yaml",
        VALUES / "mesh.yaml",
        VALUES / "mesh-linkerd.yaml",
    ],
}


def helm_tool(name: str) -> Path:
    """A tool of .venv-helm; fails the test with the way to install it when missing."""
    path = HELM_VENV / name
    if not path.exists():
        pytest.fail(
            f"{path} is missing: the chart tests need .venv-helm, made by `make helm-tools` "
            "(`make test` runs it) from a Python >= 3.12 (python3.12 on PATH, or pyenv's "
            "3.12, or HELM_PYTHON=/path/to/python3.12)",
            pytrace=False,
        )
    return path


@dataclass(frozen=True)
class Render:
    """One run of scripts/helm_render.py."""

    returncode: int
    stderr: str
    documents: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        """The documents of one kind."""
        return [d for d in self.documents if d["kind"] == kind]

    def named(self, kind: str, name: str) -> dict[str, Any]:
        """The document of `kind` called `name`; fails naming what exists."""
        for doc in self.of_kind(kind):
            if doc["metadata"]["name"] == name:
                return doc
        names = [d["metadata"]["name"] for d in self.of_kind(kind)]
        raise AssertionError(f"no {kind} {name!r}; there are {names}")


def render(
    values: list[Path], *, validate: bool = True, lint: bool = False, timeout: float = 120
) -> Render:
    """Renders the chart with Helm; validates against KUBE_VERSIONS unless told not to."""
    command = [str(helm_tool("python")), str(ROOT / "scripts" / "helm_render.py"), str(CHART)]
    for path in values:
        command += ["-f", str(path)]
    command.append("--json")
    if validate:
        command += ["--validate", KUBE_VERSIONS]
    if lint:
        command.append("--lint")
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if not done.stdout:
        return Render(done.returncode, done.stderr)
    report = json.loads(done.stdout)
    return Render(done.returncode, done.stderr, report["documents"], report["errors"])


@pytest.fixture(scope="session")
def rendered() -> dict[str, Render]:
    """Every values set rendered and validated once per session."""
    return {name: render(files, lint=(name == "default")) for name, files in VALUES_SETS.items()}
