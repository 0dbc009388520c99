"""Namespaces in use: the distinct namespaces of workflows, workbooks and ad-hoc actions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from levante.persistence import members, models
from levante.persistence.db import Database


@dataclass(frozen=True, slots=True)
class NamespaceRecord:
    """A namespace and how many visible definitions of each kind live in it."""

    namespace: str
    workflows: int = 0
    workbooks: int = 0
    actions: int = 0


def list_namespaces(database: Database, *, project_id: str) -> list[NamespaceRecord]:
    """The namespaces holding something the project can see, sorted by name."""
    workflows, workbooks, actions = (
        models.WorkflowDefinition,
        models.WorkbookDefinition,
        models.ActionDefinition,
    )
    queries = {
        "workflows": _count(workflows, members.visible(workflows, "workflow", project_id)),
        "workbooks": _count(workbooks, members.visible(workbooks, "workbook", project_id)),
        "actions": _count(
            actions, or_(actions.project_id == project_id, actions.scope == "public")
        ),
    }
    found: dict[str, dict[str, int]] = {}
    with database.read() as session:
        for kind, query in queries.items():
            for namespace, count in session.execute(query):
                found.setdefault(namespace or "", {})[kind] = count
    return [NamespaceRecord(namespace, **counts) for namespace, counts in sorted(found.items())]


def _count(model, condition):  # noqa: ANN001, ANN202 - a SQLAlchemy select
    return select(model.namespace, func.count(model.id)).where(condition).group_by(model.namespace)
