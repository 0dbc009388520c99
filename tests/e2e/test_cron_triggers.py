"""Cron triggers through the REST face and the real scheduler."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from mistralclient.api.base import APIException

from tests.support.http import post_json
from tests.support.net import eventually
from tests.support.system import LevanteProcess


def _workflow(mistral) -> str:
    name = f"cron_{uuid.uuid4().hex[:8]}"
    mistral.workflows.create(f"""\
version: '2.0'
{name}:
  input: [x]
  output:
    got: <% $.x %>
  tasks:
    t:
      action: std.noop
""")
    return name


def test_a_trigger_fires_its_count_then_disappears(mistral) -> None:
    name = _workflow(mistral)
    trigger = mistral.cron_triggers.create(
        f"every_second_{uuid.uuid4().hex[:6]}", name, {"x": 5}, pattern="* * * * * */1", count=3
    )
    assert trigger.remaining_executions == 3
    assert trigger.next_execution_time

    def fired_three_times():
        found = [e for e in mistral.executions.list() if e.workflow_name == name]
        return found if len(found) >= 3 else None

    executions = eventually(fired_three_times, timeout=30, what="three executions")
    eventually(
        lambda: trigger.name not in [t.name for t in mistral.cron_triggers.list()],
        timeout=10,
        what="the trigger to be deleted after its last run",
    )
    assert len([e for e in mistral.executions.list() if e.workflow_name == name]) == 3
    for execution in executions:
        done = eventually(
            lambda eid=execution.id: (e := mistral.executions.get(eid)).state == "SUCCESS" and e,
            timeout=20,
            what="the triggered execution to succeed",
        )
        assert json.loads(done.output) == {"got": 5}
        assert "cron trigger" in done.description


def test_create_list_get_delete_and_errors(mistral, levante: LevanteProcess) -> None:
    name = _workflow(mistral)
    trigger_name = f"daily_{uuid.uuid4().hex[:6]}"
    first = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    created = mistral.cron_triggers.create(
        trigger_name, name, {"x": 1}, pattern="0 0 * * *", first_time=first, count=2
    )
    assert created.first_execution_time == f"{first}:00"
    assert created.next_execution_time == f"{first}:00"
    assert trigger_name in [t.name for t in mistral.cron_triggers.list()]
    got = mistral.cron_triggers.get(trigger_name)
    assert (got.pattern, got.remaining_executions) == ("0 0 * * *", 2)
    assert json.loads(got.workflow_input) == {"x": 1}

    status, body = post_json(
        f"{levante.url}/cron_triggers",
        {"name": trigger_name, "workflow_name": name, "pattern": "0 0 * * *"},
    )
    assert status == 409
    assert body["faultstring"] == (
        f"Duplicate entry for cron trigger ['name', 'project_id']: {trigger_name}, None"
    )
    status, body = post_json(
        f"{levante.url}/cron_triggers",
        {"name": "bad", "workflow_name": name, "pattern": "every minute"},
    )
    assert (status, body["faultstring"]) == (
        400,
        "The specified pattern is not valid: every minute",
    )
    status, body = post_json(
        f"{levante.url}/cron_triggers",
        {"name": "past", "workflow_name": name, "first_execution_time": "2000-01-01 00:00"},
    )
    assert status == 400
    assert body["faultstring"] == "first_execution_time must be at least 1 minute in the future."

    mistral.cron_triggers.delete(trigger_name)
    try:
        mistral.cron_triggers.get(trigger_name)
    except APIException as error:
        assert error.error_code == 404
        assert f"Cron trigger not found [identifier={trigger_name}]" in error.error_message
    else:
        raise AssertionError("expected 404")
