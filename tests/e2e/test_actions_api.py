"""The action catalogue over REST, async actions completed through the API, task affinity."""

from __future__ import annotations

import json
import os
import uuid

from mistralclient.api.base import APIException

from tests.support.http import request
from tests.support.net import eventually
from tests.support.system import LevanteProcess


def test_action_list_and_get_show_the_catalogue(mistral, levante: LevanteProcess) -> None:
    names = [a.name for a in mistral.actions.list()]
    for expected in (
        "std.echo",
        "std.noop",
        "std.fail",
        "std.http",
        "std.async_noop",
        "std.email",
        "std.ssh",
        "std.javascript",
        "std.sleep",
    ):
        assert expected in names
    echo = mistral.actions.get("std.echo")
    assert echo.input == "output, delay=0"
    status, body = request("GET", f"{levante.url}/actions/std.echo/")
    assert status == 200 and body["name"] == "std.echo" and body["created_at"] == ""
    status, page = request("GET", f"{levante.url}/actions?limit=2&sort_keys=name")
    assert len(page["actions"]) == 2 and "marker=" in page["next"]
    status, body = request("GET", f"{levante.url}/actions/no.such")
    assert status == 404 and body["faultstring"] == "Action not found [name=no.such, namespace=]"


def test_run_action_of_an_unknown_action_is_a_400(mistral) -> None:
    try:
        mistral.action_executions.create("no.such.action", {})
    except APIException as error:
        assert error.error_code == 400
        assert error.error_message == "Failed to find action [action_name=no.such.action]"
    else:
        raise AssertionError("expected 400")


def test_async_action_waits_for_completion_through_the_api(mistral) -> None:
    name = f"async_{uuid.uuid4().hex[:8]}"
    mistral.workflows.create(f"""\
version: '2.0'
{name}:
  output:
    answer: <% $.answer %>
  tasks:
    wait:
      action: std.async_noop
      publish:
        answer: <% task().result %>
""")
    execution = mistral.executions.create(name)

    def running_action():
        tasks = mistral.tasks.list(workflow_execution_id=execution.id)
        if not tasks:
            return None
        actions = mistral.action_executions.list(tasks[0].id)
        return actions[0] if actions and actions[0].state == "RUNNING" else None

    action = eventually(running_action, timeout=20, what="the async action to start")
    assert mistral.executions.get(execution.id).state == "RUNNING"
    mistral.action_executions.update(action.id, state="SUCCESS", output='{"done": true}')
    done = eventually(
        lambda: (e := mistral.executions.get(execution.id)).state == "SUCCESS" and e,
        timeout=20,
        what="the workflow to finish",
    )
    assert json.loads(done.output) == {"answer": {"done": True}}
    assert json.loads(mistral.action_executions.get(action.id).output) == {"result": {"done": True}}


def test_targeted_tasks_wait_for_an_executor_of_their_target(mistral, levante) -> None:
    name = f"target_{uuid.uuid4().hex[:8]}"
    target = f"gpu{uuid.uuid4().hex[:4]}"
    mistral.workflows.create(f"""\
version: '2.0'
{name}:
  tasks:
    anywhere:
      action: std.echo output=plain
      on-success: special
    special:
      action: std.echo output=special
      target: {target}
""")
    execution = mistral.executions.create(name)

    def special_waiting():
        tasks = {t.name: t for t in mistral.tasks.list(workflow_execution_id=execution.id)}
        return "special" in tasks and tasks["anywhere"].state == "SUCCESS" and tasks["special"]

    special = eventually(special_waiting, timeout=20, what="the targeted task to be waiting")
    [action] = mistral.action_executions.list(special.id)
    assert action.state == "RUNNING" and not action.accepted

    port = (levante.data_dir / "nats.port").read_text().strip()
    executor = LevanteProcess(
        levante.data_dir / f"executor-{target}",
        services="executor",
        database_url=levante.database_url or f"sqlite:///{levante.data_dir / 'levante.db'}",
        extra_env={"LEVANTE_NATS_URL": f"nats://127.0.0.1:{port}"},
        server_args=["--executor-target", target],
        ready="log",
    )
    executor.start()
    try:
        done = eventually(
            lambda: (e := mistral.executions.get(execution.id)).state != "RUNNING" and e,
            timeout=30,
            what="the targeted task to run",
        )
        assert done.state == "SUCCESS", done.state_info
    finally:
        executor.stop()
    assert os.path.exists(executor.log_path)
