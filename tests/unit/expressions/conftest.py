"""A shared snapshot for expression tests."""

from __future__ import annotations

import pytest

from levante.expressions import ExpressionContext


@pytest.fixture
def context() -> ExpressionContext:
    return ExpressionContext(
        data={
            "x": 3,
            "name": "Bob",
            "flag": True,
            "nothing": None,
            "numbers": [1, 2, 3],
            "person": {"name": "Ann", "age": 41},
            "people": [{"name": "Ann"}, {"name": "Cy"}],
        },
        tasks={
            "t1": {
                "id": "id-1",
                "name": "t1",
                "state": "SUCCESS",
                "state_info": None,
                "result": {"out": 5, "list": [1, 2]},
                "published": {"p": 1},
                "workflow_execution_id": "wf-1",
            },
            "t2": {
                "id": "id-2",
                "name": "t2",
                "state": "ERROR",
                "state_info": "boom",
                "result": None,
                "published": {},
                "workflow_execution_id": "wf-1",
            },
        },
        current_task={
            "id": "id-3",
            "name": "t3",
            "state": "RUNNING",
            "state_info": None,
            "result": "current result",
            "published": {},
        },
        env={"region": "eu", "limits": {"cpu": 2}},
        execution={"id": "wf-1", "name": "my_wf", "input": {"a": 1}, "params": {}},
        global_vars={"counter": 7},
    )
