"""Immutable spec objects for the Mistral workflow language v2.

The parser (`levante.language.parser`) turns definition text into these
values; the engine reads them and never sees YAML. Everything here is plain
data: frozen dataclasses, tuples, and JSON-like values (expressions stay as
strings and are evaluated by `levante.expressions`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class WorkflowType(StrEnum):
    """How a workflow decides what runs next."""

    DIRECT = "direct"
    REVERSE = "reverse"


class TransitionKind(StrEnum):
    """What a transition does: start a task, or an engine command."""

    TASK = "task"
    FAIL = "fail"
    SUCCEED = "succeed"
    PAUSE = "pause"
    # Mistral's fourth engine command: does nothing, but counts as a
    # transition, so e.g. `on-error: [noop]` marks the error as handled.
    NOOP = "noop"


ENGINE_COMMANDS = frozenset(
    {TransitionKind.FAIL, TransitionKind.SUCCEED, TransitionKind.PAUSE, TransitionKind.NOOP}
)
# A task can't take an engine command's name: in a transition it would mean the command.
RESERVED_TASK_NAMES = frozenset(command.value for command in ENGINE_COMMANDS)


@dataclass(frozen=True, slots=True)
class Position:
    """Where something is in the definition text (1-based line and column)."""

    line: int
    column: int


@dataclass(frozen=True, slots=True)
class InputParam:
    """One workflow input: a name, and a default value when `has_default`."""

    name: str
    has_default: bool = False
    default: Any = None


@dataclass(frozen=True, slots=True)
class Transition:
    """One entry of on-success / on-error / on-complete.

    `target` is the task name for TASK transitions; `condition` is the
    expression text (`<% ... %>` or `{{ ... }}`) guarding it, or None.
    `message` is the msg of an engine command (`fail msg='...'`).
    """

    kind: TransitionKind
    target: str | None = None
    condition: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """A task's `retry` policy; `count` and `delay` may be expressions.

    `break_on` / `continue_on` are expression texts, or None.
    """

    count: int | str
    delay: int | str
    break_on: str | None = None
    continue_on: str | None = None


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """A task of a workflow.

    Exactly one of `action` / `workflow` is set, or neither (a no-op task,
    which behaves as `std.noop`). `input` holds the task's input mapping,
    inline shorthand parameters included, with expressions unevaluated.

    Values are effective: the workflow's `task-defaults` are already
    applied (a task without its own on-success/on-error/on-complete gets
    the defaults' transitions, minus those to itself; policies the task
    doesn't set come from the defaults; `requires` is the union).

    `with_items` maps each loop variable to a list or an expression text, in
    definition order. `join` is "all", "one", a count, or None.
    `wait_before`, `wait_after`, `timeout` and `concurrency` are seconds or
    counts, or expression texts; `pause_before`, `fail_on`, `keep_result`
    and `safe_rerun` are booleans or expression texts (evaluate a str
    before using it as a flag). `on_*_publish` hold the `publish` of the
    advanced on-clause form (`{publish: {branch: ..., global: ...}, next:
    [...]}`).

    In a workbook, `action` / `workflow` naming one of the workbook's own
    actions or workflows by its local name hold the qualified name
    (`book.greet`). `definition` is the task as written (see `as_dict`).
    """

    name: str
    action: str | None = None
    workflow: str | None = None
    input: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    publish: dict[str, Any] = field(default_factory=dict)
    publish_on_error: dict[str, Any] = field(default_factory=dict)
    on_success: tuple[Transition, ...] = ()
    on_error: tuple[Transition, ...] = ()
    on_complete: tuple[Transition, ...] = ()
    requires: tuple[str, ...] = ()
    keep_result: bool | str = True
    target: str | None = None
    safe_rerun: bool | str = False
    position: Position | None = None
    tags: tuple[str, ...] = ()
    join: str | int | None = None
    with_items: dict[str, Any] = field(default_factory=dict)
    concurrency: int | str | None = None
    retry: RetryPolicy | None = None
    wait_before: int | str | None = None
    wait_after: int | str | None = None
    timeout: int | str | None = None
    pause_before: bool | str = False
    fail_on: bool | str | None = None
    on_success_publish: dict[str, Any] = field(default_factory=dict)
    on_error_publish: dict[str, Any] = field(default_factory=dict)
    on_complete_publish: dict[str, Any] = field(default_factory=dict)
    definition: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The task's spec as Mistral shows it (in `task().spec`): the
        mapping as written, with `name`, `version` and the workflow's
        `type`; task-defaults not applied. A deep copy."""
        return copy.deepcopy(self.definition) if self.definition else {"name": self.name}


@dataclass(frozen=True, slots=True)
class WorkflowSpec:
    """A workflow: its interface, data and tasks (in definition order).

    `task_defaults` is the raw `task-defaults` mapping as written; the
    tasks already have it applied. `definition` is the workflow as written
    (see `as_dict`). `hidden` names the variables whose values are secret
    (the pike spec's `hidden` section): names, or glob patterns such as
    `secret_*`, matched against the keys of the input, vars, published
    variables and output.
    """

    name: str
    type: WorkflowType = WorkflowType.DIRECT
    description: str = ""
    tags: tuple[str, ...] = ()
    input: tuple[InputParam, ...] = ()
    output: Any = None
    output_on_error: Any = None
    vars: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, TaskSpec] = field(default_factory=dict)
    position: Position | None = None
    task_defaults: dict[str, Any] = field(default_factory=dict)
    hidden: tuple[str, ...] = ()
    definition: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The workflow's spec as Mistral shows it (in `execution().spec`):
        the mapping as written, with `name` and `version`. A deep copy."""
        if not self.definition:
            return {"name": self.name, "version": "2.0", "type": self.type.value}
        return copy.deepcopy(self.definition)

    def start_tasks(self) -> tuple[TaskSpec, ...]:
        """Tasks of a direct workflow that no transition leads to."""
        targets = {
            t.target
            for task in self.tasks.values()
            for t in (*task.on_success, *task.on_error, *task.on_complete)
            if t.kind is TransitionKind.TASK
        }
        return tuple(task for name, task in self.tasks.items() if name not in targets)


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """An ad-hoc action: a named action defined over a `base` action.

    `base` is the base action's name (inline parameters of the shorthand
    `base: std.echo output=hi` are merged under `base_input`, explicit
    `base-input` keys winning). `base_input` values are expressions over
    the ad-hoc action's own input; `input` declares that input like a
    workflow's. `output` (any value, usually an expression over the base
    action's result as `$`) transforms the result, or is None.
    """

    name: str
    base: str
    base_input: dict[str, Any] = field(default_factory=dict)
    input: tuple[InputParam, ...] = ()
    output: Any = None
    description: str = ""
    tags: tuple[str, ...] = ()
    position: Position | None = None
    definition: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """The action's spec as written, with `name` and `version`. A deep copy."""
        if not self.definition:
            return {"name": self.name, "version": "2.0", "base": self.base}
        return copy.deepcopy(self.definition)


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed definition: standalone workflows, a workbook, or ad-hoc actions.

    For a workbook, `name` is the workbook name and workflow and action
    names are prefixed with it (`wb.wf`), as Mistral names them. An action
    document (`parse_actions`) has `actions` and no workflows.
    """

    version: str
    workflows: tuple[WorkflowSpec, ...]
    name: str | None = None
    description: str = ""
    tags: tuple[str, ...] = ()
    actions: tuple[ActionSpec, ...] = ()
