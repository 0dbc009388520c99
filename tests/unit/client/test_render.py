"""What the views print: the live tree, the report with and without the server's analysis."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console, RenderableType

from levante.client import render
from levante.client.progress import ExecutionProgress


def text(renderable: RenderableType) -> str:
    out = io.StringIO()
    Console(file=out, width=120, color_system=None).print(renderable)
    return out.getvalue()


def test_the_live_tree_shows_items_sub_workflows_and_the_failing_leaf() -> None:
    progress = ExecutionProgress("r")
    progress.merge_execution({"id": "r", "workflow_name": "main", "state": "ERROR"})
    progress.merge_task(
        {
            "id": "t1",
            "name": "each",
            "state": "RUNNING",
            "workflow_execution_id": "r",
            "runtime_context": {"with_items": {"count": 4}},
        }
    )
    progress.set_items("t1", [{"id": "a", "state": "SUCCESS"}, {"id": "b", "state": "ERROR"}])
    progress.merge_task(
        {"id": "t2", "name": "sub", "state": "ERROR", "workflow_execution_id": "r",
         "state_info": "Failure caused by error in tasks: inner"}
    )  # fmt: skip
    progress.merge_execution(
        {"id": "c", "workflow_name": "child", "state": "ERROR", "task_execution_id": "t2"}
    )
    progress.merge_task(
        {"id": "t3", "name": "inner", "state": "ERROR", "workflow_execution_id": "c",
         "state_info": "disk full"}
    )  # fmt: skip
    shown = text(render.progress_tree(progress))
    assert "main ✘ ERROR r" in shown
    assert "each ▶ RUNNING" in shown and "2/4 items, 1 failed" in shown
    assert "child ✘ ERROR c" in shown and "disk full" in shown
    # The parent's state_info only repeats the child's failure: not shown.
    assert "Failure caused by" not in shown


MISTRAL_TREE: dict[str, Any] = {
    "id": "r",
    "name": "main",
    "state": "ERROR",
    "task_executions": [
        {
            "id": "t",
            "name": "sub",
            "state": "ERROR",
            "action_executions": [],
            "workflow_executions": [
                {
                    "id": "c",
                    "name": "child",
                    "state": "ERROR",
                    "task_executions": [
                        {
                            "id": "t2",
                            "name": "inner",
                            "state": "ERROR",
                            "state_info": "disk full",
                            "action_executions": [
                                {"id": "a", "name": "std.fail", "state": "ERROR"}
                            ],
                            "workflow_executions": [],
                        }
                    ],
                }
            ],
        }
    ],
}


def test_a_report_without_analysis_is_read_off_mistrals_tree() -> None:
    shown = text(
        render.report(
            {"root_workflow_execution": MISTRAL_TREE, "statistics": {"total_tasks_count": 2}}
        )
    )
    assert "why it failed" in shown and "disk full" in shown
    assert "main → sub → child → inner" in shown
    assert "action std.fail ✘ ERROR a" in shown
    assert "tasks: total 2" in shown


def test_the_servers_analysis_is_shown_when_present() -> None:
    data = {
        "root_workflow_execution": MISTRAL_TREE,
        "root_cause": {
            "workflow_name": "child",
            "task_name": "inner",
            "action_name": "std.fail",
            "state": "ERROR",
            "error": "disk full",
            "input": {"password": "******"},
        },
        "path": [
            {"type": "workflow", "name": "main", "state": "ERROR"},
            {"type": "task", "name": "sub", "state": "ERROR"},
        ],
        "error_class": "action_failed",
        "summary": {"tasks": {"ERROR": 2}, "actions": {"ERROR": 1}},
        "trace": [{"type": "workflow", "name": "main", "state": "ERROR", "depth": 0,
                   "state_info": "Failure caused by error in tasks: sub"}],
    }  # fmt: skip
    shown = text(render.report(data))
    assert "error class  action_failed" in shown
    assert "where        child › inner › std.fail" in shown
    assert '{"password": "******"}' in shown
    assert "workflow main → task sub" in shown
    assert "Failure caused by error in tasks: sub" in shown  # the trace
    assert "tasks: ERROR 2 · actions: ERROR 1" in shown


def test_a_successful_report_has_no_failure_panel() -> None:
    data = {
        "root_workflow_execution": {"id": "r", "name": "main", "state": "SUCCESS"},
        "root_cause": None,
        "path": [],
        "error_class": None,
        "summary": {"workflows": {"SUCCESS": 1}},
    }
    shown = text(render.report(data))
    assert "why it failed" not in shown and "workflows: SUCCESS 1" in shown
