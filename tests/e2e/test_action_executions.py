"""Direct action runs (`mistral run-action`) and completing actions from outside."""

from __future__ import annotations

import json
import uuid

from mistralclient.api.base import APIException

from tests.support.http import request
from tests.support.net import eventually
from tests.support.system import LevanteProcess


def test_run_action_without_saving_answers_with_the_result(mistral) -> None:
    before = {a.id for a in mistral.action_executions.list()}
    answer = mistral.action_executions.create("std.echo", {"output": {"n": 7}})
    assert answer.id is None
    assert answer.state == "SUCCESS"
    assert json.loads(answer.output) == {"result": {"n": 7}}
    assert {a.id for a in mistral.action_executions.list()} == before, "nothing is stored"


def test_run_action_failure_is_reported_not_raised(mistral) -> None:
    answer = mistral.action_executions.create("std.fail", {"error_data": "nope"})
    assert answer.state == "ERROR"
    assert json.loads(answer.output) == {"result": "nope"}


def test_run_action_with_save_result_is_stored_and_finishes(mistral) -> None:
    created = mistral.action_executions.create("std.echo", {"output": "kept"}, save_result=True)
    assert created.id and created.state in ("RUNNING", "SUCCESS")

    def finished():
        current = mistral.action_executions.get(created.id)
        return current if current.state != "RUNNING" else None

    done = eventually(finished, timeout=30, what="the saved action to finish")
    assert done.state == "SUCCESS"
    assert json.loads(done.output) == {"result": "kept"}
    assert done.task_execution_id is None


def test_run_sync_with_save_result_waits(mistral) -> None:
    answer = mistral.action_executions.create(
        "std.echo", {"output": 1}, save_result=True, run_sync=True
    )
    assert answer.id and answer.state == "SUCCESS"
    assert json.loads(mistral.action_executions.get(answer.id).output) == {"result": 1}


def test_completing_a_finished_action_is_refused(mistral, levante: LevanteProcess) -> None:
    answer = mistral.action_executions.create("std.noop", save_result=True, run_sync=True)
    try:
        mistral.action_executions.update(answer.id, state="SUCCESS", output='{"x": 1}')
    except APIException as error:
        assert error.error_code == 400
        assert "only RUNNING action executions can be completed" in error.error_message
    else:
        raise AssertionError("expected a 400")
    status, body = request(
        "PUT",
        f"{levante.url}/action_executions/{uuid.uuid4()}",
        body=json.dumps({"state": "SUCCESS"}).encode(),
    )
    assert status == 404 and "ActionExecution not found" in body["faultstring"]
    status, body = request("PUT", f"{levante.url}/action_executions/{answer.id}", body=b"{}")
    assert status == 400 and body["faultstring"].startswith("Error. Expected one of")


def test_an_ad_hoc_action_runs_on_its_own_through_its_base(mistral) -> None:
    name = f"greet_{uuid.uuid4().hex[:8]}"
    mistral.actions.create(
        f"""\
version: '2.0'
{name}:
  base: std.echo
  base-input:
    output: {{greeting: <% 'hello ' + $.who %>, loud: <% $.loud %>}}
  input:
    - who
    - loud: false
  output: <% $.greeting + switch($.loud => '!', true => '.') %>
"""
    )
    answer = mistral.action_executions.create(name, {"who": "ada"})
    assert (answer.state, json.loads(answer.output)) == ("SUCCESS", {"result": "hello ada."})
    saved = mistral.action_executions.create(
        name, {"who": "bob", "loud": True}, save_result=True, run_sync=True
    )
    assert saved.name == name, "the run is shown under the ad-hoc action's name"
    assert json.loads(saved.input) == {"who": "bob", "loud": True}
    assert json.loads(saved.output) == {"result": "hello bob!"}
    try:
        mistral.action_executions.create(name, {"whom": "x"})
    except APIException as error:
        assert error.error_code == 400
        assert "unexpected=['whom']" in error.error_message
    else:
        raise AssertionError("bad input to an ad-hoc action must be refused")
