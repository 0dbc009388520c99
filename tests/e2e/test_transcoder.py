"""The transcoded REST face (/levante/v2): every google.api.http rule through HTTP, for real.

One `Case` per request, in a table: the rule it must reach (the answer's
`Levante-Http-Rule` header says which did), the request, the status and a
check of the answer. `test_every_rule_has_a_case` fails for any rule of the
descriptors without a successful case, so a new rule needs a line here.
Resources the cases use are made beforehand over gRPC (`world`); `$name`
in paths, queries and bodies is replaced by the world's values.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from levante.api import http_rules
from levante.api.transcoder import RULE_HEADER
from levante.v2 import (
    action_execution_pb2,
    action_execution_pb2_grpc,
    action_pb2,
    action_pb2_grpc,
    cron_trigger_pb2,
    cron_trigger_pb2_grpc,
    environment_pb2,
    environment_pb2_grpc,
    execution_pb2,
    execution_pb2_grpc,
    member_pb2,
    member_pb2_grpc,
    task_pb2,
    task_pb2_grpc,
    workbook_pb2,
    workbook_pb2_grpc,
    workflow_pb2,
    workflow_pb2_grpc,
)
from tests.support.http import post_text
from tests.support.net import eventually
from tests.support.system import LevanteProcess

Check = Callable[[Any, dict[str, str]], Any]


@dataclass(frozen=True)
class Case:
    """One HTTP request through the transcoder and what must come back."""

    rule: str  # HttpRule.key without the `levante.v2.` prefix
    method: str
    path: str
    body: Any = None
    status: int = 200
    check: Check | None = None  # (answer, world) -> truthy
    # "service": the RPC answered (a success, or an error the service raised);
    # "transcoder": refused before any call (bad request, no route).
    answered_by: str = "service"


def _workflow(name: str, action: str = "std.echo output=<% $.x %>") -> str:
    tasks = f"  tasks:\n    only:\n      action: {action}\n"
    return f"version: '2.0'\n{name}:\n  input:\n    - x: 1\n{tasks}"


def items(key: str, test: Callable[[dict, dict], bool]) -> Check:
    """Every item of the answer's list `key` passes `test`, and there is one."""
    return lambda answer, world: answer[key] and all(test(i, world) for i in answer[key])


CASES: list[Case] = [
    # workflows
    Case(
        "WorkflowsService.CreateWorkflows",
        "POST",
        "/levante/v2/workflows",
        {"definition": _workflow("tx_new_$run"), "namespace": "tx_$run", "scope": "SCOPE_PRIVATE"},
        check=lambda a, w: (
            [x["workflowName"] for x in a["workflows"]] == [f"tx_new_{w['run']}"]
            and a["workflows"][0]["namespace"] == f"tx_{w['run']}"
        ),
    ),
    Case(
        "WorkflowsService.UpdateWorkflows",
        "PUT",
        "/levante/v2/workflows",
        {"definition": _workflow("tx_update_$run", "std.noop")},
        check=lambda a, w: "std.noop" in a["workflows"][0]["definition"],
    ),
    Case(
        "WorkflowsService.GetWorkflow",
        "GET",
        "/levante/v2/workflows/$wf_ok_id",
        check=lambda a, w: a["workflowName"] == w["wf_ok"] and a["interface"]["input"],
    ),
    Case(
        "WorkflowsService.GetWorkflow",
        "GET",
        "/levante/v2/workflows/$wf_ok",
        check=lambda a, w: a["id"] == w["wf_ok_id"],
    ),
    Case(
        "WorkflowsService.ListWorkflows",
        "GET",
        '/levante/v2/workflows?filter=name%20%3D%20"$wf_ok"',
        check=lambda a, w: [x["id"] for x in a["workflows"]] == [w["wf_ok_id"]],
    ),
    Case(
        "WorkflowsService.ListWorkflows",
        "GET",
        "/levante/v2/workflows?pageSize=1",
        check=lambda a, w: len(a["workflows"]) == 1 and a["nextPageToken"],
    ),
    Case(
        "WorkflowsService.DeleteWorkflow",
        "DELETE",
        "/levante/v2/workflows/$wf_gone",
        check=lambda a, w: a == {},
    ),
    # executions
    Case(
        "ExecutionsService.CreateExecution",
        "POST",
        "/levante/v2/executions",
        {"workflowName": "$wf_ok", "input": {"x": 5}, "description": "over http"},
        check=lambda a, w: (
            a["name"] == f"executions/{a['id']}"
            and a["input"] == {"x": 5}
            and a["description"] == "over http"
        ),
    ),
    Case(
        "ExecutionsService.GetExecution",
        "GET",
        "/levante/v2/executions/$exec_ok",
        check=lambda a, w: a["state"] == "STATE_SUCCESS" and a["workflowName"] == w["wf_ok"],
    ),
    Case(
        "ExecutionsService.ListExecutions",
        "GET",
        '/levante/v2/executions?includeOutput=true&filter=id%20%3D%20"$exec_ok"',
        check=lambda a, w: [x["output"] for x in a["executions"]] == [{}],
    ),
    Case(
        "ExecutionsService.UpdateExecution",
        "PATCH",
        "/levante/v2/executions/$exec_ok",
        {"description": "renamed over http"},
        check=lambda a, w: a["description"] == "renamed over http" and a["id"] == w["exec_ok"],
    ),
    Case(
        "ExecutionsService.DeleteExecution",
        "DELETE",
        "/levante/v2/executions/$exec_gone",
        check=lambda a, w: a == {},
    ),
    Case(
        "ReportsService.GetExecutionReport",
        "GET",
        "/levante/v2/executions/$exec_ok:report?includeTrace=true",
        check=lambda a, w: (
            a["name"] == f"executions/{w['exec_ok']}"
            and a["statistics"]["successTasksCount"] == 1
            and a["summary"]["tasks"] == {"SUCCESS": 1}
            and "rootCause" not in a
        ),
    ),
    # tasks
    Case(
        "TasksService.GetTask",
        "GET",
        "/levante/v2/tasks/$task_ok",
        check=lambda a, w: a["taskName"] == "only" and a["result"] == 1,
    ),
    Case(
        "TasksService.RerunTask",
        "POST",
        "/levante/v2/tasks/$task_err:rerun",
        {"reset": True},
        check=lambda a, w: a["id"] == w["task_err"],
    ),
    Case(
        "TasksService.ListTasks",
        "GET",
        "/levante/v2/tasks?pageSize=1",
        check=lambda a, w: len(a["tasks"]) == 1,
    ),
    Case(
        "TasksService.ListTasks#1",
        "GET",
        "/levante/v2/executions/$exec_ok/tasks",
        check=items("tasks", lambda t, w: t["workflowExecutionId"] == w["exec_ok"]),
    ),
    # action executions
    Case(
        "ActionExecutionsService.CreateActionExecution",
        "POST",
        "/levante/v2/actionExecutions",
        {"actionName": "std.echo", "input": {"output": "hi"}},
        check=lambda a, w: a["state"] == "STATE_SUCCESS" and a["output"] == {"result": "hi"},
    ),
    Case(
        "ActionExecutionsService.UpdateActionExecution",
        "PATCH",
        "/levante/v2/actionExecutions/$action_async",
        {"state": "STATE_SUCCESS", "output": {"result": 7}},
        check=lambda a, w: a["state"] == "STATE_SUCCESS" and a["output"] == {"result": 7},
    ),
    Case(
        "ActionExecutionsService.GetActionExecution",
        "GET",
        "/levante/v2/actionExecutions/$action_ok",
        check=lambda a, w: a["actionName"] == "std.echo" and a["taskExecutionId"] == w["task_ok"],
    ),
    Case(
        "ActionExecutionsService.ListActionExecutions",
        "GET",
        "/levante/v2/actionExecutions?pageSize=1&includeOutput=true",
        check=lambda a, w: len(a["actionExecutions"]) == 1,
    ),
    Case(
        "ActionExecutionsService.ListActionExecutions#1",
        "GET",
        "/levante/v2/tasks/$task_ok/actionExecutions",
        check=items("actionExecutions", lambda x, w: x["id"] == w["action_ok"]),
    ),
    # actions
    Case(
        "ActionsService.GetAction",
        "GET",
        "/levante/v2/actions/std.echo",
        check=lambda a, w: a["actionName"] == "std.echo" and a["isSync"] is True,
    ),
    Case(
        "ActionsService.ListActions",
        "GET",
        "/levante/v2/actions?pageSize=2&orderBy=name",
        check=lambda a, w: len(a["actions"]) == 2,
    ),
    Case(
        "ActionsService.CreateActions",
        "POST",
        "/levante/v2/actions",
        {"definition": "version: '2.0'\ntx_act_new_$run:\n  base: std.noop\n"},
        check=lambda a, w: [x["name"] for x in a["actions"]] == [f"actions/tx_act_new_{w['run']}"],
    ),
    Case(
        "ActionsService.UpdateActions",
        "PUT",
        "/levante/v2/actions",
        {"definition": "version: '2.0'\n$act:\n  description: changed\n  base: std.noop\n"},
        check=lambda a, w: [x["description"] for x in a["actions"]] == ["changed"],
    ),
    Case(
        "ActionsService.DeleteAction",
        "DELETE",
        "/levante/v2/actions/$act_gone",
        check=lambda a, w: a == {},
    ),
    # workbooks
    Case(
        "WorkbooksService.CreateWorkbook",
        "POST",
        "/levante/v2/workbooks",
        {"definition": "version: '2.0'\nname: tx_wb_new_$run\n", "scope": "SCOPE_PRIVATE"},
        check=lambda a, w: (
            a["workbookName"] == f"tx_wb_new_{w['run']}" and a["name"] == f"workbooks/{a['id']}"
        ),
    ),
    Case(
        "WorkbooksService.UpdateWorkbook",
        "PUT",
        "/levante/v2/workbooks",
        {"definition": "version: '2.0'\nname: $wb_update\ntags: [changed]\n"},
        check=lambda a, w: a["workbookName"] == w["wb_update"] and a["tags"] == ["changed"],
    ),
    Case(
        "WorkbooksService.GetWorkbook",
        "GET",
        "/levante/v2/workbooks/$wb_id",
        check=lambda a, w: a["workbookName"] == w["wb"],
    ),
    Case(
        "WorkbooksService.GetWorkbook",
        "GET",
        "/levante/v2/workbooks/$wb?namespace=",
        check=lambda a, w: a["id"] == w["wb_id"],
    ),
    Case(
        "WorkbooksService.ListWorkbooks",
        "GET",
        '/levante/v2/workbooks?filter=name%20%3D%20"$wb"&pageSize=5',
        check=lambda a, w: [x["id"] for x in a["workbooks"]] == [w["wb_id"]],
    ),
    Case(
        "WorkbooksService.DeleteWorkbook",
        "DELETE",
        "/levante/v2/workbooks/$wb_gone",
        check=lambda a, w: a == {},
    ),
    Case(
        "WorkbooksService.CreateWorkbook",
        "POST",
        "/levante/v2/workbooks",
        {"definition": "version: '2.0'\nname: tx_wb_bad_$run\nworkflows:\n  wf:\n    tasks: 5\n"},
        status=400,
        check=lambda a, w: (
            a["details"][0]["reason"] == "DefinitionError" and "(line 5, column 12)" in a["message"]
        ),
    ),
    # cron triggers
    Case(
        "CronTriggersService.CreateCronTrigger",
        "POST",
        "/levante/v2/cronTriggers",
        {"triggerName": "tx_cron_new_$run", "pattern": "0 0 1 1 *", "workflowName": "$wf_ok"},
        check=lambda a, w: (
            a["name"] == f"cronTriggers/tx_cron_new_{w['run']}" and a["nextExecutionTime"]
        ),
    ),
    Case(
        "CronTriggersService.GetCronTrigger",
        "GET",
        "/levante/v2/cronTriggers/$cron",
        check=lambda a, w: a["triggerName"] == w["cron"] and a["workflowName"] == w["wf_ok"],
    ),
    Case(
        "CronTriggersService.ListCronTriggers",
        "GET",
        "/levante/v2/cronTriggers",
        check=lambda a, w: w["cron"] in [t["triggerName"] for t in a["cronTriggers"]],
    ),
    Case(
        "CronTriggersService.DeleteCronTrigger",
        "DELETE",
        "/levante/v2/cronTriggers/$cron_gone",
        check=lambda a, w: a == {},
    ),
    # environments
    Case(
        "EnvironmentsService.CreateEnvironment",
        "POST",
        "/levante/v2/environments",
        {"environment_name": "tx_env_new_$run", "variables": {"a": [1, 2]}},
        check=lambda a, w: (
            a["environmentName"] == f"tx_env_new_{w['run']}" and a["variables"] == {"a": [1, 2]}
        ),
    ),
    Case(
        "EnvironmentsService.GetEnvironment",
        "GET",
        "/levante/v2/environments/$env",
        check=lambda a, w: a["variables"] == {"k": "v"},
    ),
    Case(
        "EnvironmentsService.ListEnvironments",
        "GET",
        "/levante/v2/environments",
        check=lambda a, w: w["env"] in [e["environmentName"] for e in a["environments"]],
    ),
    Case(
        "EnvironmentsService.UpdateEnvironment",
        "PATCH",
        "/levante/v2/environments/$env",
        {"description": "changed over http"},
        check=lambda a, w: a["description"] == "changed over http" and a["variables"] == {"k": "v"},
    ),
    Case(
        "EnvironmentsService.DeleteEnvironment",
        "DELETE",
        "/levante/v2/environments/$env_gone",
        check=lambda a, w: a == {},
    ),
    # members
    Case(
        "MembersService.CreateMember",
        "POST",
        "/levante/v2/workflows/$wf_ok_id/members",
        {"memberId": "project-new"},
        check=lambda a, w: a["name"] == f"workflows/{w['wf_ok_id']}/members/project-new",
    ),
    Case(
        "MembersService.CreateMember#1",
        "POST",
        "/levante/v2/workbooks/$wb_id/members",
        {"memberId": "project-new"},
        check=lambda a, w: a["name"] == f"workbooks/{w['wb_id']}/members/project-new",
    ),
    Case(
        "MembersService.GetMember",
        "GET",
        "/levante/v2/workflows/$wf_shared_id/members/project-c",
        check=lambda a, w: a["memberId"] == "project-c" and a["resourceId"] == w["wf_shared_id"],
    ),
    Case(
        "MembersService.GetMember#1",
        "GET",
        "/levante/v2/workbooks/$wb_id/members/project-c",
        check=lambda a, w: a["memberId"] == "project-c" and a["resourceId"] == w["wb_id"],
    ),
    Case(
        "MembersService.ListMembers",
        "GET",
        "/levante/v2/workflows/$wf_shared_id/members",
        check=items("members", lambda m, w: m["resourceId"] == w["wf_shared_id"]),
    ),
    Case(
        "MembersService.ListMembers#1",
        "GET",
        "/levante/v2/workbooks/$wb_id/members",
        check=items("members", lambda m, w: m["resourceId"] == w["wb_id"]),
    ),
    Case(
        "MembersService.UpdateMember",
        "PATCH",
        "/levante/v2/workflows/$wf_shared_id/members/project-c",
        {"status": "MEMBER_STATUS_ACCEPTED"},
        # Only the member itself may answer a share, and every request acts for the
        # default project until authentication exists: the service's own 404 shows
        # the request reached it whole (path variables, body and inferred mask).
        status=404,
        check=lambda a, w: (
            a["details"][0]["reason"] == "NotFoundError"
            and f"resource_id={w['wf_shared_id']}, member_id=project-c" in a["message"]
        ),
    ),
    Case(
        "MembersService.UpdateMember#1",
        "PATCH",
        "/levante/v2/workbooks/$wb_id/members/project-c",
        {"status": "MEMBER_STATUS_REJECTED"},
        status=404,
        check=lambda a, w: (
            a["details"][0]["reason"] == "NotFoundError"
            and f"resource_id={w['wb_id']}, member_id=project-c" in a["message"]
        ),
    ),
    Case(
        "MembersService.DeleteMember",
        "DELETE",
        "/levante/v2/workflows/$wf_shared_id/members/project-d",
        check=lambda a, w: a == {},
    ),
    Case(
        "MembersService.DeleteMember#1",
        "DELETE",
        "/levante/v2/workbooks/$wb_id/members/project-d",
        check=lambda a, w: a == {},
    ),
    # namespaces and services
    Case(
        "NamespacesService.ListNamespaces",
        "GET",
        "/levante/v2/namespaces",
        check=lambda a, w: f"tx_{w['run']}" in [n["namespaceId"] for n in a["namespaces"]],
    ),
    Case(
        "DoctorService.Diagnose",
        "GET",
        "/levante/v2/doctor?stuckAfterSeconds=3600&pageSize=50",
        check=lambda a, w: "diagnoseTime" in a and isinstance(a.get("findings", []), list),
    ),
    Case(
        "ServicesService.ListServices",
        "GET",
        "/levante/v2/services",
        check=lambda a, w: (
            {"SERVICE_KIND_API", "SERVICE_KIND_ENGINE"} <= {s["kind"] for s in a["services"]}
        ),
    ),
    # errors: the service's google.rpc.Status, with grpc-gateway's HTTP status for its code
    Case(
        "WorkflowsService.GetWorkflow",
        "GET",
        "/levante/v2/workflows/no_such_wf",
        status=404,
        check=lambda a, w: (
            a["code"] == 5
            and "no_such_wf" in a["message"]
            and a["details"][0]["reason"] == "NotFoundError"
        ),
    ),
    Case(
        "WorkflowsService.CreateWorkflows",
        "POST",
        "/levante/v2/workflows",
        {"definition": "a: [b"},
        status=400,
        check=lambda a, w: a["code"] == 3 and a["details"][0]["reason"] == "DefinitionError",
    ),
    Case(
        "EnvironmentsService.CreateEnvironment",
        "POST",
        "/levante/v2/environments",
        {"environmentName": "$env"},
        status=409,
        check=lambda a, w: a["code"] == 6,
    ),
    Case(
        "ExecutionsService.DeleteExecution",
        "DELETE",
        "/levante/v2/executions/$exec_running",
        status=403,
        check=lambda a, w: a["code"] == 7 and "RUNNING" in a["message"],
    ),
    Case(
        "ExecutionsService.UpdateExecution",
        "PATCH",
        "/levante/v2/executions/$exec_ok",
        {"state_info": "x"},
        status=400,
        check=lambda a, w: a["code"] == 3,
    ),
    # after the 403 above: pausing it by its state alone (the mask comes from the body)
    Case(
        "ExecutionsService.UpdateExecution",
        "PATCH",
        "/levante/v2/executions/$exec_running",
        {"state": "STATE_PAUSED"},
        check=lambda a, w: a["state"] == "STATE_PAUSED",
    ),
    # proto3 enums are open: an unknown number parses, and the service refuses it
    Case(
        "WorkflowsService.CreateWorkflows",
        "POST",
        "/levante/v2/workflows",
        {"definition": _workflow("tx_scope_$run"), "scope": 7},
        status=400,
        check=lambda a, w: a["message"].startswith("Unknown scope 7"),
    ),
    Case(
        "ExecutionsService.UpdateExecution",
        "PATCH",
        "/levante/v2/executions/$exec_ok",
        {"state": 99},
        status=400,
        check=lambda a, w: a["message"] == "Unknown state 99",
    ),
    # errors the transcoder itself answers, naming what is wrong
    Case(
        "WorkflowsService.ListWorkflows",
        "GET",
        "/levante/v2/workflows?pageSize=many",
        answered_by="transcoder",
        status=400,
        check=lambda a, w: (
            a["message"] == "query parameter 'pageSize': 'many' is not an integer"
            and a["details"][0]["reason"] == "TRANSCODER_INVALID_ARGUMENT"
        ),
    ),
    Case(
        "WorkflowsService.ListWorkflows",
        "GET",
        "/levante/v2/workflows?colour=red",
        answered_by="transcoder",
        status=400,
        check=lambda a, w: "query parameter 'colour'" in a["message"],
    ),
    Case(
        "ExecutionsService.CreateExecution",
        "POST",
        "/levante/v2/executions",
        "{not json",
        answered_by="transcoder",
        status=400,
        check=lambda a, w: "request body is not valid JSON" in a["message"],
    ),
    Case(
        "ExecutionsService.CreateExecution",
        "POST",
        "/levante/v2/executions",
        {"nope": 1},
        answered_by="transcoder",
        status=400,
        check=lambda a, w: 'no field named "nope"' in a["message"],
    ),
    Case(
        "",
        "DELETE",
        "/levante/v2/workflows",
        answered_by="transcoder",
        status=405,
        check=lambda a, w: a["code"] == 12 and "allowed: GET, POST, PUT" in a["message"],
    ),
    Case(
        "",
        "GET",
        "/levante/v2/nothing/here",
        answered_by="transcoder",
        status=404,
        check=lambda a, w: a["details"][0]["reason"] == "TRANSCODER_NOT_FOUND",
    ),
]


def _id(case: Case) -> str:
    return f"{case.method} {case.path} -> {case.status}"


def test_every_rule_has_a_case() -> None:
    rules = {rule.key.removeprefix("levante.v2.") for rule in http_rules.discover()}
    covered = {case.rule for case in CASES if case.answered_by == "service"}
    assert sorted(rules - covered) == [], "http rules without a case the service answers"
    assert sorted({case.rule for case in CASES if case.rule} - rules) == [], "cases of no rule"


# -- the world the cases run in ----------------------------------------------


def _finished(stub: Any, name: str) -> Any:
    def done() -> Any:
        found = stub.GetExecution(execution_pb2.GetExecutionRequest(name=name), timeout=5)
        return found if found.state not in (0, 1, 2, 3, 4) else None

    return eventually(done, timeout=30, what=f"{name} to finish")


def _start(stub: Any, workflow: str) -> Any:
    execution = execution_pb2.Execution(workflow_name=workflow)
    return stub.CreateExecution(
        execution_pb2.CreateExecutionRequest(execution=execution), timeout=10
    )


@pytest.fixture(scope="module")
def world(levante: LevanteProcess) -> dict[str, str]:
    """Resources for the cases, made over gRPC (and the Mistral face for the workbook)."""
    run = uuid.uuid4().hex[:8]
    names = {
        "wf_ok": f"tx_ok_{run}",
        "wf_fail": f"tx_fail_{run}",
        "wf_wait": f"tx_wait_{run}",
        "wf_gone": f"tx_gone_{run}",
        "wf_shared": f"tx_shared_{run}",
        "wf_update": f"tx_update_{run}",
    }
    actions = {"wf_fail": "std.fail", "wf_wait": "std.async_noop"}
    world = {"run": run, **names, "env": f"tx_env_{run}", "env_gone": f"tx_env_gone_{run}"}
    world |= {"cron": f"tx_cron_{run}", "cron_gone": f"tx_cron_gone_{run}"}
    world |= {"act": f"tx_act_{run}", "act_gone": f"tx_act_gone_{run}"}
    world |= {"wb": f"tx_wb_{run}", "wb_update": f"tx_wb_update_{run}"}
    with grpc.insecure_channel(levante.grpc_address) as channel:
        workflows = workflow_pb2_grpc.WorkflowsServiceStub(channel)
        executions = execution_pb2_grpc.ExecutionsServiceStub(channel)
        for key, name in names.items():
            created = workflows.CreateWorkflows(
                workflow_pb2.CreateWorkflowsRequest(
                    definition=_workflow(name, actions.get(key, "std.echo output=1"))
                ),
                timeout=10,
            )
            world[f"{key}_id"] = created.workflows[0].id
        ok = _finished(executions, _start(executions, world["wf_ok"]).name)
        failed = _finished(executions, _start(executions, world["wf_fail"]).name)
        gone = _finished(executions, _start(executions, world["wf_ok"]).name)
        world |= {"exec_ok": ok.id, "exec_gone": gone.id}
        world["exec_running"] = _start(executions, world["wf_wait"]).id
        tasks = task_pb2_grpc.TasksServiceStub(channel)
        for key, execution in (("task_ok", ok), ("task_err", failed)):
            listed = tasks.ListTasks(task_pb2.ListTasksRequest(parent=execution.name), timeout=5)
            world[key] = listed.tasks[0].id
        action_stub = action_execution_pb2_grpc.ActionExecutionsServiceStub(channel)
        listed = action_stub.ListActionExecutions(
            action_execution_pb2.ListActionExecutionsRequest(parent=f"tasks/{world['task_ok']}"),
            timeout=5,
        )
        world["action_ok"] = listed.action_executions[0].id
        started = action_stub.CreateActionExecution(
            action_execution_pb2.CreateActionExecutionRequest(
                action_execution=action_execution_pb2.ActionExecution(action_name="std.async_noop"),
                save_result=True,
            ),
            timeout=10,
        )
        world["action_async"] = started.id
        environments = environment_pb2_grpc.EnvironmentsServiceStub(channel)
        for key in ("env", "env_gone"):
            env = environment_pb2.Environment(environment_name=world[key])
            env.variables.update({"k": "v"})
            environments.CreateEnvironment(
                environment_pb2.CreateEnvironmentRequest(environment=env), timeout=5
            )
        triggers = cron_trigger_pb2_grpc.CronTriggersServiceStub(channel)
        for key in ("cron", "cron_gone"):
            trigger = cron_trigger_pb2.CronTrigger(
                trigger_name=world[key], pattern="0 0 1 1 *", workflow_name=world["wf_ok"]
            )
            triggers.CreateCronTrigger(
                cron_trigger_pb2.CreateCronTriggerRequest(cron_trigger=trigger), timeout=5
            )
        status, workbook = post_text(
            f"{levante.url}/workbooks", f"version: '2.0'\nname: tx_wb_{run}\n"
        )
        assert status == 201, workbook
        world["wb_id"] = workbook["id"]
        workbooks = workbook_pb2_grpc.WorkbooksServiceStub(channel)
        for book in (world["wb_update"], f"tx_wb_gone_{run}"):
            created_book = workbooks.CreateWorkbook(
                workbook_pb2.CreateWorkbookRequest(definition=f"version: '2.0'\nname: {book}\n"),
                timeout=5,
            )
        world["wb_gone"] = created_book.id  # deleted by its resource name
        adhoc = action_pb2_grpc.ActionsServiceStub(channel)
        for key in ("act", "act_gone"):
            adhoc.CreateActions(
                action_pb2.CreateActionsRequest(
                    definition=f"version: '2.0'\n{world[key]}:\n  base: std.noop\n"
                ),
                timeout=5,
            )
        members = member_pb2_grpc.MembersServiceStub(channel)
        for parent in (f"workflows/{world['wf_shared_id']}", f"workbooks/{world['wb_id']}"):
            for project in ("project-c", "project-d"):
                members.CreateMember(
                    member_pb2.CreateMemberRequest(
                        parent=parent, member=member_pb2.Member(member_id=project)
                    ),
                    timeout=5,
                )
    return world


# -- the cases -----------------------------------------------------------------


def _fill(value: Any, world: dict[str, str]) -> Any:
    if isinstance(value, str):
        return re.sub(r"\$([a-z_]+)", lambda m: world[m.group(1)], value)
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, world) for v in value]
    return value


def call(
    levante: LevanteProcess, method: str, path: str, body: Any = None
) -> tuple[int, dict, Any]:
    """One HTTP request on the REST port: (status, headers, decoded JSON)."""
    data = None
    if body is not None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
    message = urllib.request.Request(
        f"http://127.0.0.1:{levante.rest_port}{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(message, timeout=60) as response:
            status, headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, dict(error.headers), error.read()
    if headers.get("Content-Type", "").startswith("application/x-ndjson"):
        return status, headers, [json.loads(line) for line in raw.splitlines()]
    return status, headers, json.loads(raw)


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_case(levante: LevanteProcess, world: dict[str, str], case: Case) -> None:
    status, headers, answer = call(
        levante, case.method, _fill(case.path, world), _fill(case.body, world)
    )
    assert status == case.status, answer
    assert headers.get(RULE_HEADER, "") == (f"levante.v2.{case.rule}" if case.rule else ""), headers
    assert headers["Content-Type"].startswith(("application/json", "application/x-ndjson"))
    if status >= 400:
        reason = answer["details"][0]["reason"]
        assert reason.startswith("TRANSCODER_") == (case.answered_by == "transcoder"), reason
    if case.check is not None:
        assert case.check(answer, world), json.dumps(answer, indent=1)[:3000]


def test_answers_are_what_grpc_answers(levante: LevanteProcess, world: dict[str, str]) -> None:
    """The same execution over HTTP and over gRPC: equal, in proto3 JSON."""
    from google.protobuf import json_format

    status, _, answer = call(levante, "GET", f"/levante/v2/executions/{world['exec_ok']}")
    assert status == 200
    with grpc.insecure_channel(levante.grpc_address) as channel:
        found = execution_pb2_grpc.ExecutionsServiceStub(channel).GetExecution(
            execution_pb2.GetExecutionRequest(name=f"executions/{world['exec_ok']}"), timeout=5
        )
    assert json_format.ParseDict(answer, execution_pb2.Execution()) == found


@pytest.mark.parametrize(
    "path",
    ["/levante/v2/workflows/a%00b", "/levante/v2/tasks/a%00b", "/v2/workflows/a%00b"],
)
def test_a_nul_character_is_bad_input_on_every_database(levante: LevanteProcess, path: str) -> None:
    """SQLite stores NUL, PostgreSQL refuses it: not found, or a 400 naming it; never a 500."""
    status, _, answer = call(levante, "GET", path)
    assert status in (400, 404), answer
    message = answer.get("message") or answer.get("faultstring")
    assert status == 404 or "NUL" in message, answer


@pytest.mark.parametrize(
    "path",
    [
        '/levante/v2/executions?filter=input%20%3D%20"x"&orderBy=input%20desc',
        "/v2/executions?input=has:x&sort_keys=input,params&limit=1",
        "/v2/tasks?result=1&sort_keys=result",
    ],
)
def test_json_columns_filter_and_sort_on_every_database(levante: LevanteProcess, path: str) -> None:
    """PostgreSQL has no `=` or ordering for json: they compare as text (as on SQLite)."""
    status, _, answer = call(levante, "GET", path)
    assert status == 200, answer


def test_a_deadline_from_grpc_timeout_is_enforced(
    levante: LevanteProcess, world: dict[str, str]
) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{levante.rest_port}/levante/v2/actionExecutions",
        data=json.dumps({"actionName": "std.sleep", "input": {"seconds": 5}}).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Grpc-Timeout": "200m"},
    )
    started = time.monotonic()
    with pytest.raises(urllib.error.HTTPError) as failed:
        urllib.request.urlopen(request, timeout=30)
    assert failed.value.code == 504
    assert json.loads(failed.value.read())["code"] == 4
    assert time.monotonic() - started < 4
