"""What expressions see of tasks and the execution: read-only, lazy views.

`task()` and `execution()` show a `spec` that is a deep copy of the
definition; it is made only if an expression reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from levante.engine.state import TaskRun
from levante.language.spec import WorkflowSpec


def task_view(task: TaskRun, workflow: WorkflowSpec) -> Mapping[str, Any]:
    spec = workflow.tasks.get(task.name)
    return LazyView(
        {
            "id": task.id,
            "name": task.name,
            "state": str(task.state),
            "state_info": task.state_info,
            "result": task.result,
            "published": task.published,
        },
        spec.as_dict if spec is not None else dict,
    )


class LazyView(Mapping[str, Any]):
    """What task() / execution() see; `spec` (a deep copy) is made only if read."""

    def __init__(self, values: dict[str, Any], spec: Callable[[], dict[str, Any]]) -> None:
        self._values = values
        self._spec = spec

    def __getitem__(self, key: str) -> Any:
        if key == "spec":
            if "spec" not in self._values:
                self._values["spec"] = self._spec()
            return self._values["spec"]
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter([*(k for k in self._values if k != "spec"), "spec"])

    def __len__(self) -> int:
        return len(self._values) + (0 if "spec" in self._values else 1)


class TaskViews(Mapping[str, Mapping[str, Any]]):
    """What `task(name)` sees: each task's latest run, turned into a view on access.

    The runs are looked up only when an expression reads them.
    """

    def __init__(self, runs: Callable[[], dict[str, TaskRun]], workflow: WorkflowSpec) -> None:
        self._runs = runs
        self._workflow = workflow

    def __getitem__(self, name: str) -> Mapping[str, Any]:
        return task_view(self._runs()[name], self._workflow)

    def __iter__(self) -> Iterator[str]:
        return iter(self._runs())

    def __len__(self) -> int:
        return len(self._runs())
