"""The on-success / on-error / on-complete clauses of direct workflows.

Accepted forms, as in Mistral:

    on-success: next_task                      # one name
    on-success: [task_a, task_b]               # names
    on-success:                                # names and guarded names
      - task_a
      - task_b: <% $.go %>
      - fail msg='stop': <% $.broken %>
    on-success: {task_b: <% $.go %>}           # one guarded name
    on-error: fail(msg="boom")                 # engine commands, both spellings
    on-complete:                               # advanced form (publish + next)
      publish: {branch: {x: 1}, global: {y: 2}}
      next: [task_c]

Engine commands are `fail`, `succeed`, `pause` and `noop`; `msg` is their
only parameter. Whether named tasks exist is checked per workflow
(`levante.language.integrity`), which needs every task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from levante.language.report import Reporter
from levante.language.shorthand import ShorthandError, parse_command
from levante.language.source import child_path, item_path
from levante.language.spec import Transition, TransitionKind

_COMMANDS = {kind.value: kind for kind in TransitionKind if kind is not TransitionKind.TASK}
_PUBLISH_SCOPES = frozenset({"branch", "global", "atomic"})


@dataclass(frozen=True, slots=True)
class Reference:
    """A transition together with where it was written, for later checks."""

    transition: Transition
    path: str


@dataclass(frozen=True, slots=True)
class Clause:
    """A parsed on-* clause: its transitions and its advanced-form publish."""

    references: tuple[Reference, ...] = ()
    publish: dict[str, Any] = field(default_factory=dict)

    @property
    def transitions(self) -> tuple[Transition, ...]:
        return tuple(reference.transition for reference in self.references)


def parse_clause(reporter: Reporter, value: Any, path: str, what: str) -> Clause:
    """Parse one on-* clause at `path`; `what` names it in messages.

    Problems are reported; unusable entries are left out of the result.
    """
    if value is None:
        return Clause()
    if isinstance(value, dict) and value and set(value) <= {"publish", "next"}:
        publish = _publish(reporter, value.get("publish"), child_path(path, "publish"), what)
        references = _next(reporter, value.get("next"), child_path(path, "next"), what)
        return Clause(references, publish)
    return Clause(_next(reporter, value, path, what))


def _next(reporter: Reporter, value: Any, path: str, what: str) -> tuple[Reference, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, dict)):
        found = _entry(reporter, value, path, what)
        return (found,) if found else ()
    if isinstance(value, list) and value:
        entries = (_entry(reporter, item, item_path(path, i), what) for i, item in enumerate(value))
        return tuple(entry for entry in entries if entry is not None)
    reporter.at_value(
        f"{what} must be a task name, a list of task names or a mapping with 'next'", path
    )
    return ()


def _entry(reporter: Reporter, value: Any, path: str, what: str) -> Reference | None:
    condition = None
    if isinstance(value, dict):
        if len(value) != 1:
            reporter.at_value(
                f"Each entry of {what} must be a name or a single 'name: condition' pair",
                path,
            )
            return None
        ((value, condition),) = value.items()
        condition_path = child_path(path, value)
        if reporter.expression(condition, condition_path, f"Condition of '{value}'") is None:
            return None
    if not isinstance(value, str) or not value.strip():
        reporter.at_value(f"Entries of {what} must be task names or engine commands", path)
        return None
    transition = _transition(reporter, value, condition, path, what)
    return Reference(transition, path) if transition is not None else None


def _transition(
    reporter: Reporter, text: str, condition: str | None, path: str, what: str
) -> Transition | None:
    try:
        name, params = parse_command(text)
    except ShorthandError as error:
        reporter.at_value(f"Invalid entry '{text}' in {what}: {error}", path)
        return None
    kind = _COMMANDS.get(name)
    if kind is None:
        if params:
            reporter.at_value(f"Transition to task '{name}' in {what} cannot have parameters", path)
            return None
        return Transition(TransitionKind.TASK, target=name, condition=condition)
    unknown = sorted(set(params) - {"msg"})
    if unknown:
        reporter.at_value(
            f"Engine command '{name}' in {what} accepts only 'msg', not {unknown}", path
        )
        return None
    message = params.get("msg")
    if message is not None and not isinstance(message, str):
        message = str(message)
    return Transition(kind, condition=condition, message=message)


def _publish(reporter: Reporter, value: Any, path: str, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    publish = reporter.mapping(value, path, f"'publish' of {what}")
    if publish is None:
        return {}
    usable = {}
    for scope, variables in publish.items():
        scope_path = child_path(path, scope)
        if scope not in _PUBLISH_SCOPES:
            reporter.at_key(
                f"Unknown publish scope '{scope}' in {what} (use branch, global or atomic)",
                scope_path,
            )
        elif reporter.mapping(variables, scope_path, f"'publish.{scope}' of {what}") is not None:
            usable[scope] = variables
    return usable
