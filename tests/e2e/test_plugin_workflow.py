"""The example action plugin, installed with pip, runs in a workflow of the real system.

pip installs examples/levante-example-actions into a temporary target
directory (the virtualenv is left alone); a `levante server` started with
that directory on PYTHONPATH finds the plugin's `levante.actions` entry
points exactly as it would an installed distribution's.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from mistralclient.api import client as mistral_client

from tests.support.http import request
from tests.support.net import eventually
from tests.support.system import LevanteProcess

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "levante-example-actions"

GREET_AND_SIGN = """\
version: '2.0'
{name}:
  input: [who, signing_key]
  output:
    greeting: <% $.greeting %>
    signature: <% $.signature %>
  tasks:
    greet:
      action: example.greet name=<% $.who %>
      publish:
        greeting: <% task().result %>
        message: <% task().result.message %>
      on-success: sign
    sign:
      action: example.checksum text=<% $.message %> key=<% $.signing_key %>
      publish:
        signature: <% task().result %>
"""


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the example plugin as pip installs it."""
    work = tmp_path_factory.mktemp("example-plugin")
    source = work / "source"
    # Build from a copy: an in-tree build would leave build/ and egg-info behind.
    shutil.copytree(EXAMPLE, source)
    target = work / "site"
    # With setuptools in the environment the build needs no package index.
    offline = ["--no-build-isolation", "--no-index"]
    if importlib.util.find_spec("setuptools") is None:
        offline = []
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *offline]
        + ["--target", str(target), str(source)],
        check=True,
        timeout=300,
    )
    return target


def _plugin_env(plugin_path: Path) -> dict[str, str]:
    pythonpath = os.pathsep.join(filter(None, [str(plugin_path), os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": pythonpath, "LEVANTE_ACTION_PACKS": ""}


@pytest.fixture(scope="module")
def server(plugin_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LevanteProcess]:
    """`levante server` (all services, SQLite) with the plugin importable."""
    system = LevanteProcess(
        tmp_path_factory.mktemp("levante-plugin"), extra_env=_plugin_env(plugin_path)
    )
    system.start()
    yield system
    assert system.stop() == 0


def test_the_catalogue_lists_the_plugin_actions(server: LevanteProcess) -> None:
    status, body = request("GET", f"{server.url}/actions")
    assert status == 200
    actions = {a["name"]: a for a in body["actions"]}
    assert "std.echo" in actions
    greet, checksum = actions.get("example.greet"), actions.get("example.checksum")
    assert greet is not None and checksum is not None, server.log()
    assert greet["input"] == 'name, greeting="Hello"'
    assert greet["description"].startswith("Greets `name`")
    assert checksum["input"] == 'text, algorithm="sha256", key=""'
    status, single = request("GET", f"{server.url}/actions/example.greet")
    assert status == 200 and single["input"] == 'name, greeting="Hello"'


def test_a_workflow_runs_the_plugin_actions(server: LevanteProcess) -> None:
    mistral = mistral_client.client(mistral_url=server.url)
    name = f"greet_and_sign_{uuid.uuid4().hex[:8]}"
    mistral.workflows.create(GREET_AND_SIGN.format(name=name))
    execution = mistral.executions.create(name, workflow_input={"who": "Ada", "signing_key": "k3y"})
    done = eventually(
        lambda: (e := mistral.executions.get(execution.id)).state != "RUNNING" and e,
        timeout=30,
        what="the workflow to finish",
    )
    assert done.state == "SUCCESS", done.state_info
    # No custom context is given, so the greeting has no correlation id.
    assert json.loads(done.output) == {
        "greeting": {"message": "Hello, Ada!", "workflow": name, "correlation_id": None},
        "signature": hmac.new(b"k3y", b"Hello, Ada!", "sha256").hexdigest(),
    }


def test_plugin_actions_run_directly_report_success_and_failure(server: LevanteProcess) -> None:
    mistral = mistral_client.client(mistral_url=server.url)
    answer = mistral.action_executions.create("example.greet", {"name": " "})
    assert answer.state == "ERROR"
    assert "example.greet: name must not be empty" in answer.output
    plain = mistral.action_executions.create("example.checksum", {"text": "hi", "algorithm": "md5"})
    assert plain.state == "SUCCESS"
    assert json.loads(plain.output) == {"result": hashlib.md5(b"hi").hexdigest()}


def test_actions_sync_lists_the_plugin_actions(plugin_path: Path, tmp_path: Path) -> None:
    env = {**os.environ, "LEVANTE_DATA_DIR": str(tmp_path), **_plugin_env(plugin_path)}
    result = subprocess.run(
        [sys.executable, "-m", "levante.cli", "actions", "sync"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    rows = {line.split("\t")[0]: line.split("\t") for line in result.stdout.splitlines()}
    assert rows["example.greet"] == [
        "example.greet",
        "sync",
        "levante-example-actions",
        'name, greeting="Hello"',
    ]
    assert rows["example.checksum"][2:] == [
        "levante-example-actions",
        'text, algorithm="sha256", key=""',
    ]
    assert rows["std.echo"][2] == "standard"
    assert "plugin not loaded" not in result.stderr
    assert f"{len(rows)} actions" in result.stderr


def test_custom_context_reaches_the_action_not_its_input(server: LevanteProcess) -> None:
    from tests.support.http import post_json

    mistral = mistral_client.client(mistral_url=server.url)
    name = f"greet_with_context_{uuid.uuid4().hex[:8]}"
    mistral.workflows.create(GREET_AND_SIGN.format(name=name))
    status, execution = post_json(
        f"{server.url}/executions",
        {
            "workflow_name": name,
            "input": {"who": "Ada", "signing_key": "k3y"},
            "custom_context": {"correlation_id": "req-42"},
        },
    )
    assert status == 201
    assert "custom_context" not in execution and "req-42" not in json.dumps(execution)
    done = eventually(
        lambda: (e := mistral.executions.get(execution["id"])).state != "RUNNING" and e,
        timeout=30,
        what="the workflow to finish",
    )
    assert done.state == "SUCCESS", done.state_info
    assert json.loads(done.output)["greeting"]["correlation_id"] == "req-42"
    status, direct = post_json(
        f"{server.url}/action_executions",
        {
            "name": "example.greet",
            "input": {"name": "Bo"},
            "custom_context": {"correlation_id": "direct-7"},
        },
    )
    assert status == 201 and json.loads(direct["output"])["result"]["correlation_id"] == "direct-7"
