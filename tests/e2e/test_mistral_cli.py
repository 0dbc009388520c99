"""The real `mistral` CLI (python-mistralclient) against the REST face, command for command."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.support.net import eventually
from tests.support.system import LevanteProcess

MISTRAL = shutil.which("mistral") or str(Path(sys.executable).parent / "mistral")


def cli(levante: LevanteProcess, *args: str) -> str:
    """Runs one `mistral` command; fails the test with its stderr if it fails."""
    done = subprocess.run(
        [MISTRAL, "--os-mistral-url", levante.url, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(levante.data_dir)},
    )
    assert done.returncode == 0, f"mistral {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


def cli_json(levante: LevanteProcess, *args: str):
    return json.loads(cli(levante, *args, "-f", "json"))


@pytest.fixture
def workflow_file(tmp_path: Path) -> tuple[str, Path]:
    name = f"cli_{uuid.uuid4().hex[:8]}"
    path = tmp_path / "wf.yaml"
    path.write_text(f"""\
version: '2.0'
{name}:
  input:
    - x
  output:
    doubled: <% $.doubled %>
  tasks:
    first:
      action: std.echo output=<% $.x * 2 %>
      publish:
        doubled: <% task().result %>
      on-success: second
    second:
      action: std.noop
      on-success: third
    third:
      action: std.echo output="done"
""")
    return name, path


def test_cli_walkthrough(levante: LevanteProcess, workflow_file: tuple[str, Path]) -> None:
    name, path = workflow_file
    created = cli_json(levante, "workflow-create", str(path))
    assert [w["Name"] for w in created] == [name]
    assert name in [w["Name"] for w in cli_json(levante, "workflow-list")]
    got = cli_json(levante, "workflow-get", name)
    assert got["Name"] == name and got["Input"] == "x"

    execution = cli_json(levante, "execution-create", name, '{"x": 21}')
    assert execution["Workflow name"] == name
    execution_id = execution["ID"]

    def finished():
        current = cli_json(levante, "execution-get", execution_id)
        return current if current["State"] in ("SUCCESS", "ERROR") else None

    done = eventually(finished, timeout=30, interval=0.2, what="execution to finish")
    assert done["State"] == "SUCCESS"
    assert json.loads(cli(levante, "execution-get-output", execution_id)) == {"doubled": 42}
    assert execution_id in [e["ID"] for e in cli_json(levante, "execution-list")]

    tasks = cli_json(levante, "task-list", execution_id)
    assert sorted((t["Name"], t["State"]) for t in tasks) == [
        ("first", "SUCCESS"),
        ("second", "SUCCESS"),
        ("third", "SUCCESS"),
    ]
    task_ids = {t["ID"] for t in tasks}
    actions = [a for a in cli_json(levante, "action-execution-list") if a["Task ID"] in task_ids]
    assert sorted(a["Name"] for a in actions) == ["std.echo", "std.echo", "std.noop"]

    cli(levante, "workflow-delete", name)
    assert name not in [w["Name"] for w in cli_json(levante, "workflow-list")]


def _validate(levante: LevanteProcess, command: str, path: Path) -> dict:
    return cli_json(levante, command, str(path))


def test_validate_commands(levante: LevanteProcess, tmp_path: Path) -> None:
    good_wf = tmp_path / "good_wf.yaml"
    good_wf.write_text("version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.noop\n")
    bad_wf = tmp_path / "bad_wf.yaml"
    bad_wf.write_text(
        "version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.noop\n      on-success: nowhere\n"
    )
    good_wb = tmp_path / "good_wb.yaml"
    good_wb.write_text(
        "version: '2.0'\nname: book\nactions:\n  hello:\n    base: std.echo\n"
        "    base-input:\n      output: hi\nworkflows:\n  wf:\n    tasks:\n      t:\n"
        "        action: hello\n"
    )
    bad_wb = tmp_path / "bad_wb.yaml"
    bad_wb.write_text("version: '2.0'\nname: book\nworkflows: 5\n")

    assert _validate(levante, "workflow-validate", good_wf) == {"Valid": True, "Error": None}
    verdict = _validate(levante, "workflow-validate", bad_wf)
    assert verdict["Valid"] is False
    assert "nowhere" in verdict["Error"] and "line 6" in verdict["Error"]
    assert _validate(levante, "workbook-validate", good_wb) == {"Valid": True, "Error": None}
    verdict = _validate(levante, "workbook-validate", bad_wb)
    assert verdict["Valid"] is False and "'workflows' must be a mapping" in verdict["Error"]
