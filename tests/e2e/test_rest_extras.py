"""Members, namespaces, services, event triggers, reports and sub-executions on Mistral's face."""

from __future__ import annotations

import json
import uuid

from tests.support.http import post_json, post_text, request
from tests.support.net import eventually
from tests.support.system import LevanteProcess


def _workflows(levante: LevanteProcess, text: str, namespace: str = "") -> dict[str, str]:
    status, body = post_text(f"{levante.url}/workflows?namespace={namespace}", text)
    assert status == 201, body
    return {w["name"]: w["id"] for w in body["workflows"]}


def _single(name: str) -> str:
    return f"version: '2.0'\n{name}:\n  tasks:\n    t:\n      action: std.noop\n"


def test_members_in_mistral_shape(levante: LevanteProcess) -> None:
    name = f"shared_{uuid.uuid4().hex[:8]}"
    workflow_id = _workflows(levante, _single(name))[name]
    members = f"{levante.url}/workflows/{workflow_id}/members"
    status, created = post_json(members, {"member_id": "project-b"})
    assert status == 201
    assert set(created) == {
        "id",
        "resource_id",
        "resource_type",
        "project_id",
        "member_id",
        "status",
        "created_at",
        "updated_at",
    }
    assert (created["resource_id"], created["resource_type"]) == (workflow_id, "workflow")
    assert (created["project_id"], created["member_id"]) == ("<default-project>", "project-b")
    assert (created["status"], created["updated_at"]) == ("pending", None)
    assert request("GET", members) == (200, {"members": [created]})
    assert request("GET", f"{members}/project-b/") == (200, created)

    # Errors name what is wrong, with the {"faultstring"} body of Mistral's members endpoints.
    cases = [
        ("POST", members, {}, 400, "Member id must be provided."),
        ("POST", members, {"member_id": 5}, 400, "member_id must be a string"),
        ("POST", members, {"member_id": "project-b"}, 409, "Duplicate entry for ResourceMember"),
        ("PUT", f"{members}/project-b", {"status": "maybe"}, 400, "Invalid member status"),
        ("PUT", f"{members}/project-b", {}, 400, "A member status must be given"),
        ("PUT", f"{members}/project-b", {"status": "accepted"}, 404, "Resource member not found"),
        ("PUT", f"{members}/", {"status": "accepted"}, 400, "A member id must be given"),
        ("GET", f"{levante.url}/workflows/{name}/members", None, 400, "Only support UUID"),
        ("GET", f"{levante.url}/workbooks/{uuid.uuid4()}/members", None, 404, "Workbook not"),
        ("DELETE", f"{members}/project-x", None, 404, "Resource member not found"),
    ]
    for method, url, payload, code, message in cases:
        body = json.dumps(payload).encode() if payload is not None else None
        status, answer = request(method, url, body=body)
        assert status == code, (method, url, answer)
        assert set(answer) == {"faultstring"} and message in answer["faultstring"], answer

    assert request("DELETE", f"{members}/project-b")[0] == 204
    assert request("GET", members) == (200, {"members": []})


def test_namespaces_services_and_event_triggers(levante: LevanteProcess) -> None:
    space = f"ns_{uuid.uuid4().hex[:8]}"
    text = "version: '2.0'\n" + "".join(
        f"{name}:\n  tasks:\n    t:\n      action: std.noop\n" for name in ("a", "b")
    )
    _workflows(levante, text, namespace=space)
    status, body = request("GET", f"{levante.url}/namespaces")
    assert status == 200
    [mine] = [n for n in body["namespaces"] if n["name"] == space]
    assert mine == {
        "name": space,
        "workflows_count": 2,
        "workbooks_count": 0,
        "actions_count": 0,
    }

    status, body = request("GET", f"{levante.url}/services")
    assert status == 200
    types = [s["type"] for s in body["services"]]
    assert types == ["api_group", "engine_group", "executor_group", "scheduler_group"]
    assert len({s["name"] for s in body["services"]}) == 1  # all in one process

    for method, path in [
        ("GET", "/event_triggers"),
        ("POST", "/event_triggers"),
        ("GET", f"/event_triggers/{uuid.uuid4()}"),
        ("PUT", f"/event_triggers/{uuid.uuid4()}"),
        ("DELETE", f"/event_triggers/{uuid.uuid4()}/"),
    ]:
        status, body = request(method, f"{levante.url}{path}")
        assert status == 501, (method, path)
        assert set(body) == {"faultstring"}
        assert body["faultstring"].startswith("Event triggers are not supported")


def test_report_and_sub_executions(levante: LevanteProcess) -> None:
    parent, child = (f"{n}_{uuid.uuid4().hex[:8]}" for n in ("report", "leaf"))
    _workflows(
        levante,
        f"version: '2.0'\n{parent}:\n  tasks:\n    call:\n      workflow: {child}\n"
        f"      on-success: [boom]\n    boom:\n      action: std.fail\n"
        f"{child}:\n  tasks:\n    t:\n      action: std.echo output=1\n",
    )
    status, started = post_json(f"{levante.url}/executions", {"workflow_name": parent})
    assert status == 201
    execution = f"{levante.url}/executions/{started['id']}"
    eventually(lambda: request("GET", execution)[1]["state"] == "ERROR", timeout=30, what="ERROR")

    status, report = request("GET", f"{execution}/report")
    assert status == 200
    assert report["statistics"] == {
        "total_tasks_count": 3,
        "running_tasks_count": 0,
        "success_tasks_count": 2,
        "error_tasks_count": 1,
        "idle_tasks_count": 0,
        "paused_tasks_count": 0,
        "estimated_time": 0,
    }
    root = report["root_workflow_execution"]
    assert (root["id"], root["name"], root["state"]) == (started["id"], parent, "ERROR")
    call, boom = root["task_executions"]
    assert [w["name"] for w in call["workflow_executions"]] == [child]
    assert call["action_executions"] == []
    [action] = boom["action_executions"]
    assert set(action) == {
        "accepted",
        "last_heartbeat",
        "id",
        "name",
        "created_at",
        "updated_at",
        "state",
        "state_info",
    }
    assert (action["name"], action["state"]) == ("std.fail", "ERROR")

    status, errors_only = request("GET", f"{execution}/report?errors_only=true&max_depth=-1")
    assert [t["name"] for t in errors_only["root_workflow_execution"]["task_executions"]] == [
        "boom"
    ]
    status, stats = request("GET", f"{execution}/report?statistics_only=true&max_depth=0")
    assert set(stats) == {"statistics"} and stats["statistics"]["total_tasks_count"] == 2

    status, listed = request("GET", f"{execution}/executions")
    assert status == 200
    assert [e["workflow_name"] for e in listed["executions"]] == [parent, child]
    assert all("output" not in e for e in listed["executions"])
    status, deep = request("GET", f"{execution}/executions?max_depth=0&include_output=true")
    assert [e["workflow_name"] for e in deep["executions"]] == [parent]
    assert json.loads(deep["executions"][0]["output"])["result"].startswith("Failure caused")
    status, errors_only = request("GET", f"{execution}/executions?errors_only=True")
    assert [e["workflow_name"] for e in errors_only["executions"]] == [parent]
    status, by_task = request("GET", f"{levante.url}/tasks/{call['id']}/executions")
    assert [e["workflow_name"] for e in by_task["executions"]] == [child]

    for path, message in [
        (f"{execution}/report?max_depth=deep", "Invalid value for max_depth"),
        (f"{execution}/executions?errors_only=perhaps", "Invalid value for errors_only"),
    ]:
        status, body = request("GET", path)
        assert status == 400 and message in body["faultstring"]
    missing = uuid.uuid4()
    status, body = request("GET", f"{levante.url}/executions/{missing}/report")
    assert status == 404 and "WorkflowExecution not found" in body["faultstring"]
    status, body = request("GET", f"{levante.url}/tasks/{missing}/executions")
    assert status == 404 and "TaskExecution not found" in body["faultstring"]
    status, body = request("DELETE", f"{levante.url}/action_executions/{action['id']}")
    assert status == 403 and body["faultstring"] == "Action execution deletion is not allowed."
