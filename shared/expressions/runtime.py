"""The narrow interface through which expression functions read run-time data.

`task(name)`, `tasks(...)` and `execution()` need task and workflow
executions that only the engine has. The library never queries a store: the
engine hands an `ExpressionContext` either plain snapshots (`tasks`,
`current_task`, `execution`...) or, for queries that reach beyond one
execution (`tasks()` over nested workflows, as the ocata spec
"yaql-tasks-function" defines it), an object implementing `RuntimeData`.

Task executions are passed as the user model Mistral's `task()` returns,
as mappings with at least:

    id, name, state, state_info, result, published,
    spec                   # the task's spec as a plain dict (TaskSpec.as_dict())
    type                   # "ACTION" or "WORKFLOW" (inferred from spec when absent)
    workflow_execution_id  # the workflow execution the task belongs to

and workflow executions as mappings with `id`, `state` and
`task_execution_id` (the task execution that started it, for nested ones).

`InMemoryRuntime` implements the protocol over lists the caller already
holds; an engine with a database implements the two methods as queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

ACTION, WORKFLOW = "ACTION", "WORKFLOW"


@runtime_checkable
class RuntimeData(Protocol):
    """Read-only access to task and workflow executions (the engine implements it).

    Both methods must be side-effect free and may be called several times
    during one evaluation; they return what the caller may see (one
    project's executions, say).
    """

    def task_executions(
        self, workflow_execution_id: str | None = None
    ) -> Iterable[Mapping[str, Any]]:
        """The task executions of one workflow execution, in creation order;
        with None, the task executions of every visible workflow execution."""
        ...

    def sub_workflow_executions(self, task_execution_id: str) -> Iterable[Mapping[str, Any]]:
        """The workflow executions a task execution of type WORKFLOW started
        (several with with-items), each with at least `id` and `state`."""
        ...


class InMemoryRuntime:
    """`RuntimeData` over task and workflow executions held in memory.

    `task_executions` entries are task user models (see the module doc);
    `workflow_executions` entries need `id`, `state`, and for nested
    executions `task_execution_id`.
    """

    def __init__(
        self,
        task_executions: Iterable[Mapping[str, Any]] = (),
        workflow_executions: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        self._tasks = list(task_executions)
        self._by_workflow: dict[Any, list[Mapping[str, Any]]] = {}
        for task in self._tasks:
            self._by_workflow.setdefault(task.get("workflow_execution_id"), []).append(task)
        self._children: dict[Any, list[Mapping[str, Any]]] = {}
        for execution in workflow_executions:
            parent = execution.get("task_execution_id")
            if parent is not None:
                self._children.setdefault(parent, []).append(execution)

    def task_executions(
        self, workflow_execution_id: str | None = None
    ) -> Iterable[Mapping[str, Any]]:
        if workflow_execution_id is None:
            return list(self._tasks)
        return list(self._by_workflow.get(workflow_execution_id, ()))

    def sub_workflow_executions(self, task_execution_id: str) -> Iterable[Mapping[str, Any]]:
        return list(self._children.get(task_execution_id, ()))


def task_type(task: Mapping[str, Any]) -> str:
    """ACTION or WORKFLOW: the task's `type`, else what its spec says."""
    kind = task.get("type")
    if isinstance(kind, str) and kind:
        return kind.upper()
    spec = task.get("spec")
    if isinstance(spec, Mapping) and spec.get("workflow"):
        return WORKFLOW
    return ACTION
