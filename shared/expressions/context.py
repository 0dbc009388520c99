"""The snapshot an expression is evaluated against."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from levante.expressions.runtime import RuntimeData


@dataclass(frozen=True, slots=True)
class ExpressionContext:
    """Everything an expression may read, handed over by the engine.

    Expression functions read only this snapshot and, for queries across
    executions, the engine's `runtime` (the library itself never touches a
    database), so evaluation is repeatable. Treat it as immutable, mappings
    included: the evaluator never mutates them, and it keeps derived forms
    of `data` (see `derived`) for as long as the context lives. To evaluate
    against changed data, build a new context (`dataclasses.replace` works).

    Attributes:
        data: What `$` is in YAQL and `_` in Jinja (workflow input, vars,
            published variables, with-items values...).
        tasks: Task name -> task execution as the user model (`id`,
            `name`, `state`, `state_info`, `result`, `published`, `spec`,
            and optionally `type`, `workflow_execution_id`...): the latest
            execution of each task of the current workflow execution, what
            `task(name)` returns. Without `runtime`, also what `tasks()`
            lists (an entry without `workflow_execution_id` belongs to
            `execution["id"]`).
        current_task: What `task()` without a name returns, when evaluating
            in the scope of a task (its publish, transitions...).
        env: What `env()` returns.
        execution: What `execution()` returns (`id`, `name`, `input`,
            `params`, `spec`, `created_at`, `root_execution_id`...).
        global_vars: What `global(name)` looks names up in.
        runtime: Optional access to every visible task and workflow
            execution (`levante.expressions.runtime.RuntimeData`, which the
            engine implements): `tasks()` then answers across executions
            and nested workflows, and `task(name)` falls back to it for
            names missing from `tasks`.
    """

    data: Mapping[str, Any] = field(default_factory=dict)
    tasks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    current_task: Mapping[str, Any] | None = None
    env: Mapping[str, Any] = field(default_factory=dict)
    execution: Mapping[str, Any] = field(default_factory=dict)
    global_vars: Mapping[str, Any] = field(default_factory=dict)
    runtime: RuntimeData | None = None
    _derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def derived(self, key: str, build: Callable[[ExpressionContext], Any]) -> Any:
        """`build(self)`, computed once per context and `key` (for the
        evaluator: converting `data` for YAQL walks all of it, and one
        context usually serves many evaluations)."""
        try:
            return self._derived[key]
        except KeyError:
            value = self._derived[key] = build(self)
            return value
