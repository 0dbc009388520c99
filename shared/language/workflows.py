"""Workflows: raw mappings -> `WorkflowSpec`."""

from __future__ import annotations

import re
from typing import Any

from levante.expressions import is_expression
from levante.language.integrity import check_direct, check_reverse
from levante.language.report import Reporter
from levante.language.source import child_path, item_path
from levante.language.spec import InputParam, WorkflowSpec, WorkflowType
from levante.language.tasks import ParsedTask, apply_defaults, parse_task, parse_task_defaults

_KEYS = frozenset(
    {
        "version", "type", "description", "tags", "input", "output", "output-on-error",
        "vars", "task-defaults", "tasks",
    }
)  # fmt: skip
# Mistral refuses UUID-like names: API calls accept a name or an id.
_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)


def parse_workflow(reporter: Reporter, name: str, raw: Any, path: str) -> WorkflowSpec | None:
    """Check and convert one workflow named `name` (workbook prefix included).

    Problems are reported on `reporter`; returns None when the workflow is
    not even a mapping.
    """
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
    kind = _type(reporter, workflow, path, owner)
    fields = _interface_fields(reporter, workflow, path, owner)
    defaults_raw = workflow.get("task-defaults")
    defaults = parse_task_defaults(
        reporter, defaults_raw or {}, child_path(path, "task-defaults"), name, kind
    )
    parsed = _tasks(reporter, workflow, path, name, kind)
    tasks = {task.spec.name: apply_defaults(task, defaults) for task in parsed}
    spec = WorkflowSpec(
        name=name,
        type=kind,
        tasks=tasks,
        position=reporter.source.key_at(path),
        task_defaults=defaults_raw if isinstance(defaults_raw, dict) else {},
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
    except ValueError:
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
        fields["input"] = _input(reporter, workflow["input"], child_path(path, "input"), owner)
    for key, field_name in (("output", "output"), ("output-on-error", "output_on_error")):
        value = workflow.get(key)
        if value is None or isinstance(value, dict) or is_expression(value):
            fields[field_name] = value
        else:
            reporter.at_value(
                f"'{key}' of {owner} must be a mapping or an expression", child_path(path, key)
            )
    if workflow.get("vars") is not None:
        variables = reporter.mapping(
            workflow["vars"], child_path(path, "vars"), f"'vars' of {owner}"
        )
        fields["vars"] = variables or {}
    return fields


def _input(reporter: Reporter, value: Any, path: str, owner: str) -> tuple[InputParam, ...]:
    """`input:` entries: names, or single-key `{name: default}` mappings."""
    if value is None:
        return ()
    if not isinstance(value, list):
        reporter.at_value(f"'input' of {owner} must be a list", path)
        return ()
    params: list[InputParam] = []
    seen: set[str] = set()
    for index, entry in enumerate(value):
        entry_path = item_path(path, index)
        if isinstance(entry, str) and entry.strip():
            param = InputParam(entry)
        elif isinstance(entry, dict) and len(entry) == 1 and isinstance(next(iter(entry)), str):
            ((name, default),) = entry.items()
            param = InputParam(name, has_default=True, default=default)
        else:
            reporter.at_value(
                f"Entries of 'input' of {owner} must be names or single 'name: default' pairs",
                entry_path,
            )
            continue
        if param.name in seen:
            reporter.at_value(f"Input '{param.name}' of {owner} is declared twice", entry_path)
            continue
        seen.add(param.name)
        params.append(param)
    return tuple(params)


def _tasks(
    reporter: Reporter, workflow: dict[str, Any], path: str, name: str, kind: WorkflowType
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
        task = parse_task(reporter, task_name, task_raw, task_path, name, kind)
        if task is not None:
            parsed.append(task)
    return parsed
