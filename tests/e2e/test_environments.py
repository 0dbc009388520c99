"""Environments (`mistral environment-*`) and executions that take one by name."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from mistralclient.api.base import APIException

from tests.e2e.test_mistral_cli import cli, cli_json
from tests.support.http import post_json, request
from tests.support.net import eventually
from tests.support.system import LevanteProcess


def test_environment_commands_and_use_by_name(
    mistral, levante: LevanteProcess, tmp_path: Path
) -> None:
    name = f"env_{uuid.uuid4().hex[:8]}"
    definition = tmp_path / "env.yaml"
    definition.write_text(
        f"name: {name}\ndescription: test env\nvariables:\n  greeting: from env\n  n: 3\n"
    )
    created = cli_json(levante, "environment-create", str(definition))
    assert created["Name"] == name and created["Description"] == "test env"
    assert name in [e["Name"] for e in cli_json(levante, "environment-list")]
    got = cli_json(levante, "environment-get", name)
    assert json.loads(got["Variables"]) == {"greeting": "from env", "n": 3}

    workflow = f"uses_{uuid.uuid4().hex[:8]}"
    mistral.workflows.create(
        f"version: '2.0'\n{workflow}:\n  output:\n    said: <% env().greeting %>\n"
        "  tasks:\n    t:\n      action: std.noop\n"
    )
    status, execution = post_json(
        f"{levante.url}/executions",
        {"workflow_name": workflow, "params": json.dumps({"env": name})},
    )
    assert status == 201
    assert json.loads(execution["params"])["env"] == {"greeting": "from env", "n": 3}
    done = eventually(
        lambda: (e := mistral.executions.get(execution["id"])).state == "SUCCESS" and e,
        timeout=20,
        what="the execution",
    )
    assert json.loads(done.output) == {"said": "from env"}

    status, body = request(
        "PUT",
        f"{levante.url}/environments",
        body=json.dumps({"name": name, "variables": {"greeting": "updated"}}).encode(),
    )
    assert status == 200 and json.loads(body["variables"]) == {"greeting": "updated"}
    status, body = post_json(f"{levante.url}/environments", {"name": name, "variables": {}})
    assert status == 409
    assert body["faultstring"] == (
        f"Duplicate entry for Environment ['name', 'project_id']: {name}, None"
    )
    status, body = post_json(
        f"{levante.url}/executions",
        {"workflow_name": workflow, "params": {"env": "no_such_env"}},
    )
    assert (status, body["faultstring"]) == (400, "Environment not found [name=no_such_env]")

    cli(levante, "environment-delete", name)
    try:
        mistral.environments.get(name)
    except APIException as error:
        assert error.error_code == 404
        assert error.error_message == f"Environment not found [name={name}]"
    else:
        raise AssertionError("expected 404")
