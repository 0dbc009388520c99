"""Workbooks and ad-hoc actions: upload, use in workflows, list, delete."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from tests.e2e.test_mistral_cli import cli, cli_json
from tests.support.http import post_text, request
from tests.support.net import eventually
from tests.support.system import LevanteProcess


def _finished(mistral, execution_id: str):
    current = mistral.executions.get(execution_id)
    return current if current.state in ("SUCCESS", "ERROR") else None


def test_workbook_with_actions_runs_and_deletes_its_members(
    mistral, levante: LevanteProcess, tmp_path: Path
) -> None:
    book = f"book_{uuid.uuid4().hex[:8]}"
    path = tmp_path / "book.yaml"
    path.write_text(f"""\
version: '2.0'
name: {book}
tags: [demo]
actions:
  shout:
    input: [text]
    base: std.echo
    base-input:
      output: <% $.text %>!
    output: <% $ + $ %>
workflows:
  main:
    input: [word]
    output:
      result: <% $.result %>
      child: <% $.child %>
    tasks:
      first:
        action: shout text=<% $.word %>
        publish:
          result: <% task().result %>
        on-success: second
      second:
        workflow: helper
        publish:
          child: <% task().result.done %>
  helper:
    output:
      done: yes
    tasks:
      t:
        action: std.noop
""")
    created = cli_json(levante, "workbook-create", str(path))
    assert created["Name"] == book and created["Tags"] == "demo"
    assert book in [w["Name"] for w in cli_json(levante, "workbook-list")]
    assert cli_json(levante, "workbook-get", book)["Name"] == book
    workflows = {w.name for w in mistral.workflows.list()}
    assert {f"{book}.main", f"{book}.helper"} <= workflows
    assert f"{book}.shout" in [a.name for a in mistral.actions.list()]

    execution = mistral.executions.create(f"{book}.main", workflow_input={"word": "hey"})
    done = eventually(lambda: _finished(mistral, execution.id), timeout=30, what="the run")
    assert done.state == "SUCCESS", done.state_info
    assert json.loads(done.output) == {"result": "hey!hey!", "child": True}

    cli(levante, "workbook-delete", book)
    assert f"{book}.main" not in {w.name for w in mistral.workflows.list()}
    assert f"{book}.shout" not in [a.name for a in mistral.actions.list()]


def test_standalone_ad_hoc_action(mistral, levante: LevanteProcess) -> None:
    name = f"greet_{uuid.uuid4().hex[:8]}"
    status, body = post_text(
        f"{levante.url}/actions",
        f"""\
version: '2.0'
{name}:
  description: greets
  input:
    - who
    - greeting: Hello
  base: std.echo output="<% $.greeting %>, <% $.who %>"
""",
    )
    assert status == 201
    [action] = body["actions"]
    assert action["name"] == name and action["input"] == 'who, greeting="Hello"'
    assert mistral.actions.get(name).description == "greets"
    status, duplicate = post_text(
        f"{levante.url}/actions", f"version: '2.0'\n{name}:\n  base: std.noop\n"
    )
    assert status == 409

    workflow = f"uses_{uuid.uuid4().hex[:8]}"
    mistral.workflows.create(f"""\
version: '2.0'
{workflow}:
  output:
    said: <% $.said %>
  tasks:
    t:
      action: {name} who=Ada
      publish:
        said: <% task().result %>
""")
    execution = mistral.executions.create(workflow)
    done = eventually(lambda: _finished(mistral, execution.id), timeout=30, what="the run")
    assert done.state == "SUCCESS", done.state_info
    assert json.loads(done.output) == {"said": "Hello, Ada"}

    assert request("DELETE", f"{levante.url}/actions/{name}")[0] == 204
    status, body = request("DELETE", f"{levante.url}/actions/std.noop")
    assert status == 404
    assert body["faultstring"] == "Action definition not found [action_name=std.noop, namespace=]"
