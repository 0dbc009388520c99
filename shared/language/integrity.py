"""Checks that need a whole workflow: referenced tasks exist, a direct
workflow has somewhere to start, join counts can be met."""

from __future__ import annotations

from collections.abc import Iterable

from levante.language.report import Reporter
from levante.language.source import child_path, item_path
from levante.language.spec import TransitionKind, WorkflowSpec
from levante.language.tasks import ParsedTask, TaskDefaults
from levante.language.transitions import Reference


def check_direct(
    reporter: Reporter,
    spec: WorkflowSpec,
    parsed: Iterable[ParsedTask],
    defaults: TaskDefaults,
    path: str,
) -> None:
    """Report unknown transition targets, a missing start and unmeetable joins."""
    for task in parsed:
        for key, references in task.references.items():
            _check_targets(reporter, spec, references, f"{key} of task '{task.spec.name}'")
    for key, clause in defaults.clauses.items():
        _check_targets(reporter, spec, clause.references, f"{key} of task-defaults")
    if spec.tasks and not spec.start_tasks():
        reporter.at_value(
            f"Direct workflow '{spec.name}' has no start task: "
            "every task is the target of a transition",
            child_path(path, "tasks"),
        )
    _check_joins(reporter, spec, parsed)


def _check_targets(
    reporter: Reporter, spec: WorkflowSpec, references: Iterable[Reference], where: str
) -> None:
    for reference in references:
        target = reference.transition.target
        if reference.transition.kind is TransitionKind.TASK and target not in spec.tasks:
            reporter.at_value(
                f"Task '{target}' referenced in {where} does not exist", reference.path
            )


def _check_joins(reporter: Reporter, spec: WorkflowSpec, parsed: Iterable[ParsedTask]) -> None:
    inbound: dict[str, set[str]] = {name: set() for name in spec.tasks}
    for task in spec.tasks.values():
        for transition in (*task.on_success, *task.on_error, *task.on_complete):
            if transition.kind is TransitionKind.TASK and transition.target in inbound:
                inbound[transition.target].add(task.name)
    for task in parsed:
        join = spec.tasks[task.spec.name].join
        if join is None:
            continue
        needed = 1 if join in ("all", "one") else join
        count = len(inbound[task.spec.name])
        if count < needed:
            reporter.at_value(
                f"Task '{task.spec.name}' has 'join: {join}' but only {count} inbound task(s)",
                child_path(task.path, "join"),
            )


def check_reverse(
    reporter: Reporter, spec: WorkflowSpec, parsed: Iterable[ParsedTask], defaults: TaskDefaults
) -> None:
    """Report `requires` entries that name no task of the workflow."""
    for task in parsed:
        requires_path = child_path(task.path, "requires")
        for index, required in enumerate(task.spec.requires):
            if required not in spec.tasks:
                reporter.at_value(
                    f"Task '{required}' referenced in requires of task '{task.spec.name}' "
                    "does not exist",
                    item_path(requires_path, index),
                )
    for index, required in enumerate(defaults.requires):
        if required not in spec.tasks:
            reporter.at_value(
                f"Task '{required}' referenced in requires of task-defaults does not exist",
                item_path(defaults.requires_path, index),
            )
