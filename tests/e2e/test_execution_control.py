"""Pausing, resuming, stopping, renaming and deleting executions (`execution-update`)."""

from __future__ import annotations

import json
import uuid

from mistralclient.api.base import APIException

from tests.support.http import request
from tests.support.net import eventually
from tests.support.system import LevanteProcess

SLOW = """\
version: '2.0'
{name}:
  output:
    env_value: <% env().color %>
  tasks:
    first:
      action: std.echo output=1 delay=1
      on-success: second
    second:
      action: std.echo output=<% env().color %>
"""


def _state(mistral, execution_id: str) -> str:
    return mistral.executions.get(execution_id).state


def test_pause_then_resume_with_env(mistral) -> None:
    name = f"pause_{uuid.uuid4().hex[:8]}"
    mistral.workflows.create(SLOW.format(name=name))
    execution = mistral.executions.create(name, workflow_input={}, env={"color": "red"})
    paused = mistral.executions.update(execution.id, "PAUSED")
    assert paused.state == "PAUSED"
    # The running action finishes, but `second` does not start while paused.
    eventually(
        lambda: [
            t
            for t in mistral.tasks.list(workflow_execution_id=execution.id)
            if t.name == "first" and t.state == "SUCCESS"
        ],
        timeout=20,
        what="first to finish",
    )
    names = [t.name for t in mistral.tasks.list(workflow_execution_id=execution.id)]
    assert names == ["first"] and _state(mistral, execution.id) == "PAUSED"

    resumed = mistral.executions.update(execution.id, "RUNNING", env={"color": "blue"})
    # The last task is quick: by the time the answer is read it may be done.
    assert resumed.state in ("RUNNING", "SUCCESS")
    done = eventually(
        lambda: (e := mistral.executions.get(execution.id)).state == "SUCCESS" and e,
        timeout=20,
        what="SUCCESS after resume",
    )
    assert json.loads(done.output) == {"env_value": "blue"}
    assert json.loads(done.params)["env"] == {"color": "blue"}


def test_cancel_and_force_error(mistral, levante: LevanteProcess) -> None:
    name = f"stop_{uuid.uuid4().hex[:8]}"
    mistral.workflows.create(SLOW.format(name=name))
    first = mistral.executions.create(name, env={"color": "x"})
    cancelled = mistral.executions.update(first.id, "CANCELLED")
    assert cancelled.state == "CANCELLED"
    assert json.loads(cancelled.output) == {"result": None}
    second = mistral.executions.create(name, env={"color": "x"})
    status, stopped = request(
        "PUT",
        f"{levante.url}/executions/{second.id}",
        body=json.dumps({"state": "ERROR", "state_info": "stopped by operator"}).encode(),
    )
    assert status == 200
    assert (stopped["state"], stopped["state_info"]) == ("ERROR", "stopped by operator")
    assert json.loads(stopped["output"]) == {"result": "stopped by operator"}
    assert all(t.state == "CANCELLED" for t in mistral.tasks.list(workflow_execution_id=second.id))


def test_update_rules_and_rename(mistral, levante: LevanteProcess) -> None:
    name = f"rename_{uuid.uuid4().hex[:8]}"
    mistral.workflows.create(f"version: '2.0'\n{name}:\n  tasks:\n    t:\n      action: std.noop\n")
    execution = mistral.executions.create(name)
    url = f"{levante.url}/executions/{execution.id}"
    status, body = request("PUT", url, body=json.dumps({"description": "renamed"}).encode())
    assert status == 200 and body["description"] == "renamed"
    assert "params" not in body and "input" not in body
    assert request("PUT", url, body=b"{}") == (
        400,
        {
            "faultcode": "Client",
            "debuginfo": None,
            "faultstring": "The property state, description, or env is not provided for update.",
        },
    )
    status, body = request(
        "PUT", url, body=json.dumps({"state": "PAUSED", "description": "x"}).encode()
    )
    assert status == 400
    assert body["faultstring"] == "The property description must be updated separately from state."
    status, body = request("PUT", url, body=json.dumps({"state": "IDLE"}).encode())
    assert status == 400 and body["faultstring"].startswith("Cannot change state to IDLE.")


def test_delete_needs_force_while_running(mistral) -> None:
    name = f"delete_{uuid.uuid4().hex[:8]}"
    mistral.workflows.create(SLOW.format(name=name))
    execution = mistral.executions.create(name, env={"color": "x"})
    try:
        mistral.executions.delete(execution.id)
    except APIException as error:
        assert error.error_code == 403
        assert "Only completed executions can be deleted. Use --force" in error.error_message
    else:
        raise AssertionError("expected 403")
    mistral.executions.delete(execution.id, force=True)
    try:
        mistral.executions.get(execution.id)
    except APIException as error:
        assert error.error_code == 404
    else:
        raise AssertionError("expected 404 after delete")
    assert [t for t in mistral.tasks.list() if t.workflow_execution_id == execution.id] == []
