"""The functions Mistral adds to YAQL and Jinja, over an explicit snapshot.

Each function reads only the `ExpressionContext` it is given (Mistral's
versions query the database). The YAQL and Jinja bindings in
`levante.expressions.yaql_engine` / `jinja_engine` are thin wrappers that
find the context and call these.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import yaml

from levante.expressions.context import ExpressionContext
from levante.expressions.values import to_plain


class FunctionError(Exception):
    """An expression function was called with something it cannot serve.

    The evaluator turns it into an `ExpressionError` naming the expression.
    """


def task(context: ExpressionContext, name: str | None = None) -> dict[str, Any]:
    """`task()` / `task(name)`: a task execution as the user model.

    Without a name, the task in whose scope the expression is evaluated. With
    the current task's own name, that same execution (a workflow with a cycle
    has several executions of one task; the current one is meant). Unlike
    Mistral, which returns null, an unknown name is an error: a silent null
    there hides typos until much later in the workflow.

    Raises:
        FunctionError: no current task, or no visible task of that name.
    """
    current = context.current_task
    if name is None:
        if current is None:
            raise FunctionError("task() without a name is only available in a task's scope")
        return to_plain(current)
    if current is not None and current.get("name") == name:
        return to_plain(current)
    found = context.tasks.get(name)
    if found is None:
        raise FunctionError(f"Task '{name}' not found")
    return to_plain(found)


def tasks(
    context: ExpressionContext,
    workflow_execution_id: str | None = None,
    recursive: bool = False,
    state: str | None = None,
    flat: bool = False,
) -> list[dict[str, Any]]:
    """`tasks(...)`: the visible task executions, optionally filtered.

    `workflow_execution_id` keeps tasks whose `workflow_execution_id` matches
    (tasks that don't carry one are kept: the engine hands over one
    execution's tasks). `state` keeps tasks in that state. `recursive` and
    `flat` are accepted for compatibility; the snapshot holds exactly the
    tasks the engine chose to expose, nested ones included if it did.
    """
    del recursive, flat  # See the docstring: the snapshot already decides.
    selected = []
    for entry in context.tasks.values():
        wf_id = entry.get("workflow_execution_id")
        if workflow_execution_id and wf_id is not None and wf_id != workflow_execution_id:
            continue
        if state and entry.get("state") != state:
            continue
        selected.append(to_plain(entry))
    return selected


def execution(context: ExpressionContext) -> dict[str, Any]:
    """`execution()`: the workflow execution (id, name, input, params...)."""
    return to_plain(context.execution)


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
