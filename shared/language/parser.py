"""Definition text -> `Document`, with every problem reported at once.

Three kinds of documents, as Mistral's API takes them:

- workflows (`/v2/workflows`): `version` and one or more workflows by name;
- a workbook (`/v2/workbooks`): `version`, `name`, `description`, `tags`,
  `workflows` and `actions`; its workflows and actions are named
  `<workbook>.<name>`, and inside it a task may call them by local name;
- ad-hoc actions (`/v2/actions`): `version` and one or more actions by name.

Each kind has a `parse_*` function raising `DefinitionError` and a
`validate_*` function returning the issues as data; `summarize()` turns
issues into the one-line message both give (what the REST layer answers in
`{"valid": false, "error": ...}` and in a 400).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from levante.errors import DefinitionError, Issue
from levante.language.actions import check_bases, parse_action
from levante.language.report import Reporter
from levante.language.scope import Scope
from levante.language.source import child_path, load
from levante.language.spec import ActionSpec, Document, WorkflowSpec
from levante.language.workflows import parse_workflow

VERSION = "2.0"
_WORKBOOK_KEYS = frozenset({"version", "name", "description", "tags", "workflows", "actions"})
_SYNTAX_PREFIX = "Definition could not be parsed: "


class Kind(StrEnum):
    """What a definition text is expected to hold."""

    WORKFLOWS = "workflows"
    WORKBOOK = "workbook"
    ACTIONS = "actions"


def parse(text: str, kind: Kind | str | None = None) -> Document:
    """Parse a workflow-language v2 definition.

    `kind` says what the text must be (`Kind` or its value); None accepts
    standalone workflows or a workbook (a top-level `name` that is not a
    workflow makes it a workbook).

    Raises:
        DefinitionError: the text is not YAML ("Definition could not be
            parsed: ..."), or it is not a valid definition ("Invalid DSL: "
            followed by every issue, joined with "; "). `issues` holds each
            problem with its path and position.
    """
    document, issues = _analyse(text, _kind(kind))
    if issues:
        raise DefinitionError(summarize(issues), issues=issues)
    assert document is not None  # No issues means the document was built.
    return document


def parse_workbook(text: str) -> Document:
    """Parse a workbook; see `parse`."""
    return parse(text, Kind.WORKBOOK)


def parse_actions(text: str) -> Document:
    """Parse an ad-hoc action document (`Document.actions`); see `parse`."""
    return parse(text, Kind.ACTIONS)


def validate(text: str, kind: Kind | str | None = None) -> tuple[Issue, ...]:
    """Every problem in a definition, each with its path and position, in
    text order; empty when the definition is valid. `kind` as for `parse`."""
    kind = _kind(kind)
    try:
        return _analyse(text, kind)[1]
    except DefinitionError as error:
        return error.issues


def validate_workbook(text: str) -> tuple[Issue, ...]:
    """`validate` for a workbook."""
    return validate(text, Kind.WORKBOOK)


def validate_actions(text: str) -> tuple[Issue, ...]:
    """`validate` for an ad-hoc action document."""
    return validate(text, Kind.ACTIONS)


def summarize(issues: tuple[Issue, ...] | list[Issue]) -> str:
    """The message `parse` raises for these issues: a YAML syntax error as
    it is, else "Invalid DSL: " and every issue (message [path] (line,
    column)) joined with "; ". Empty for no issues."""
    if not issues:
        return ""
    if len(issues) == 1 and issues[0].message.startswith(_SYNTAX_PREFIX):
        return issues[0].message
    return "Invalid DSL: " + "; ".join(str(issue) for issue in issues)


def _kind(kind: Kind | str | None) -> Kind | None:
    if kind is None or isinstance(kind, Kind):
        return kind
    try:
        return Kind(kind)
    except ValueError:
        raise ValueError(f"Unknown definition kind {kind!r}: use one of {list(Kind)}") from None


@contextlib.contextmanager
def _without_gc() -> Iterator[None]:
    """Parsing allocates tens of thousands of short-lived objects and no
    garbage cycles; a full collection triggered midway costs a third of the
    time of a large definition. Collections wait until the end."""
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _analyse(text: str, kind: Kind | None) -> tuple[Document | None, tuple[Issue, ...]]:
    with _without_gc():
        return _analyse_text(text, kind)


def _analyse_text(text: str, kind: Kind | None) -> tuple[Document | None, tuple[Issue, ...]]:
    source = load(text)
    reporter = Reporter(source)
    document = _document(reporter, source.data, kind)
    is_workbook = document is not None and document.name is not None
    for path, position in source.duplicates:
        message = _duplicate(path, kind, is_workbook)
        reporter.issues.append(Issue(message, path, position))
    # Report in text order: that is how a reader fixes them.
    issues = sorted(
        reporter.issues,
        key=lambda issue: (
            (issue.position.line, issue.position.column) if issue.position else (0, 0)
        ),
    )
    return (document if not issues else None), tuple(issues)


def _duplicate(path: str, kind: Kind | None, is_workbook: bool) -> str:
    """The message for a key repeated in one mapping (YAML would keep the
    last silently), naming what the key is when the path tells."""
    parent, _, key = path.rpartition(".")
    if not parent:
        if kind is Kind.ACTIONS:
            return f"Action '{key}' is defined twice"
        if kind is Kind.WORKBOOK or is_workbook or key == "version":
            return f"Key '{key}' is defined twice"
        return f"Workflow '{key}' is defined twice"
    if parent == "workflows" and kind is not Kind.ACTIONS:
        return f"Workflow '{key}' is defined twice"
    if parent == "actions" and kind is not Kind.ACTIONS:
        return f"Action '{key}' is defined twice"
    if parent.endswith(".tasks") or parent == "tasks":
        return f"Task '{key}' is defined twice"
    return f"Duplicate key '{key}'"


def _document(reporter: Reporter, data: Any, kind: Kind | None) -> Document | None:
    if not isinstance(data, dict):
        what = "workflows"
        if kind is Kind.ACTIONS:
            what = "actions"
        elif kind is Kind.WORKBOOK:
            what = "a workbook 'name'"
        reporter.at_value(f"Definition must be a mapping with 'version' and {what}", "")
        return None
    _version(reporter, data)
    looks_like_workbook = isinstance(data.get("name"), str)
    if kind is Kind.WORKBOOK or (kind is None and looks_like_workbook):
        return _workbook(reporter, data)
    if kind is Kind.ACTIONS:
        return _actions(reporter, data)
    if looks_like_workbook:
        reporter.at_key(
            "A workbook (top-level 'name') was given where workflow definitions were "
            "expected: a workflow definition has workflow names at its top level",
            "name",
        )
        return None
    workflows = [
        parse_workflow(reporter, str(name), raw, str(name))
        for name, raw in data.items()
        if name != "version"
    ]
    if not workflows:
        reporter.at_value("Definition has no workflows", "")
    return Document(version=VERSION, workflows=_present(workflows))


def _version(reporter: Reporter, data: dict[Any, Any]) -> None:
    if "version" not in data:
        reporter.at_value(f"Missing required key 'version' (use '{VERSION}')", "")
    elif str(data["version"]) != VERSION:
        reporter.at_value(f"Unsupported version {data['version']!r}: use '{VERSION}'", "version")


def _actions(reporter: Reporter, data: dict[Any, Any]) -> Document:
    actions = [
        parse_action(reporter, str(name), raw, str(name), Scope())
        for name, raw in data.items()
        if name != "version"
    ]
    present = tuple(action for action in actions if action is not None)
    if not actions:
        reporter.at_value("Definition has no actions", "")
    check_bases(reporter, present, {action.name: str(action.name) for action in present})
    return Document(version=VERSION, workflows=(), actions=present)


def _workbook(reporter: Reporter, data: dict[Any, Any]) -> Document:
    reporter.unknown_keys(data, _WORKBOOK_KEYS, "", "workbook")
    name = ""
    if "name" not in data:
        reporter.at_value("Missing required key 'name' (the workbook's name)", "")
    else:
        name = reporter.string(data["name"], "name", "Workbook 'name'") or ""
    description = ""
    if "description" in data:
        description = (
            reporter.text(data["description"], "description", "Workbook 'description'") or ""
        )
    tags: tuple[str, ...] = ()
    if "tags" in data:
        tags = reporter.string_list(data["tags"], "tags", "Workbook 'tags'") or ()
    raw_workflows = _section(reporter, data, "workflows")
    raw_actions = _section(reporter, data, "actions")
    scope = Scope(
        prefix=f"{name}.",
        workflows=frozenset(str(key) for key in raw_workflows),
        actions=frozenset(str(key) for key in raw_actions),
    )
    workflows: list[WorkflowSpec | None] = []
    for wf_name, raw in raw_workflows.items():
        path = child_path("workflows", wf_name)
        workflows.append(parse_workflow(reporter, f"{name}.{wf_name}", raw, path, scope))
    actions: list[ActionSpec] = []
    paths: dict[str, str] = {}
    for action_name, raw in raw_actions.items():
        path = child_path("actions", action_name)
        action = parse_action(reporter, f"{name}.{action_name}", raw, path, scope)
        if action is not None:
            actions.append(action)
            paths[action.name] = path
    check_bases(reporter, tuple(actions), paths)
    return Document(
        version=VERSION,
        workflows=_present(workflows),
        name=name,
        description=description,
        tags=tags,
        actions=tuple(actions),
    )


def _section(reporter: Reporter, data: dict[Any, Any], key: str) -> dict[Any, Any]:
    raw = data.get(key)
    if raw is None:
        return {}
    return reporter.mapping(raw, key, f"Workbook '{key}'") or {}


def _present(workflows: list[WorkflowSpec | None]) -> tuple[WorkflowSpec, ...]:
    return tuple(workflow for workflow in workflows if workflow is not None)
