"""Bad input over plain HTTP: Mistral's 4xx error shapes with clear messages, never a 500."""

from __future__ import annotations

import uuid

from tests.support.http import post_json, post_text, request
from tests.support.system import LevanteProcess


def test_yaml_syntax_error_names_the_line(levante: LevanteProcess) -> None:
    status, body = post_text(f"{levante.url}/workflows", "version: '2.0'\nbad: [unclosed\n")
    assert status == 400
    assert set(body) == {"faultstring"}
    assert body["faultstring"].startswith("Definition could not be parsed: ")
    assert "line 2" in body["faultstring"]


def test_invalid_dsl_names_the_task_and_key(levante: LevanteProcess) -> None:
    text = "version: '2.0'\nwf:\n  tasks:\n    t1:\n      action: std.noop\n      no_such_key: 1\n"
    status, body = post_text(f"{levante.url}/workflows", text)
    assert status == 400
    assert body["faultstring"].startswith("Invalid DSL: ")
    assert "no_such_key" in body["faultstring"] and "t1" in body["faultstring"]
    assert "line 6" in body["faultstring"]


def test_duplicate_workflow_is_a_conflict(levante: LevanteProcess) -> None:
    name = f"dup_{uuid.uuid4().hex[:8]}"
    text = f"version: '2.0'\n{name}:\n  tasks:\n    t:\n      action: std.noop\n"
    assert post_text(f"{levante.url}/workflows", text)[0] == 201
    status, body = post_text(f"{levante.url}/workflows", text)
    assert status == 409
    assert "Duplicate entry for WorkflowDefinition" in body["faultstring"]


def test_malformed_json_body(levante: LevanteProcess) -> None:
    status, body = request("POST", f"{levante.url}/executions", body=b"{not json")
    assert status == 400
    assert body == {
        "faultcode": "Client",
        "faultstring": "Request is not in valid JSON format",
        "debuginfo": None,
    }


def test_input_that_is_not_an_object(levante: LevanteProcess) -> None:
    status, body = post_json(f"{levante.url}/executions", {"workflow_name": "x", "input": "1"})
    assert status == 400
    assert "JsonType field value must be a dictionary" in body["faultstring"]


def test_missing_workflow_identifier(levante: LevanteProcess) -> None:
    status, body = post_json(f"{levante.url}/executions", {"input": {}})
    assert status == 400
    assert body["faultstring"] == (
        "Workflow ID or workflow name must be provided. Workflow ID is recommended."
    )


def test_unknown_resources_are_404_with_json(levante: LevanteProcess) -> None:
    missing = str(uuid.uuid4())
    for path, text in [
        (f"/workflows/{missing}", "Workflow not found"),
        (f"/executions/{missing}", f"WorkflowExecution not found [id={missing}]"),
        (f"/tasks/{missing}", f"TaskExecution not found [id={missing}]"),
        (f"/action_executions/{missing}", f"ActionExecution not found [id={missing}]"),
        ("/no_such_collection", "Not Found"),
    ]:
        status, body = request("GET", f"{levante.url}{path}")
        assert status == 404, path
        assert text in body["faultstring"], path


def test_list_paging_fields_and_bad_parameters(levante: LevanteProcess) -> None:
    for index in range(3):
        name = f"page_{index}_{uuid.uuid4().hex[:6]}"
        text = f"version: '2.0'\n{name}:\n  tasks:\n    t:\n      action: std.noop\n"
        assert post_text(f"{levante.url}/workflows", text)[0] == 201
    status, body = request("GET", f"{levante.url}/workflows?limit=2&fields=name")
    assert status == 200
    assert len(body["workflows"]) == 2
    assert all(set(w) == {"id", "name"} for w in body["workflows"])
    assert body["next"].startswith(f"{levante.url}/workflows?sort_keys=created_at,id")
    assert f"marker={body['workflows'][-1]['id']}" in body["next"]
    status, following = request("GET", body["next"])
    assert status == 200
    assert {w["id"] for w in following["workflows"]}.isdisjoint(w["id"] for w in body["workflows"])

    assert request("GET", f"{levante.url}/workflows?limit=0") == (
        400,
        {"faultcode": "Client", "faultstring": "Limit must be positive.", "debuginfo": None},
    )
    assert request("GET", f"{levante.url}/workflows?sort_dirs=sideways")[0] == 400
    status, body = request("GET", f"{levante.url}/workflows?fields=nosuch")
    assert status == 400 and "Some fields do not exist  [nosuch]" in body["faultstring"]


def test_validate_endpoints_answer_like_mistral(levante: LevanteProcess) -> None:
    good_actions = "version: '2.0'\nmy_echo:\n  base: std.echo\n  base-input:\n    output: hi\n"
    assert post_text(f"{levante.url}/actions/validate", good_actions) == (200, {"valid": True})
    status, body = post_text(f"{levante.url}/actions/validate", "version: '2.0'\nx:\n  input: 5\n")
    assert status == 200 and body["valid"] is False and body["error"].startswith("Invalid DSL: ")
    status, body = post_text(f"{levante.url}/workflows/validate", "")
    assert status == 200 and body["valid"] is False
    status, body = post_text(f"{levante.url}/workbooks/validate", "version: '2.0'\nbad: [1\n")
    assert status == 200 and body["error"].startswith("Definition could not be parsed: ")


def test_a_workbook_is_not_a_workflow_upload(levante: LevanteProcess) -> None:
    text = (
        "version: '2.0'\nname: book\nworkflows:\n  wf:\n    tasks:\n      t: {action: std.noop}\n"
    )
    status, body = post_text(f"{levante.url}/workflows", text)
    assert status == 400 and body["faultstring"].startswith("Invalid DSL: ")


def test_metrics_are_served_in_prometheus_format(levante: LevanteProcess) -> None:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{levante.rest_port}/metrics") as response:
        text = response.read().decode()
        assert response.headers["Content-Type"].startswith("text/plain")
    assert "levante_timers_delivered_total" in text
    assert "levante_engine_events_total" in text
