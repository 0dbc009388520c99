"""Tasks and task-defaults of a workflow: raw mappings -> `TaskSpec`."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from levante.expressions import is_expression
from levante.language.policies import POLICY_FIELDS, parse_policies
from levante.language.report import Reporter
from levante.language.scope import Scope
from levante.language.shorthand import ShorthandError, flow_value, parse_command
from levante.language.source import child_path, item_path
from levante.language.spec import TaskSpec, TransitionKind, WorkflowType
from levante.language.transitions import Clause, Reference, parse_clause

_COMMON_KEYS = frozenset(
    {
        "action", "workflow", "input", "description", "publish", "publish-on-error",
        "with-items", "concurrency", "retry", "wait-before", "wait-after", "timeout",
        "pause-before", "keep-result", "target", "safe-rerun", "fail-on", "tags",
    }
)  # fmt: skip
_DIRECT_KEYS = frozenset({"on-success", "on-error", "on-complete", "join"})
_REVERSE_KEYS = frozenset({"requires"})
_DEFAULTS_KEYS = frozenset(
    {
        "retry", "wait-before", "wait-after", "timeout", "pause-before", "concurrency",
        "on-complete", "on-success", "on-error", "safe-rerun", "requires", "fail-on",
    }
)  # fmt: skip
# Clause key -> TaskSpec field names of its transitions and its publish.
CLAUSES = {
    "on-success": ("on_success", "on_success_publish"),
    "on-error": ("on_error", "on_error_publish"),
    "on-complete": ("on_complete", "on_complete_publish"),
}
# Keys whose values are prose or names, never expressions.
_NOT_EXPRESSIONS = frozenset({"description", "tags", "action", "workflow"})
_POLICY_KEYS = {field_name: key for key, field_name in POLICY_FIELDS.items()}
_WITH_ITEMS = re.compile(r"\s*([-\w]+)\s+in\s+(\S.*?)\s*", re.DOTALL)


@dataclass(frozen=True, slots=True)
class ParsedTask:
    """A task as written, before task-defaults are applied.

    `references` keeps each clause's transitions with their paths (for the
    workflow's integrity checks); `explicit` lists the keys the task sets.
    """

    spec: TaskSpec
    path: str
    references: dict[str, tuple[Reference, ...]] = field(default_factory=dict)
    explicit: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class TaskDefaults:
    """A parsed `task-defaults` mapping."""

    policies: dict[str, Any] = field(default_factory=dict)
    clauses: dict[str, Clause] = field(default_factory=dict)
    requires: tuple[str, ...] = ()
    requires_path: str = ""


def parse_task(
    reporter: Reporter,
    name: str,
    raw: Any,
    path: str,
    workflow: str,
    kind: WorkflowType,
    scope: Scope | None = None,
) -> ParsedTask | None:
    """Check and convert one task; problems are reported on `reporter`.

    `scope` qualifies the workbook-local names of `action:` / `workflow:`.
    """
    owner = f"task '{name}' of workflow '{workflow}'"
    task = reporter.mapping(raw, path, f"Task '{name}' of workflow '{workflow}'")
    if task is None:
        return None
    _check_keys(reporter, task, path, owner, kind)
    for key, value in task.items():
        if key not in _NOT_EXPRESSIONS:
            reporter.expressions(value, child_path(path, key))
    fields: dict[str, Any] = _command_fields(reporter, task, path, owner, scope or Scope())
    fields.update(parse_policies(reporter, task, path, owner))
    fields.update(_plain_fields(reporter, task, path, owner))
    references: dict[str, tuple[Reference, ...]] = {}
    for key, (transitions_field, publish_field) in CLAUSES.items():
        if key in task and kind is WorkflowType.DIRECT:
            clause = parse_clause(reporter, task[key], child_path(path, key), f"{key} of {owner}")
            references[key] = clause.references
            fields[transitions_field] = clause.transitions
            fields[publish_field] = clause.publish
    definition = {**task, "name": name, "version": "2.0", "type": kind.value}
    spec = TaskSpec(
        name=name, position=reporter.source.key_at(path), definition=definition, **fields
    )
    return ParsedTask(spec, path, references, frozenset(task))


def _check_keys(
    reporter: Reporter, task: dict[str, Any], path: str, owner: str, kind: WorkflowType
) -> None:
    own, other = (
        (_DIRECT_KEYS, _REVERSE_KEYS)
        if kind is WorkflowType.DIRECT
        else (_REVERSE_KEYS, _DIRECT_KEYS)
    )
    for key in task:
        if key in other:
            reporter.at_key(
                f"Key '{key}' in {owner} is not allowed in a {kind.value} workflow",
                child_path(path, key),
            )
        elif key not in _COMMON_KEYS and key not in own:
            reporter.at_key(f"Unknown key '{key}' in {owner}", child_path(path, key))


def _command_fields(
    reporter: Reporter, task: dict[str, Any], path: str, owner: str, scope: Scope
) -> dict[str, Any]:
    """`action` / `workflow` with their inline parameters, merged under `input`."""
    if "action" in task and "workflow" in task:
        reporter.at_key(
            f"{owner[0].upper()}{owner[1:]} cannot have both 'action' and 'workflow'", path
        )
    fields: dict[str, Any] = {}
    inline: dict[str, Any] = {}
    for key in ("action", "workflow"):
        if key not in task:
            continue
        key_path = child_path(path, key)
        text = reporter.string(task[key], key_path, f"'{key}' of {owner}")
        if text is None:
            continue
        try:
            command, inline = parse_command(text)
        except ShorthandError as error:
            reporter.at_value(f"Invalid '{key}' of {owner}: {error}", key_path)
            continue
        fields[key] = scope.action(command) if key == "action" else scope.workflow(command)
        # A name may itself be an expression (`action: <% $.which %>`).
        reporter.expressions(command, key_path)
        reporter.expressions(inline, key_path)
    explicit = {}
    if "input" in task:
        explicit = reporter.mapping(task["input"], child_path(path, "input"), f"'input' of {owner}")
    fields["input"] = {**inline, **(explicit or {})}
    return fields


def _plain_fields(
    reporter: Reporter, task: dict[str, Any], path: str, owner: str
) -> dict[str, Any]:
    checks = {
        "description": ("description", reporter.text),
        "publish": ("publish", reporter.mapping),
        "publish-on-error": ("publish_on_error", reporter.mapping),
        "keep-result": ("keep_result", reporter.boolean_or_expression),
        "target": ("target", reporter.string),
        "tags": ("tags", reporter.string_list),
        "requires": ("requires", reporter.string_or_list),
        "join": ("join", lambda v, p, w: _join(reporter, v, p, w)),
        "with-items": ("with_items", lambda v, p, w: _with_items(reporter, v, p, w)),
    }  # fmt: skip
    fields = {}
    for key, (field_name, check) in checks.items():
        if key in task:
            value = check(task[key], child_path(path, key), f"'{key}' of {owner}")
            if value is not None:
                fields[field_name] = value
    return fields


def _join(reporter: Reporter, value: Any, path: str, what: str) -> str | int | None:
    if value in ("all", "one") or (
        isinstance(value, int) and not isinstance(value, bool) and value > 0
    ):
        return value
    reporter.at_value(f"{what} must be 'all', 'one' or a positive integer", path)
    return None


def _with_items(reporter: Reporter, value: Any, path: str, what: str) -> dict[str, Any] | None:
    """`var in <list or expression>` entries -> {var: list or expression text}."""
    entries = reporter.string_or_list(value, path, what)
    if entries is None:
        return None
    loops: dict[str, Any] = {}
    for index, entry in enumerate(entries):
        entry_path = path if isinstance(value, str) else item_path(path, index)
        match = _WITH_ITEMS.fullmatch(entry)
        if match is None or (source := _items_source(match.group(2))) is None:
            reporter.at_value(
                f"Invalid {what} entry '{entry}': use 'var in [a, b]' or 'var in <% $.list %>'",
                entry_path,
            )
            return None
        if match.group(1) in loops:
            reporter.at_value(
                f"Variable '{match.group(1)}' of {what} is declared twice", entry_path
            )
            return None
        loops[match.group(1)] = source
    return loops


def _items_source(text: str) -> Any:
    if is_expression(text):
        return text
    if text.startswith("["):
        found, items = flow_value(text)
        if found and isinstance(items, list):
            return items
    return None


def parse_task_defaults(
    reporter: Reporter, raw: Any, path: str, workflow: str, kind: WorkflowType
) -> TaskDefaults:
    """Check and convert a workflow's `task-defaults` mapping.

    As in Mistral, one schema serves both workflow types; transitions only
    mean something in direct workflows and `requires` in reverse ones, so
    the other kind is accepted and ignored.
    """
    owner = f"task-defaults of workflow '{workflow}'"
    defaults = reporter.mapping(raw, path, owner[0].upper() + owner[1:])
    if defaults is None:
        return TaskDefaults()
    reporter.unknown_keys(defaults, _DEFAULTS_KEYS, path, owner)
    reporter.expressions(defaults, path)
    clauses = {
        key: parse_clause(reporter, defaults[key], child_path(path, key), f"{key} of {owner}")
        for key in CLAUSES
        if key in defaults and kind is WorkflowType.DIRECT
    }
    requires: tuple[str, ...] = ()
    if "requires" in defaults and kind is WorkflowType.REVERSE:
        requires_path = child_path(path, "requires")
        requires = (
            reporter.string_or_list(defaults["requires"], requires_path, f"'requires' of {owner}")
            or ()
        )
    return TaskDefaults(
        policies=parse_policies(reporter, defaults, path, owner),
        clauses=clauses,
        requires=requires,
        requires_path=child_path(path, "requires"),
    )


def apply_defaults(task: ParsedTask, defaults: TaskDefaults) -> TaskSpec:
    """The task's effective spec: what it doesn't set comes from the defaults.

    As in Mistral, default transitions apply to a task whose own clause is
    empty, minus transitions to the task itself; `requires` is the union.
    """
    spec = task.spec
    changes: dict[str, Any] = {
        field_name: value
        for field_name, value in defaults.policies.items()
        if _POLICY_KEYS[field_name] not in task.explicit
    }
    for key, clause in defaults.clauses.items():
        transitions_field = CLAUSES[key][0]
        if not getattr(spec, transitions_field):
            changes[transitions_field] = tuple(
                t for t in clause.transitions
                if not (t.kind is TransitionKind.TASK and t.target == spec.name)
            )  # fmt: skip
    if defaults.requires:
        merged = dict.fromkeys((*spec.requires, *defaults.requires))
        merged.pop(spec.name, None)
        changes["requires"] = tuple(merged)
    return dataclasses.replace(spec, **changes) if changes else spec
