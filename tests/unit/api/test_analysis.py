"""Error analysis over in-memory execution trees: root cause, path, class, summary, masking."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

import pytest

from levante.api.analysis import ErrorClass, analyze, classify, mask_secrets, secret_texts
from levante.persistence.repository import ActionExecutionRecord, ExecutionRecord, TaskRecord
from levante.persistence.trees import ExecutionTree

T0 = datetime(2026, 1, 2, 3, 4, 5)


def _execution(
    id: str, state: str, info: str | None = None, *, parent_task: str | None = None, **input: Any
) -> ExecutionRecord:
    return ExecutionRecord(
        id=id,
        workflow_id=f"wf-{id}",
        workflow_name=f"wf_{id}",
        workflow_namespace="",
        description="",
        tags=[],
        params={},
        input=input,
        output={},
        published_global={},
        state=state,
        state_info=info,
        task_execution_id=parent_task,
        root_execution_id="root" if parent_task else None,
        scope="private",
        project_id="p",
        created_at=T0,
        updated_at=T0,
    )


def _task(id: str, execution: str, state: str, info: str | None = None, minute: int = 0):
    return TaskRecord(
        id=id,
        name=id,
        type="ACTION",
        workflow_execution_id=execution,
        workflow_id="wf",
        workflow_name="wf",
        workflow_namespace="",
        state=state,
        state_info=info,
        published={},
        result=None,
        runtime_context={},
        processed=True,
        tags=[],
        project_id="p",
        created_at=T0 + timedelta(minutes=minute),
        updated_at=T0 + timedelta(minutes=minute),
        started_at=None,
        finished_at=T0 + timedelta(minutes=minute),
    )


def _action(
    id: str, task: str, execution: str, state: str, info: str | None = None, **input: Any
) -> ActionExecutionRecord:
    return ActionExecutionRecord(
        id=id,
        name="std.http",
        task_execution_id=task,
        task_name=task,
        workflow_execution_id=execution,
        workflow_name="wf",
        workflow_namespace="",
        state=state,
        state_info=info,
        accepted=True,
        input=input,
        output={"result": info} if info else None,
        params={},
        description="",
        tags=None,
        project_id="p",
        created_at=T0,
        updated_at=T0,
    )


def nested(
    *, child_task_info: str | None, action_info: str | None, action_state: str = "ERROR"
) -> ExecutionTree:
    """root: ok (SUCCESS), call (ERROR) -> child: first (SUCCESS), boom (ERROR, one action)."""
    actions = [_action("a-ok", "ok", "root", "SUCCESS")]
    if action_info is not None:
        actions.append(
            _action(
                "a-boom",
                "boom",
                "child",
                action_state,
                action_info,
                url="https://x/",
                password="hunter22",
                note="for hunter22",
            )
        )
    return ExecutionTree(
        executions=(
            _execution(
                "root",
                "ERROR",
                "Failure caused by error in tasks: call\n\n  call ...",
                pwd="s3cret!",
            ),
            _execution(
                "child", "ERROR", "Failure caused by error in tasks: boom", parent_task="call"
            ),
        ),
        tasks=(
            _task("ok", "root", "SUCCESS"),
            _task("call", "root", "ERROR", "Failure caused by error in tasks: boom", minute=1),
            _task("first", "child", "SUCCESS", minute=1),
            _task("boom", "child", "ERROR", child_task_info, minute=2),
        ),
        actions=tuple(actions),
    )


def test_a_failed_action_deep_in_a_sub_workflow() -> None:
    tree = nested(child_task_info="HTTP 500 for s3cret!", action_info="HTTP 500 for s3cret!")
    analysis = analyze(tree, "root")
    assert analysis.error_class is ErrorClass.ACTION_FAILED
    assert [(s.type, s.id) for s in analysis.path] == [
        ("workflow", "root"),
        ("task", "call"),
        ("workflow", "child"),
        ("task", "boom"),
        ("action", "a-boom"),
    ]
    shown = analysis.json(tree, include_trace=True, action_secrets={"url"})
    cause = shown["root_cause"]
    assert cause["execution_id"] == "child" and cause["workflow_name"] == "wf_child"
    assert (cause["task_name"], cause["action_execution_id"]) == ("boom", "a-boom")
    assert cause["action_name"] == "std.http" and cause["state"] == "ERROR"
    # Secrets: by key (password), declared by the action (url), and their text anywhere.
    assert cause["input"] == {"url": "******", "password": "******", "note": "for ******"}
    assert cause["error"] == "HTTP 500 for ******" == cause["state_info"]
    assert [s["depth"] for s in shown["trace"]] == [0, 1, 2, 3, 4]
    assert shown["trace"][3]["state_info"] == "HTTP 500 for ******"
    assert shown["path"][0] == {
        "type": "workflow",
        "id": "root",
        "name": "wf_root",
        "state": "ERROR",
    }
    assert shown["summary"] == {
        "workflows": {"ERROR": 2},
        "tasks": {"ERROR": 2, "SUCCESS": 2},
        "actions": {"ERROR": 1, "SUCCESS": 1},
    }
    # The analysis of the sub-workflow alone starts there.
    child = analyze(tree, "child")
    assert [s.id for s in child.path] == ["child", "boom", "a-boom"]
    assert child.summary["tasks"] == {"ERROR": 1, "SUCCESS": 1}


CLASSES = [
    ("Task timed out [timeout(s)=1].", None, ErrorClass.TIMEOUT),
    (
        "Failed to evaluate the input of task 'boom': Can not evaluate YAQL expression "
        "[expression=$.nope.x, error=...]",
        None,
        ErrorClass.SYNTAX_OR_EXPRESSION_ERROR,
    ),
    ("Failed to publish the result of task 'boom': Invalid Jinja expression", None,
     ErrorClass.SYNTAX_OR_EXPRESSION_ERROR),
    (
        "Invalid input [name=std.http, class=HttpAction, missing=['url'], unexpected=[]]",
        "Invalid input [name=std.http, class=HttpAction, missing=['url'], unexpected=[]]",
        ErrorClass.MISSING_INPUT,
    ),
    ("Failed by 'fail-on' policy", "done", ErrorClass.ACTION_FAILED),
    ("Fail action expected exception.", "Fail action expected exception.",
     ErrorClass.ACTION_FAILED),
]  # fmt: skip


@pytest.mark.parametrize(
    ("task_info", "action_info", "expected"), CLASSES, ids=[c[2].value for c in CLASSES]
)
def test_error_classes(task_info: str, action_info: str | None, expected: ErrorClass) -> None:
    tree = nested(child_task_info=task_info, action_info=action_info)
    analysis = analyze(tree, "root")
    assert analysis.error_class is expected
    cause = analysis.root_cause
    assert cause is not None and cause.task is not None and cause.task.id == "boom"
    assert (cause.action is not None) == (action_info is not None)


def test_a_sub_workflow_that_could_not_start_is_the_root_cause() -> None:
    info = "Invalid input [name=wf_child, class=DirectWorkflowSpec, missing=['x']]"
    tree = ExecutionTree(
        executions=(
            _execution("root", "ERROR", "Failure caused by error in tasks: call"),
            _execution("child", "ERROR", info, parent_task="call"),
        ),
        tasks=(_task("call", "root", "ERROR", info),),
        actions=(),
    )
    analysis = analyze(tree, "root")
    assert analysis.error_class is ErrorClass.MISSING_INPUT
    assert [s.type for s in analysis.path] == ["workflow", "task", "workflow"]
    cause = analysis.json(tree, include_trace=False)["root_cause"]
    assert (cause["execution_id"], cause["task_name"], cause["error"]) == ("child", None, info)
    assert "trace" not in analysis.json(tree, include_trace=False)


def test_cancelled_and_successful_executions() -> None:
    tree = ExecutionTree(
        executions=(_execution("root", "CANCELLED", "Cancelled by the user"),),
        tasks=(_task("t", "root", "CANCELLED"), _task("u", "root", "SUCCESS")),
        actions=(),
    )
    analysis = analyze(tree, "root")
    assert analysis.error_class is ErrorClass.CANCELLED
    assert [s.id for s in analysis.path] == ["root", "t"]
    fine = ExecutionTree(
        executions=(_execution("root", "SUCCESS"),),
        tasks=(_task("u", "root", "SUCCESS"),),
        actions=(),
    )
    shown = analyze(fine, "root").json(fine, include_trace=True)
    assert (shown["root_cause"], shown["path"], shown["error_class"], shown["trace"]) == (
        None,
        [],
        None,
        [],
    )
    assert shown["summary"]["tasks"] == {"SUCCESS": 1}


def test_the_task_the_failure_names_wins_over_an_earlier_handled_error() -> None:
    tree = nested(child_task_info="HTTP 500", action_info="HTTP 500")
    handled = _task("handled", "child", "ERROR", "Invalid input [...]", minute=0)
    tree = dataclasses.replace(tree, tasks=(*tree.tasks, handled))
    assert [s.id for s in analyze(tree, "root").path][3] == "boom"


def test_masking_helpers() -> None:
    value = {
        "user": "me",
        "Password": "p",
        "nested": [{"api_key": "k" * 8, "AUTH": {"x": 1}}, {"private_key": None}],
        "declared": "visible?",
        "author": "not a secret",
    }
    assert mask_secrets(value, {"declared"}) == {
        "user": "me",
        "Password": "******",
        "nested": [{"api_key": "******", "AUTH": "******"}, {"private_key": "******"}],
        "declared": "******",
        "author": "not a secret",
    }
    assert secret_texts(value, {"declared"}) == ("kkkkkkkk", "visible?")
    # A workflow's hidden names may be glob patterns; values sealed at rest show masked.
    assert mask_secrets({"db_conn": "x", "other": "y"}, {"db_*"}) == {
        "db_conn": "******",
        "other": "y",
    }
    assert mask_secrets({"x": {"__levante_secret__": "gAAAA..."}}) == {"x": "******"}
    assert classify(["nothing known"]) is ErrorClass.ACTION_FAILED
