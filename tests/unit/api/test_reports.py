"""Mistral's execution report and sub-execution walks over an in-memory execution tree."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from levante.api.reports import Walk, execution_and_descendants, execution_report, task_descendants
from levante.errors import NotFoundError
from levante.persistence.repository import ActionExecutionRecord, ExecutionRecord, TaskRecord
from levante.persistence.trees import ExecutionTree

T0 = datetime(2026, 1, 2, 3, 4, 5)


def _execution(
    id: str, name: str, state: str, *, parent_task: str | None = None, minute: int = 0
) -> ExecutionRecord:
    return ExecutionRecord(
        id=id,
        workflow_id=f"wf-{name}",
        workflow_name=name,
        workflow_namespace="",
        description="",
        tags=[],
        params={},
        input={},
        output={},
        published_global={},
        state=state,
        state_info="boom" if state == "ERROR" else None,
        task_execution_id=parent_task,
        root_execution_id="root" if parent_task else None,
        scope="private",
        project_id="p",
        created_at=T0 + timedelta(minutes=minute),
        updated_at=T0 + timedelta(minutes=minute + 1),
    )


def _task(id: str, execution: str, state: str, minute: int) -> TaskRecord:
    return TaskRecord(
        id=id,
        name=f"task_{id}",
        type="ACTION",
        workflow_execution_id=execution,
        workflow_id="wf",
        workflow_name="wf",
        workflow_namespace="",
        state=state,
        state_info="broken" if state == "ERROR" else None,
        published={},
        result=None,
        runtime_context={},
        processed=True,
        tags=[],
        project_id="p",
        created_at=T0 + timedelta(minutes=minute),
        updated_at=None,
        started_at=None,
        finished_at=None,
    )


def _action(id: str, task: str, state: str) -> ActionExecutionRecord:
    return ActionExecutionRecord(
        id=id,
        name="std.echo",
        task_execution_id=task,
        task_name=None,
        workflow_execution_id=None,
        workflow_name=None,
        workflow_namespace="",
        state=state,
        state_info=None,
        accepted=True,
        input={},
        output=None,
        params={},
        description="",
        tags=None,
        project_id="p",
        created_at=T0,
        updated_at=T0 + timedelta(seconds=30),
    )


@pytest.fixture
def tree() -> ExecutionTree:
    """root: ok (SUCCESS, one action), call (ERROR) -> child: fine (SUCCESS), bad (ERROR)
    -> grandchild: deep (RUNNING); waiting (WAITING)."""
    return ExecutionTree(
        executions=(
            _execution("root", "parent", "ERROR"),
            _execution("child", "child", "ERROR", parent_task="call", minute=1),
            _execution("grandchild", "leaf", "RUNNING", parent_task="bad", minute=2),
        ),
        tasks=(
            _task("ok", "root", "SUCCESS", 0),
            _task("call", "root", "ERROR", 1),
            _task("waiting", "root", "WAITING", 5),
            _task("fine", "child", "SUCCESS", 1),
            _task("bad", "child", "ERROR", 2),
            _task("deep", "grandchild", "RUNNING", 3),
        ),
        actions=(_action("a1", "ok", "SUCCESS"), _action("a2", "deep", "RUNNING")),
    )


def _names(entry: dict) -> list:
    """The tree as nested (name, children) pairs, for readable assertions."""
    tasks = entry.get("task_executions")
    if tasks is None:
        return [entry["name"]]
    return [
        entry["name"],
        [
            [task["name"], [_names(child) for child in task["workflow_executions"]]]
            for task in tasks
        ],
    ]


def test_full_report_has_every_task_action_and_statistics(tree: ExecutionTree) -> None:
    report = execution_report(tree, "root", Walk())
    assert report["statistics"] == {
        "total_tasks_count": 6,
        "running_tasks_count": 1,
        "success_tasks_count": 2,
        "error_tasks_count": 2,
        "idle_tasks_count": 1,
        "paused_tasks_count": 0,
        "estimated_time": 0,
    }
    root = report["root_workflow_execution"]
    assert _names(root) == [
        "parent",
        [
            ["task_ok", []],
            [
                "task_call",
                [["child", [["task_fine", []], ["task_bad", [["leaf", [["task_deep", []]]]]]]]],
            ],
            ["task_waiting", []],
        ],
    ]
    assert root["created_at"] == "2026-01-02 03:04:05" and root["state_info"] == "boom"
    [action] = root["task_executions"][0]["action_executions"]
    assert action == {
        "accepted": True,
        "last_heartbeat": "2026-01-02 03:04:35",
        "id": "a1",
        "name": "std.echo",
        "created_at": "2026-01-02 03:04:05",
        "updated_at": "2026-01-02 03:04:35",
        "state": "SUCCESS",
        "state_info": None,
    }


def test_errors_only_follows_failed_tasks(tree: ExecutionTree) -> None:
    report = execution_report(tree, "root", Walk(errors_only=True))
    assert _names(report["root_workflow_execution"]) == [
        "parent",
        [["task_call", [["child", [["task_bad", [["leaf", []]]]]]]]],
    ]
    assert report["statistics"]["total_tasks_count"] == 2
    assert report["statistics"]["error_tasks_count"] == 2


def test_max_depth_shows_deeper_executions_without_entering_them(tree: ExecutionTree) -> None:
    report = execution_report(tree, "root", Walk(max_depth=0), statistics_only=True)
    assert set(report) == {"statistics"}
    assert report["statistics"]["total_tasks_count"] == 3
    root = execution_report(tree, "root", Walk(max_depth=0))["root_workflow_execution"]
    assert _names(root) == [
        "parent",
        [["task_ok", []], ["task_call", [["child"]]], ["task_waiting", []]],
    ]


def test_report_of_a_sub_execution_starts_there(tree: ExecutionTree) -> None:
    root = execution_report(tree, "child", Walk())["root_workflow_execution"]
    assert root["id"] == "child"
    with pytest.raises(NotFoundError, match="WorkflowExecution not found"):
        execution_report(tree, "nope", Walk())


@pytest.mark.parametrize(
    ("walk", "expected"),
    [
        (Walk(), ["root", "child", "grandchild"]),
        (Walk(max_depth=0), ["root"]),
        (Walk(max_depth=1), ["root", "child"]),
        (Walk(errors_only=True), ["root", "child", "grandchild"]),
    ],
    ids=["all", "depth-0", "depth-1", "errors-only"],
)
def test_execution_and_descendants(tree: ExecutionTree, walk: Walk, expected: list) -> None:
    assert [e.id for e in execution_and_descendants(tree, "root", walk)] == expected


def test_task_descendants(tree: ExecutionTree) -> None:
    [call] = [t for t in tree.tasks if t.id == "call"]
    [ok] = [t for t in tree.tasks if t.id == "ok"]
    assert [e.id for e in task_descendants(tree, call, Walk())] == ["child", "grandchild"]
    assert [e.id for e in task_descendants(tree, call, Walk(max_depth=0))] == ["child"]
    assert task_descendants(tree, ok, Walk()) == []
    assert task_descendants(tree, ok, Walk(errors_only=True)) == []
