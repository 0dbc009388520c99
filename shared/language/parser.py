"""Definition text -> `Document`, with every problem reported at once."""

from __future__ import annotations

from typing import Any

from levante.errors import DefinitionError, Issue
from levante.language.report import Reporter
from levante.language.source import child_path, load
from levante.language.spec import Document, WorkflowSpec
from levante.language.workflows import parse_workflow

VERSION = "2.0"
_WORKBOOK_KEYS = frozenset({"version", "name", "description", "tags", "workflows", "actions"})


def parse(text: str) -> Document:
    """Parse a workflow-language v2 definition (standalone workflows or a workbook).

    Raises:
        DefinitionError: the text is not YAML ("Definition could not be
            parsed: ..."), or it is not a valid definition ("Invalid DSL: "
            followed by every issue, joined with "; "). `issues` holds each
            problem with its path and position.
    """
    document, issues = _analyse(text)
    if issues:
        summary = "; ".join(str(issue) for issue in issues)
        raise DefinitionError(f"Invalid DSL: {summary}", issues=issues)
    assert document is not None  # No issues means the document was built.
    return document


def validate(text: str) -> tuple[Issue, ...]:
    """Every problem in a definition, each with its path and position;
    empty when the definition is valid."""
    try:
        return _analyse(text)[1]
    except DefinitionError as error:
        return error.issues


def _analyse(text: str) -> tuple[Document | None, tuple[Issue, ...]]:
    source = load(text)
    reporter = Reporter(source)
    for path, position in source.duplicates:
        reporter.issues.append(Issue(f"Duplicate key '{path.rsplit('.', 1)[-1]}'", path, position))
    document = _document(reporter, source.data)
    # Report in text order: that is how a reader fixes them.
    issues = sorted(
        reporter.issues,
        key=lambda issue: (
            (issue.position.line, issue.position.column) if issue.position else (0, 0)
        ),
    )
    return (document if not issues else None), tuple(issues)


def _document(reporter: Reporter, data: Any) -> Document | None:
    if not isinstance(data, dict):
        reporter.at_value("Definition must be a mapping with 'version' and workflows", "")
        return None
    if "version" not in data:
        reporter.at_value(f"Missing required key 'version' (use '{VERSION}')", "")
    elif str(data["version"]) != VERSION:
        reporter.at_value(f"Unsupported version {data['version']!r}: use '{VERSION}'", "version")
    if "name" in data and not isinstance(data["name"], dict):
        return _workbook(reporter, data)
    workflows = [
        parse_workflow(reporter, str(name), raw, str(name))
        for name, raw in data.items()
        if name != "version"
    ]
    if not workflows:
        reporter.at_value("Definition has no workflows", "")
    return Document(version=VERSION, workflows=_present(workflows))


def _workbook(reporter: Reporter, data: dict[str, Any]) -> Document:
    reporter.unknown_keys(data, _WORKBOOK_KEYS, "", "workbook")
    name = reporter.string(data["name"], "name", "Workbook 'name'") or ""
    description = reporter.text(
        data.get("description", ""), "description", "Workbook 'description'"
    )
    tags = ()
    if "tags" in data:
        tags = reporter.string_list(data["tags"], "tags", "Workbook 'tags'") or ()
    if data.get("actions") is not None:
        # Ad-hoc actions are accepted but not interpreted yet.
        reporter.mapping(data["actions"], "actions", "Workbook 'actions'")
    workflows: list[WorkflowSpec | None] = []
    raw_workflows = data.get("workflows")
    if (
        raw_workflows is not None
        and reporter.mapping(raw_workflows, "workflows", "Workbook 'workflows'") is not None
    ):
        for wf_name, raw in raw_workflows.items():
            path = child_path("workflows", wf_name)
            workflows.append(parse_workflow(reporter, f"{name}.{wf_name}", raw, path))
    return Document(
        version=VERSION,
        workflows=_present(workflows),
        name=name,
        description=description or "",
        tags=tags,
    )


def _present(workflows: list[WorkflowSpec | None]) -> tuple[WorkflowSpec, ...]:
    return tuple(workflow for workflow in workflows if workflow is not None)
