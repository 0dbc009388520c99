"""End to end through the real system: REST face -> api -> engine -> executor over
gRPC and NATS JetStream, driven by python-mistralclient as a Mistral user would."""

from __future__ import annotations

import json
import uuid

from mistralclient.api.base import APIException

from tests.support.http import post_json
from tests.support.net import eventually
from tests.support.system import LevanteProcess

THREE_TASKS = """\
version: '2.0'
{name}:
  input:
    - who
    - greeting: Hello
  output:
    message: <% $.message %>
    shout: <% $.shout %>
    steps: <% $.steps %>
  tasks:
    greet:
      action: std.echo output="<% $.greeting %>, <% $.who %>"
      publish:
        message: <% task().result %>
      on-success: shout
    shout:
      action: std.echo
      input:
        output: <% $.message + '!' %>
      publish:
        shout: <% task(shout).result %>
      on-complete:
        - finish
    finish:
      action: std.noop
      publish:
        steps: <% 3 %>
"""

FAILING = """\
version: '2.0'
{name}:
  tasks:
    prepare:
      action: std.noop
      on-success: boom
    boom:
      action: std.fail error_data="disk full on node-7"
      on-success: never
    never:
      action: std.noop
"""


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def _finished(mistral, execution_id: str):
    execution = mistral.executions.get(execution_id)
    return execution if execution.state in ("SUCCESS", "ERROR") else None


def test_three_task_workflow_reaches_success_with_output(mistral) -> None:
    name = _unique("greeter")
    [workflow] = mistral.workflows.create(THREE_TASKS.format(name=name))
    assert workflow.name == name
    assert workflow.input == 'who, greeting="Hello"'

    execution = mistral.executions.create(name, workflow_input={"who": "Levante"})
    # Started, not finished yet (unless the machine is very quick).
    assert execution.state in ("RUNNING", "SUCCESS")
    done = eventually(lambda: _finished(mistral, execution.id), timeout=30, what="SUCCESS")

    assert done.state == "SUCCESS", done.state_info
    assert json.loads(done.output) == {
        "message": "Hello, Levante",
        "shout": "Hello, Levante!",
        "steps": 3,
    }
    assert json.loads(done.input) == {"who": "Levante", "greeting": "Hello"}
    tasks = {t.name: t for t in mistral.tasks.list(workflow_execution_id=execution.id)}
    assert set(tasks) == {"greet", "shout", "finish"}
    assert all(t.state == "SUCCESS" for t in tasks.values())
    assert json.loads(mistral.tasks.get(tasks["greet"].id).result) == "Hello, Levante"
    assert json.loads(tasks["shout"].published) == {"shout": "Hello, Levante!"}
    triggered = json.loads(tasks["shout"].runtime_context)["triggered_by"]
    assert triggered == [{"task_id": tasks["greet"].id, "event": "on-success"}]

    actions = [
        a
        for a in mistral.action_executions.list()
        if a.task_execution_id in {t.id for t in tasks.values()}
    ]
    assert sorted(a.name for a in actions) == ["std.echo", "std.echo", "std.noop"]
    assert all(a.state == "SUCCESS" and a.accepted for a in actions)


def test_failing_task_ends_in_error_naming_task_and_reason(mistral) -> None:
    name = _unique("failing")
    mistral.workflows.create(FAILING.format(name=name))
    execution = mistral.executions.create(name)
    done = eventually(lambda: _finished(mistral, execution.id), timeout=30, what="ERROR")

    assert done.state == "ERROR"
    tasks = {t.name: t for t in mistral.tasks.list(workflow_execution_id=execution.id)}
    assert set(tasks) == {"prepare", "boom"}, "on-success of a failed task must not run"
    boom = tasks["boom"]
    assert boom.state == "ERROR"
    assert boom.state_info == "disk full on node-7"
    assert done.state_info.startswith("Failure caused by error in tasks: boom\n\n")
    assert f"boom [task_ex_id={boom.id}] -> disk full on node-7" in done.state_info
    assert json.loads(done.output) == {"result": done.state_info}


def test_on_error_handles_a_failure_and_the_workflow_succeeds(mistral) -> None:
    name = _unique("handled")
    mistral.workflows.create(f"""\
version: '2.0'
{name}:
  output:
    recovered: <% $.recovered %>
  tasks:
    boom:
      action: std.fail
      publish-on-error:
        recovered: <% task().state %>
      on-error: cleanup
    cleanup:
      action: std.echo output=done
""")
    execution = mistral.executions.create(name)
    done = eventually(lambda: _finished(mistral, execution.id), timeout=30, what="SUCCESS")
    assert done.state == "SUCCESS", done.state_info
    assert json.loads(done.output) == {"recovered": "ERROR"}


def test_fail_command_message_lands_in_state_info(mistral) -> None:
    name = _unique("fail_cmd")
    mistral.workflows.create(f"""\
version: '2.0'
{name}:
  input: [size]
  tasks:
    check:
      action: std.noop
      on-success:
        - fail msg="size <% $.size %> is too big": <% $.size > 10 %>
        - ok
    ok:
      action: std.noop
""")
    big = mistral.executions.create(name, workflow_input={"size": 42})
    small = mistral.executions.create(name, workflow_input={"size": 1})
    big_done = eventually(lambda: _finished(mistral, big.id), timeout=30, what="big")
    small_done = eventually(lambda: _finished(mistral, small.id), timeout=30, what="small")
    assert (big_done.state, big_done.state_info) == ("ERROR", "size 42 is too big")
    assert small_done.state == "SUCCESS"


def test_unknown_workflow_and_bad_input_are_client_errors(mistral) -> None:
    try:
        mistral.executions.create("no_such_workflow_at_all")
    except APIException as error:
        assert error.error_code == 404
        assert (
            "Workflow not found [workflow_identifier=no_such_workflow_at_all" in error.error_message
        )
    else:
        raise AssertionError("expected a 404")
    name = _unique("needs_input")
    mistral.workflows.create(
        f"version: '2.0'\n{name}:\n  input: [x]\n  tasks:\n    t:\n      action: std.noop\n"
    )
    try:
        mistral.executions.create(name, workflow_input={"y": 1})
    except APIException as error:
        assert error.error_code == 400
        assert "missing=['x']" in error.error_message and "unexpected=['y']" in error.error_message
    else:
        raise AssertionError("expected a 400")


def test_execution_id_given_by_the_client_makes_create_idempotent(
    mistral, levante: LevanteProcess
) -> None:
    name = _unique("idem")
    mistral.workflows.create(f"version: '2.0'\n{name}:\n  tasks:\n    t:\n      action: std.noop\n")
    chosen = str(uuid.uuid4())
    body = {"id": chosen, "workflow_name": name}
    first = post_json(f"{levante.url}/executions", body)
    second = post_json(f"{levante.url}/executions", body)
    assert first == (201, first[1]) and second[0] == 201
    assert first[1]["id"] == second[1]["id"] == chosen
    eventually(lambda: _finished(mistral, chosen), timeout=30, what="SUCCESS")
    assert len(mistral.tasks.list(workflow_execution_id=chosen)) == 1
