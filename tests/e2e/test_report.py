"""The execution report's error analysis on real failures in nested workflows.

Each case runs parent -> sub-workflow -> a failing task, with a secret in
the parent's input handed down to the child: the report must name the
deepest failure, the path to it and its class, and never show the secret.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import grpc
import pytest

from levante.v2 import report_pb2, report_pb2_grpc
from tests.support.http import post_json, post_text, request
from tests.support.net import eventually
from tests.support.system import LevanteProcess

SECRET = "hunter2-very-secret"

# The child's failing task `boom`, per case: (task body, what the parent passes).
CASES = {
    "action_failed": (
        "action: std.fail error_data=<% 'refused for ' + $.api_token %>",
        "word: hi\n        api_token: <% $.password %>",
    ),
    "syntax_or_expression_error": (
        "action: std.echo output=<% $.word.no_such_key.deeper %>",
        "word: hi\n        api_token: <% $.password %>",
    ),
    "missing_input": ("action: std.noop", "api_token: <% $.password %>"),
    "timeout": (
        "action: std.sleep seconds=3\n      timeout: 1",
        "word: hi\n        api_token: <% $.password %>",
    ),
}


def _definitions(run: str, case: str) -> str:
    body, passed = CASES[case]
    return f"""\
version: '2.0'
parent_{case}_{run}:
  input: [password]
  hidden: [password]
  tasks:
    prepare:
      action: std.noop
      on-success: call
    call:
      workflow: child_{case}_{run}
      input:
        {passed}
child_{case}_{run}:
  input: [word, api_token]
  tasks:
    first:
      action: std.noop
      on-success: boom
    boom:
      {body}
"""


@pytest.fixture(scope="module")
def failed(levante: LevanteProcess) -> dict[str, dict[str, Any]]:
    """Every case run to its failure: {case: {"id", "child"}}."""
    run = uuid.uuid4().hex[:8]
    started: dict[str, dict[str, Any]] = {}
    for case in CASES:
        status, body = post_text(f"{levante.url}/workflows", _definitions(run, case))
        assert status == 201, body
        status, body = post_json(
            f"{levante.url}/executions",
            {"workflow_name": f"parent_{case}_{run}", "input": json.dumps({"password": SECRET})},
        )
        assert status == 201, body
        started[case] = {"id": body["id"]}
    for case, found in started.items():

        def finished(found: dict[str, Any] = found) -> dict | None:
            _, execution = request("GET", f"{levante.url}/executions/{found['id']}")
            return execution if execution["state"] in ("ERROR", "SUCCESS") else None

        execution = eventually(finished, timeout=60, what=f"the {case} execution to fail")
        assert execution["state"] == "ERROR", execution
        _, listed = request("GET", f"{levante.url}/executions/{found['id']}/executions")
        [child] = [e for e in listed["executions"] if e["id"] != found["id"]]
        found["child"] = child["id"]
    return started


@pytest.mark.parametrize("levante", ["sqlite"], indirect=True)
@pytest.mark.parametrize("case", list(CASES))
def test_root_cause_path_and_class(
    levante: LevanteProcess, failed: dict[str, dict[str, Any]], case: str
) -> None:
    execution_id, child_id = failed[case]["id"], failed[case]["child"]
    status, report = request(
        "GET", f"{levante.url}/executions/{execution_id}/report?include_trace=true"
    )
    assert status == 200, report
    assert SECRET not in json.dumps(report)
    # Mistral's keys are still there, for `mistral execution-get-report`.
    assert report["statistics"]["error_tasks_count"] == (1 if case == "missing_input" else 2)
    assert report["root_workflow_execution"]["id"] == execution_id
    assert report["error_class"] == case
    cause = report["root_cause"]
    assert cause["execution_id"] == child_id and cause["state"] == "ERROR"
    assert cause["workflow_name"].startswith(f"child_{case}_")
    assert cause["workflow_input"]["api_token"] == "******"
    types = [step["type"] for step in report["path"]]
    assert report["path"][0]["id"] == execution_id
    assert [s["id"] for s in report["trace"]] == [s["id"] for s in report["path"]]
    assert all(s["state_info"] for s in report["trace"]), report["trace"]
    if case == "missing_input":
        # The sub-workflow could not start: it is the root cause itself.
        assert types == ["workflow", "task", "workflow"]
        assert cause["task_name"] is None and "missing=['word']" in cause["error"]
        return
    assert cause["task_name"] == "boom"
    if case == "action_failed":
        assert types == ["workflow", "task", "workflow", "task", "action"]
        assert cause["action_name"] == "std.fail"
        # The error quotes the secret: masked (whole, as the result that held it was sealed).
        assert cause["error"] in ("refused for ******", "******")
        # The value holds the parent's hidden password: sealed at rest, shown masked.
        assert cause["input"] == {"error_data": "******"}
    elif case == "timeout":
        assert types[:4] == ["workflow", "task", "workflow", "task"]
        assert "Task timed out [timeout(s)=1]" in cause["state_info"]
    else:
        assert types == ["workflow", "task", "workflow", "task"]
        assert cause["action_name"] is None and cause["input"] is None
        assert "Failed to evaluate the input of task 'boom'" in cause["error"]
    assert report["summary"]["workflows"] == {"ERROR": 2}
    assert report["summary"]["tasks"]["SUCCESS"] == 2


@pytest.mark.parametrize("levante", ["sqlite"], indirect=True)
def test_report_over_grpc_and_transcoded(
    levante: LevanteProcess, failed: dict[str, dict[str, Any]]
) -> None:
    execution_id, child_id = failed["action_failed"]["id"], failed["action_failed"]["child"]
    with grpc.insecure_channel(levante.grpc_address) as channel:
        stub = report_pb2_grpc.ReportsServiceStub(channel)
        report = stub.GetExecutionReport(
            report_pb2.GetExecutionReportRequest(
                name=f"executions/{execution_id}", include_trace=True
            ),
            timeout=10,
        )
        assert report.error_class == report_pb2.ERROR_CLASS_ACTION_FAILED
        assert report.root_cause.execution_id == child_id
        assert report.root_cause.action_name == "std.fail"
        assert report.root_cause.input.struct_value["error_data"] == "******"
        assert report.root_cause.workflow_input["api_token"] == "******"
        assert [s.type for s in report.path][-1] == "action" and len(report.trace) == 5
        assert report.root_workflow_execution.task_executions[0].name == "prepare"
        assert report.summary.tasks["ERROR"] == 2
        stats_only = stub.GetExecutionReport(
            report_pb2.GetExecutionReportRequest(
                name=f"executions/{execution_id}", statistics_only=True, max_depth=0
            ),
            timeout=10,
        )
        assert not stats_only.HasField("root_workflow_execution") and not stats_only.trace
        assert stats_only.statistics.error_tasks_count == 1 and not stats_only.path
        with pytest.raises(grpc.RpcError) as caught:
            stub.GetExecutionReport(
                report_pb2.GetExecutionReportRequest(name=f"executions/{uuid.uuid4()}"), timeout=10
            )
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    status, body = request(
        "GET", f"http://127.0.0.1:{levante.rest_port}/levante/v2/executions/{execution_id}:report"
    )
    assert status == 200, body
    assert body["errorClass"] == "ERROR_CLASS_ACTION_FAILED"
    assert body["rootCause"]["taskName"] == "boom"
    status, body = request("GET", f"{levante.url}/executions/{execution_id}/report?include_trace=x")
    assert status == 400 and "include_trace" in body["faultstring"]
