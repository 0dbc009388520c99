"""The functions Mistral adds to YAQL and Jinja, over an explicit snapshot.

Each function reads only the `ExpressionContext` it is given: its snapshots,
and for `tasks()` across executions the engine's `RuntimeData` (Mistral's
versions query the database). The YAQL and Jinja bindings in
`levante.expressions.yaql_engine` / `jinja_engine` are thin wrappers that
find the context and call these.
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from levante.expressions.context import ExpressionContext
from levante.expressions.runtime import WORKFLOW, RuntimeData, task_type
from levante.expressions.values import to_plain


class FunctionError(Exception):
    """An expression function was called with something it cannot serve.

    The evaluator turns it into an `ExpressionError` naming the expression.
    """


# The keys `task()` always returns, as Mistral's user model of a task execution.
TASK_KEYS = ("id", "name", "state", "state_info", "result", "published", "spec")
# The keys `execution()` always returns.
EXECUTION_KEYS = (
    "id", "name", "input", "params", "spec", "created_at", "root_execution_id",
)  # fmt: skip


def task_model(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A task execution as `task()` shows it: every key of `TASK_KEYS`
    (missing ones as null, `published` as {}), then whatever else the
    engine provided (`type`, `workflow_execution_id`...). A copy."""
    model: dict[str, Any] = {key: None for key in TASK_KEYS}
    model["published"] = {}
    model.update(to_plain(entry))
    return model


def task(context: ExpressionContext, name: str | None = None) -> dict[str, Any]:
    """`task()` / `task(name)`: a task execution as the user model.

    Without a name, the task in whose scope the expression is evaluated. With
    the current task's own name, that same execution (a workflow with a cycle
    has several executions of one task; the current one is meant). Else the
    latest execution of that name in the current workflow execution: from
    `context.tasks`, then from `context.runtime`. Unlike Mistral, which
    returns null, an unknown name is an error: a silent null there hides
    typos until much later in the workflow.

    Raises:
        FunctionError: no current task, or no visible task of that name.
    """
    current = context.current_task
    if name is None:
        if current is None:
            raise FunctionError("task() without a name is only available in a task's scope")
        return task_model(current)
    if not isinstance(name, str):
        raise FunctionError(f"task() takes a task name, not {name!r}")
    if current is not None and current.get("name") == name:
        return task_model(current)
    found = context.tasks.get(name)
    if found is None and context.runtime is not None:
        for entry in context.runtime.task_executions(_execution_id(context)):
            if entry.get("name") == name:
                found = entry  # the latest wins
    if found is None:
        raise FunctionError(f"Task '{name}' not found")
    return task_model(found)


def tasks(
    context: ExpressionContext,
    workflow_execution_id: str | None = None,
    recursive: Any = False,
    state: str | None = None,
    flat: Any = False,
) -> list[dict[str, Any]]:
    """`tasks(workflow_execution_id, recursive, state, flat)`, as the ocata
    spec "yaql-tasks-function" defines it.

    - `workflow_execution_id`: only the tasks of that workflow execution;
      none (or empty): the tasks of every visible execution.
    - `recursive`: also the tasks of the workflows started by those tasks,
      at any depth, each right after the task that started it.
    - `state`: only tasks in that state.
    - `flat`: only action tasks, and workflow tasks whose state differs
      from the state of a workflow execution they started.

    As the spec's own example (`tasks(execution().id, ERROR)`) does, a
    state name may be given second, in place of `recursive`.

    Without `context.runtime`, the visible tasks are `context.tasks`.
    """
    if isinstance(recursive, str) and state is None:
        recursive, state = False, recursive
    runtime = context.runtime if context.runtime is not None else _SnapshotRuntime(context)
    if workflow_execution_id:
        found = _tasks_of(runtime, str(workflow_execution_id), bool(recursive), set())
    else:
        found = list(runtime.task_executions(None))
    selected = []
    for entry in found:
        if state and entry.get("state") != state:
            continue
        if flat and not _is_flat(runtime, entry):
            continue
        selected.append(task_model(entry))
    return selected


def _tasks_of(
    runtime: RuntimeData, workflow_execution_id: str, recursive: bool, seen: set[str]
) -> list[Mapping[str, Any]]:
    seen.add(workflow_execution_id)
    found: list[Mapping[str, Any]] = []
    for entry in runtime.task_executions(workflow_execution_id):
        found.append(entry)
        if not recursive or task_type(entry) != WORKFLOW or entry.get("id") is None:
            continue
        for child in runtime.sub_workflow_executions(entry["id"]):
            child_id = child.get("id")
            if child_id is not None and child_id not in seen:
                found.extend(_tasks_of(runtime, child_id, recursive, seen))
    return found


def _is_flat(runtime: RuntimeData, entry: Mapping[str, Any]) -> bool:
    if task_type(entry) != WORKFLOW:
        return True
    if entry.get("id") is None:
        return True
    children = list(runtime.sub_workflow_executions(entry["id"]))
    # A workflow task whose nested execution never started says something
    # on its own; one that mirrors its nested execution's state does not.
    return not children or any(child.get("state") != entry.get("state") for child in children)


def _execution_id(context: ExpressionContext) -> Any:
    return context.execution.get("id")


class _SnapshotRuntime:
    """`RuntimeData` over the snapshot alone: `context.tasks`, all of the
    current workflow execution unless they say otherwise, nothing nested."""

    def __init__(self, context: ExpressionContext) -> None:
        self._entries = list(context.tasks.values())
        self._default = _execution_id(context)

    def task_executions(
        self, workflow_execution_id: str | None = None
    ) -> Iterable[Mapping[str, Any]]:
        if workflow_execution_id is None:
            return self._entries
        return [
            entry
            for entry in self._entries
            if entry.get("workflow_execution_id", self._default) == workflow_execution_id
        ]

    def sub_workflow_executions(self, task_execution_id: str) -> Iterable[Mapping[str, Any]]:
        return ()


def execution(context: ExpressionContext) -> dict[str, Any]:
    """`execution()`: the workflow execution: every key of `EXECUTION_KEYS`
    (missing ones as null), then whatever else the engine provided.
    `created_at` given as a datetime is shown as Mistral shows it
    (`2024-01-31 12:00:00`)."""
    model: dict[str, Any] = dict.fromkeys(EXECUTION_KEYS)
    for key, value in context.execution.items():
        if isinstance(value, datetime.datetime):
            value = value.isoformat(" ")
        model[key] = to_plain(value)
    return model


def env(context: ExpressionContext) -> dict[str, Any]:
    """`env()`: the environment the execution was started with."""
    return to_plain(context.env)


def global_var(context: ExpressionContext, name: str) -> Any:
    """`global(name)`: a global variable of the execution, or null."""
    return to_plain(context.global_vars.get(name))


def json_pp(data: Any) -> str:
    """`json_pp(x)`: indented JSON with escaped newlines made real (deprecated
    in Mistral in favour of json_dump, still widely used)."""
    text = json.dumps(to_plain(data), indent=4)
    return text.replace("\\n", "\n").replace(" \n", "\n")


def json_dump(data: Any) -> str:
    """`json_dump(x)`: indented JSON text."""
    return json.dumps(to_plain(data), indent=4)


def json_parse(text: str) -> Any:
    """`json_parse(s)`: the value a JSON text denotes."""
    return json.loads(text)


def yaml_dump(data: Any) -> str:
    """`yaml_dump(x)`: block-style YAML text."""
    return yaml.safe_dump(to_plain(data), default_flow_style=False)


def yaml_parse(text: str) -> Any:
    """`yaml_parse(s)`: the value a YAML text denotes."""
    return to_plain(yaml.safe_load(text))


def new_uuid() -> str:
    """`uuid()`: a random UUID4 as text."""
    return str(uuid.uuid4())
