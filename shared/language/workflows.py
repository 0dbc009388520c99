"""Workflows: raw mappings -> `WorkflowSpec`."""

from __future__ import annotations

import re
from typing import Any

from levante.expressions import is_expression
from levante.language.inputs import parse_input
from levante.language.integrity import check_direct, check_reverse
from levante.language.report import Reporter
from levante.language.scope import Scope
from levante.language.source import child_path
from levante.language.spec import RESERVED_TASK_NAMES, WorkflowSpec, WorkflowType
from levante.language.tasks import ParsedTask, apply_defaults, parse_task, parse_task_defaults

_KEYS = frozenset(
    {
        "version", "name", "type", "description", "tags", "input", "output",
        "output-on-error", "vars", "task-defaults", "tasks", "hidden",
    }
)  # fmt: skip
# Mistral refuses UUID-like names: API calls accept a name or an id.
_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)


def parse_workflow(
    reporter: Reporter, name: str, raw: Any, path: str, scope: Scope | None = None
) -> WorkflowSpec | None:
    """Check and convert one workflow named `name` (workbook prefix included).

    Problems are reported on `reporter`; returns None when the workflow is
    not even a mapping. `scope` qualifies the workbook-local names tasks use.
    """
    scope = scope or Scope()
    owner = f"workflow '{name}'"
    workflow = reporter.mapping(raw, path, f"Workflow '{name}'")
    if workflow is None:
        return None
    if _UUID.fullmatch(name):
        reporter.at_key(f"Workflow name '{name}' must not look like a UUID", path)
    reporter.unknown_keys(workflow, _KEYS, path, owner)
    for key in ("input", "output", "output-on-error", "vars"):
        reporter.expressions(workflow.get(key), child_path(path, key))
    if "version" in workflow and str(workflow["version"]) != "2.0":
        reporter.at_value(f"Unsupported version in {owner}: use '2.0'", child_path(path, "version"))
    if "name" in workflow:
        # Mistral allows it (and overwrites it with the key); so do we.
        reporter.string(workflow["name"], child_path(path, "name"), f"'name' of {owner}")
    kind = _type(reporter, workflow, path, owner)
    fields = _interface_fields(reporter, workflow, path, owner)
    defaults_raw = workflow.get("task-defaults")
    defaults = parse_task_defaults(
        reporter, defaults_raw or {}, child_path(path, "task-defaults"), name, kind
    )
    parsed = _tasks(reporter, workflow, path, name, kind, scope)
    tasks = {task.spec.name: apply_defaults(task, defaults) for task in parsed}
    spec = WorkflowSpec(
        name=name,
        type=kind,
        tasks=tasks,
        position=reporter.source.key_at(path),
        task_defaults=defaults_raw if isinstance(defaults_raw, dict) else {},
        definition={**workflow, "name": name, "version": "2.0"},
        **fields,
    )
    if kind is WorkflowType.DIRECT:
        check_direct(reporter, spec, parsed, defaults, path)
    else:
        check_reverse(reporter, spec, parsed, defaults)
    return spec


def _type(reporter: Reporter, workflow: dict[str, Any], path: str, owner: str) -> WorkflowType:
    value = workflow.get("type", WorkflowType.DIRECT.value)
    try:
        return WorkflowType(value)
    except (ValueError, TypeError):
        reporter.at_value(
            f"'type' of {owner} must be 'direct' or 'reverse', not {value!r}",
            child_path(path, "type"),
        )
        return WorkflowType.DIRECT


def _interface_fields(
    reporter: Reporter, workflow: dict[str, Any], path: str, owner: str
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if "description" in workflow:
        what = f"'description' of {owner}"
        fields["description"] = (
            reporter.text(workflow["description"], child_path(path, "description"), what) or ""
        )
    if "tags" in workflow:
        tags = reporter.string_list(
            workflow["tags"], child_path(path, "tags"), f"'tags' of {owner}"
        )
        fields["tags"] = tags or ()
    if "input" in workflow:
        fields["input"] = parse_input(reporter, workflow["input"], child_path(path, "input"), owner)
    for key, field_name in (("output", "output"), ("output-on-error", "output_on_error")):
        value = workflow.get(key)
        if value is None or isinstance(value, dict) or is_expression(value):
            fields[field_name] = value
        else:
            reporter.at_value(
                f"'{key}' of {owner} must be a mapping or an expression", child_path(path, key)
            )
    if "hidden" in workflow:
        fields["hidden"] = _hidden(reporter, workflow["hidden"], child_path(path, "hidden"), owner)
    if workflow.get("vars") is not None:
        variables = reporter.mapping(
            workflow["vars"], child_path(path, "vars"), f"'vars' of {owner}"
        )
        fields["vars"] = variables or {}
    return fields


def _hidden(reporter: Reporter, value: Any, path: str, owner: str) -> tuple[str, ...]:
    """`hidden:` a name or glob pattern (`secret_*`), or a list of them."""
    found = reporter.string_or_list(value, path, f"'hidden' of {owner}")
    if found is None:
        return ()
    blank = [item for item in found if not item.strip()]
    if blank:
        reporter.at_value(f"'hidden' of {owner} must not hold empty names", path)
    return tuple(item.strip() for item in found if item.strip())


def _tasks(
    reporter: Reporter,
    workflow: dict[str, Any],
    path: str,
    name: str,
    kind: WorkflowType,
    scope: Scope,
) -> list[ParsedTask]:
    tasks_path = child_path(path, "tasks")
    if "tasks" not in workflow:
        reporter.at_key(f"Workflow '{name}' has no 'tasks'", path)
        return []
    raw = workflow["tasks"]
    if not isinstance(raw, dict) or not raw:
        reporter.at_value(f"'tasks' of workflow '{name}' must be a non-empty mapping", tasks_path)
        return []
    parsed = []
    for task_name, task_raw in raw.items():
        task_path = child_path(tasks_path, task_name)
        if not isinstance(task_name, str):
            reporter.at_key(
                f"Task name {task_name!r} in workflow '{name}' must be a string", task_path
            )
            continue
        if task_name in RESERVED_TASK_NAMES:
            reporter.at_key(
                f"Task name '{task_name}' in workflow '{name}' is reserved: "
                f"{', '.join(sorted(RESERVED_TASK_NAMES))} are engine commands",
                task_path,
            )
        task = parse_task(reporter, task_name, task_raw, task_path, name, kind, scope)
        if task is not None:
            parsed.append(task)
    return parsed
