"""`mistral task-rerun`: run a failed task again, with an updated env."""

from __future__ import annotations

import json
import uuid

from mistralclient.api.base import APIException

from tests.support.net import eventually


def _finished(mistral, execution_id: str):
    current = mistral.executions.get(execution_id)
    return current if current.state in ("SUCCESS", "ERROR") else None


def test_rerun_a_failed_task_with_a_new_env(mistral) -> None:
    name = f"rerun_{uuid.uuid4().hex[:8]}"
    mistral.workflows.create(f"""\
version: '2.0'
{name}:
  output:
    value: <% $.value %>
  tasks:
    check:
      action: std.echo output=<% env().value %>
      fail-on: <% task().result = 'bad' %>
      publish:
        value: <% task().result %>
""")
    execution = mistral.executions.create(name, env={"value": "bad"})
    failed = eventually(lambda: _finished(mistral, execution.id), timeout=20, what="ERROR")
    assert failed.state == "ERROR"
    [task] = mistral.tasks.list(workflow_execution_id=execution.id)
    assert task.state == "ERROR"

    answer = mistral.tasks.rerun(task.id, reset=True, env={"value": "good"})
    assert answer.id == task.id
    done = eventually(
        lambda: (e := mistral.executions.get(execution.id)).state == "SUCCESS" and e,
        timeout=20,
        what="SUCCESS after the rerun",
    )
    assert json.loads(done.output) == {"value": "good"}
    actions = mistral.action_executions.list(task.id)
    assert len(actions) == 2, "the first run stays on record"

    try:
        mistral.tasks.rerun(task.id)
    except APIException as error:
        assert error.error_code == 400
        assert "must be in ERROR for rerun" in error.error_message
    else:
        raise AssertionError("expected 400 for a task that is not in ERROR")
