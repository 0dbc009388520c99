"""The engine's state values, events and commands.

These are plain frozen values: the runtime loads them from the database,
`levante.engine.machine.step` maps (state, event) to (state, commands), and
the runtime writes the difference back. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import compress
from operator import is_not
from typing import Any

from levante.language.spec import ActionSpec, WorkflowSpec
from levante.states import COMPLETED, State


@dataclass(frozen=True, slots=True)
class ActionRun:
    """One action execution of a task."""

    id: str
    name: str
    state: State
    input: dict[str, Any]
    created_at: datetime
    output: dict[str, Any] | None = None
    state_info: str | None = None
    updated_at: datetime | None = None
    index: int = 0
    #: "action", or "workflow" for a sub-workflow run (its id is the child execution's).
    kind: str = "action"
    #: The executor target and safe-rerun flag it was dispatched with (evaluated).
    target: str | None = None
    safe_rerun: bool = False
    #: Replaced by a rerun of its task; kept for the record, ignored by the machine.
    superseded: bool = False
    #: False for a sub-workflow that could not start (its input did not fit):
    #: there is no execution to show for it.
    started: bool = True


def changed_tasks(
    before: ExecutionState, after: ExecutionState
) -> list[tuple[TaskRun | None, TaskRun]]:
    """(previous run or None when new, current run) for each task a step changed.

    Unchanged runs are the same objects in both states, so one pass by
    identity finds the changes; saving, events and metrics share it.
    """
    if before.tasks is after.tasks:
        return []
    previous = {t.id: t for t in before.tasks}
    changed = []
    for task in after.tasks:
        old = previous.get(task.id)
        if old is not task:
            changed.append((old, task))
    return changed


def changed_actions(
    old: tuple[ActionRun, ...], new: tuple[ActionRun, ...]
) -> list[tuple[ActionRun | None, ActionRun]]:
    """(previous run or None when new, current run) for each action a step changed.

    The machine replaces actions in place or appends them, keeping the
    objects it did not touch, so an identity comparison (done in C, not in a
    Python loop: a task can have 10,000 actions) finds the positions that
    changed; an action at a position that held another id is new.
    """
    common = min(len(old), len(new))
    positions = compress(range(common), map(is_not, old[:common], new[:common]))
    changed: list[tuple[ActionRun | None, ActionRun]] = []
    for position in positions:
        previous, action = old[position], new[position]
        changed.append((previous if previous.id == action.id else None, action))
    changed.extend((None, action) for action in new[common:])
    return changed


@dataclass(frozen=True, slots=True)
class ActionsIndex:
    """What a with-items task needs to know about its actions, kept up to date per event.

    A task over 10,000 items has 10,000 actions; finding the one that
    finished, counting those still running and finding the next item to
    start would each walk them all on every event. The machine derives a new
    index from the previous one instead (`replaced`, `appended`).

    `positions` maps live action ids to positions in `actions`. It is shared
    with the indexes derived from this one and only ever grows, so a lookup
    checks that the position holds that action in *this* tuple. Item indices
    below `cursor` are all dispatched; `beyond` holds dispatched ones above it
    (only a rerun of some items leaves such gaps).
    """

    actions: tuple[ActionRun, ...]
    positions: dict[str, int]
    running: int
    cursor: int
    beyond: frozenset[int] = frozenset()

    @classmethod
    def of(cls, actions: tuple[ActionRun, ...]) -> ActionsIndex:
        """Builds the index of an actions tuple (one pass)."""
        positions = {a.id: i for i, a in enumerate(actions) if not a.superseded}
        live = [actions[i] for i in positions.values()]
        dispatched = {a.index for a in live}
        cursor = 0
        while cursor in dispatched:
            cursor += 1
        return cls(
            actions=actions,
            positions=positions,
            running=sum(1 for a in live if a.state not in COMPLETED),
            cursor=cursor,
            beyond=frozenset(i for i in dispatched if i > cursor),
        )

    def position(self, action_id: str) -> int | None:
        """Where the live action `action_id` is in `actions`, if it is there."""
        position = self.positions.get(action_id)
        if position is None or position >= len(self.actions):
            return None
        return position if self.actions[position].id == action_id else None

    def replaced(
        self, actions: tuple[ActionRun, ...], old: ActionRun, new: ActionRun
    ) -> ActionsIndex:
        """The index after `old` was replaced in place by `new` (same id and item)."""
        running = self.running - (old.state not in COMPLETED) + (new.state not in COMPLETED)
        return ActionsIndex(actions, self.positions, running, self.cursor, self.beyond)

    def appended(self, actions: tuple[ActionRun, ...], action: ActionRun) -> ActionsIndex:
        """The index after `action` was added at the end of the tuple."""
        self.positions[action.id] = len(actions) - 1
        cursor, beyond = self.cursor, self.beyond
        if action.index == cursor:
            cursor += 1
            while cursor in beyond:
                cursor += 1
            if beyond:
                beyond = frozenset(i for i in beyond if i > cursor)
        elif action.index > cursor:
            beyond = beyond | {action.index}
        running = self.running + (action.state not in COMPLETED)
        return ActionsIndex(actions, self.positions, running, cursor, beyond)

    def undispatched(self, count: int) -> Iterator[int]:
        """Item indices below `count` with no live action, in order."""
        index = self.cursor
        while index < count:
            if index not in self.beyond:
                yield index
            index += 1


@dataclass(frozen=True, slots=True)
class TaskRun:
    """One task execution.

    `in_context` is the data the task sees as `$`; `processed` is set once
    the engine has evaluated the task's transitions; `error_handled` once an
    on-error transition took the error over. A with-items task has `items`
    (the zipped loop values, one mapping per action) and an optional
    `capacity` (its concurrency).
    """

    id: str
    name: str
    state: State
    in_context: dict[str, Any]
    created_at: datetime
    type: str = "ACTION"
    state_info: str | None = None
    published: dict[str, Any] = field(default_factory=dict)
    result: Any = None
    actions: tuple[ActionRun, ...] = ()
    triggered_by: tuple[dict[str, str], ...] = ()
    processed: bool = False
    error_handled: bool = False
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None
    items: tuple[dict[str, Any], ...] | None = None
    capacity: int | None = None
    #: Policy bookkeeping shown in runtime_context (`retry_task_policy`, ...).
    policy: dict[str, Any] = field(default_factory=dict)
    #: Derived facts about `actions` (see `ActionsIndex`); not part of the value.
    memo: ActionsIndex | None = field(default=None, compare=False, repr=False)

    @property
    def live_actions(self) -> tuple[ActionRun, ...]:
        """The task's runs that count: all but those a rerun superseded."""
        return tuple(a for a in self.actions if not a.superseded)

    def index(self) -> ActionsIndex:
        """The index of this task's actions (built once per actions tuple)."""
        memo = self.memo
        if memo is not None and memo.actions is self.actions:
            return memo
        return ActionsIndex.of(self.actions)

    def out_context(self) -> dict[str, Any]:
        """What the task hands to the tasks it triggers: its input plus what it published."""
        return {**self.in_context, **self.published}


@dataclass(frozen=True, slots=True)
class ExecutionState:
    """A workflow execution and its task executions."""

    id: str
    root_id: str
    workflow_id: str
    workflow_name: str
    workflow_namespace: str
    spec: WorkflowSpec
    state: State
    input: dict[str, Any]
    params: dict[str, Any]
    created_at: datetime
    state_info: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    output: dict[str, Any] = field(default_factory=dict)
    tasks: tuple[TaskRun, ...] = ()
    updated_at: datetime | None = None
    project_id: str = ""
    #: Global context (pike spec advanced_publishing): the workflow's vars and
    #: what tasks published to `global` / `atomic`; read with global() and,
    #: unless a branch value shadows it, as `$.name`.
    globals: dict[str, Any] = field(default_factory=dict)
    #: Ad-hoc actions this execution may use, by name (frozen at start).
    adhoc: dict[str, ActionSpec] = field(default_factory=dict, compare=False)
    #: Given to every action's context (rocky spec custom-context-for-executions).
    custom_context: dict[str, Any] = field(default_factory=dict)
    #: The task execution that started this execution, for sub-workflows.
    parent_task_id: str | None = None
    #: The execution of that task.
    parent_execution_id: str | None = None

    def task(self, task_id: str) -> TaskRun | None:
        """The task execution with this id, if any."""
        return next((t for t in self.tasks if t.id == task_id), None)


# Events: inputs to the machine.


@dataclass(frozen=True, slots=True)
class StartExecution:
    """Start a freshly created execution."""


@dataclass(frozen=True, slots=True)
class ActionCompleted:
    """An action finished: `result` on success, `error` (and maybe `error_data`) on failure."""

    action_id: str
    task_id: str
    failed: bool = False
    result: Any = None
    error: str | None = None
    #: False when a sub-workflow failed before it started.
    started: bool = True


@dataclass(frozen=True, slots=True)
class TimerFired:
    """A timer the machine scheduled is due: `kind` says which policy, `token` which attempt."""

    kind: str
    task_id: str
    token: int = 0


@dataclass(frozen=True, slots=True)
class RerunTask:
    """Run a failed task again: all its actions (`reset`), or only the failed items."""

    task_id: str
    reset: bool = True
    env: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class PauseExecution:
    """Pause: running actions finish, but nothing new starts until resumed."""


@dataclass(frozen=True, slots=True)
class ResumeExecution:
    """Resume a paused execution, optionally with an updated env."""

    env: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class StopExecution:
    """Finish the execution now: CANCELLED, or forced to SUCCESS / ERROR with a reason."""

    state: str
    state_info: str | None = None


Event = (
    StartExecution
    | ActionCompleted
    | TimerFired
    | RerunTask
    | PauseExecution
    | ResumeExecution
    | StopExecution
)


# Commands: what the runtime must do after committing the new state.


@dataclass(frozen=True, slots=True)
class RunAction:
    """Ask an executor to run an action."""

    action_id: str
    task_id: str
    execution_id: str
    root_execution_id: str
    action_name: str
    input: dict[str, Any]
    target: str | None = None
    safe_rerun: bool = False
    workflow_name: str = ""
    workflow_namespace: str = ""
    task_name: str = ""
    project_id: str = ""
    custom_context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StartChild:
    """Start a sub-workflow execution for a task (in the same tree and transaction)."""

    child_id: str
    task_id: str
    parent_execution_id: str
    root_execution_id: str
    workflow_name: str
    workflow_namespace: str
    input: dict[str, Any]
    index: int = 0
    env: dict[str, Any] = field(default_factory=dict)
    custom_context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class NotifyParent:
    """A sub-workflow finished: tell the parent task (in the same tree and transaction)."""

    parent_execution_id: str
    parent_task_id: str
    child_id: str
    failed: bool
    output: dict[str, Any]
    state_info: str | None = None


@dataclass(frozen=True, slots=True)
class Signal:
    """Apply `event` to another execution of the same tree (same transaction)."""

    execution_id: str
    event: Event


@dataclass(frozen=True, slots=True)
class ScheduleTimer:
    """Deliver TimerFired(kind, task_id, token) to this execution at `due_at` (durable)."""

    execution_id: str
    root_execution_id: str
    due_at: datetime
    kind: str
    task_id: str
    token: int = 0


Command = RunAction | StartChild | NotifyParent | Signal | ScheduleTimer


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one step: the new state and the commands it produced."""

    state: ExecutionState
    commands: tuple[Command, ...] = ()
