"""Workbooks and ad-hoc action definitions (`/v2/workbooks`, `/v2/actions`)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from levante import language
from levante.errors import AlreadyExistsError, ForbiddenError, NotFoundError
from levante.persistence import members, models
from levante.persistence.db import Database
from levante.persistence.repository import (
    ListQuery,
    Page,
    Repository,
    _record,
    find_by_name,
    is_uuid,
)


@dataclass(frozen=True, slots=True)
class WorkbookRecord:
    """A stored workbook."""

    id: str
    name: str
    namespace: str
    definition: str
    tags: list[str]
    scope: str
    project_id: str
    created_at: datetime
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class ActionDefinitionRecord:
    """A stored ad-hoc action."""

    id: str
    name: str
    namespace: str
    definition: str
    input: str
    description: str
    tags: list[str]
    workbook_name: str | None
    scope: str
    project_id: str
    created_at: datetime
    updated_at: datetime | None


class DefinitionRepository:
    """Stores workbooks (with their workflows and actions) and ad-hoc actions."""

    def __init__(self, database: Database, repository: Repository) -> None:
        self.db = database
        self._repository = repository

    # -- workbooks ----------------------------------------------------------

    def save_workbook(
        self,
        text: str,
        *,
        namespace: str,
        scope: str,
        project_id: str,
        now: datetime,
        update: bool,
    ) -> WorkbookRecord:
        """Creates (or with `update` replaces) a workbook with its workflows and actions."""
        document = language.parse_workbook(text)
        name = document.name or ""
        with self.db.write() as session:
            row = _find(session, models.WorkbookDefinition, name, namespace, project_id)
            if update and row is None:
                _refuse_public(session, name, namespace, "update")
                raise NotFoundError(f"Workbook not found [name={name}, namespace={namespace}]")
            if not update and row is not None:
                raise AlreadyExistsError(
                    "Duplicate entry for WorkbookDefinition ['name', 'namespace', 'project_id']: "
                    f"{name}, {namespace}, None"
                )
            if row is None:
                row = models.WorkbookDefinition(
                    id=str(uuid.uuid4()),
                    name=name,
                    namespace=namespace,
                    created_at=now,
                    project_id=project_id,
                )
                session.add(row)
            else:
                row.updated_at = now
            row.definition, row.tags, row.scope = text, list(document.tags), scope
            session.flush()
            self._replace_members(session, row, document, text, namespace, scope, project_id, now)
            session.flush()
            return _record(WorkbookRecord, row)

    def _replace_members(
        self,
        session: Session,
        book: models.WorkbookDefinition,
        document: language.Document,
        text: str,
        namespace: str,
        scope: str,
        project_id: str,
        now: datetime,
    ) -> None:
        name = document.name
        # Workflows the workbook keeps keep their ids (and so whom they are shared with).
        table = models.WorkflowDefinition
        kept = {
            row.name: row
            for row in session.scalars(
                select(table).where(
                    table.workbook_name == (name or ""),
                    table.namespace == namespace,
                    table.project_id == project_id,
                )
            ).all()
        }
        wanted = {workflow.name for workflow in document.workflows}
        gone = [row for wf_name, row in kept.items() if wf_name not in wanted]
        book_members = members.member_ids(session, "workbook", book.id)
        for row in gone:
            projects = {*book_members, *members.member_ids(session, "workflow", row.id)}
            members.check_unused_by_members(session, row.id, sorted(projects))
        members.forget(session, "workflow", [row.id for row in gone])
        for row in gone:
            session.delete(row)
        session.execute(
            delete(models.ActionDefinition).where(
                models.ActionDefinition.workbook_name == (name or ""),
                models.ActionDefinition.namespace == namespace,
                models.ActionDefinition.project_id == project_id,
            )
        )
        session.flush()
        checksum = hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - Mistral's checksum
        for workflow in document.workflows:
            row = kept.get(workflow.name)
            if row is None:
                if _find(session, table, workflow.name, namespace, project_id):
                    raise AlreadyExistsError(
                        "Duplicate entry for WorkflowDefinition ['name', 'namespace', "
                        f"'project_id']: {workflow.name}, {namespace}, None"
                    )
                row = table(
                    id=str(uuid.uuid4()),
                    name=workflow.name,
                    namespace=namespace,
                    workbook_name=name,
                    project_id=project_id,
                    created_at=now,
                )
                session.add(row)
            else:
                row.updated_at = now
            row.definition, row.checksum = text, checksum
            row.input, row.interface = language.render_input(workflow), language.interface(workflow)
            row.tags, row.scope = list(workflow.tags), scope
        for action in document.actions:
            session.add(
                models.ActionDefinition(
                    id=str(uuid.uuid4()),
                    name=action.name,
                    namespace=namespace,
                    definition=text,
                    input=language.render_input(action),
                    description=action.description,
                    tags=list(action.tags),
                    workbook_name=name,
                    scope=scope,
                    project_id=project_id,
                    created_at=now,
                )
            )

    def get_workbook(self, name: str, *, namespace: str, project_id: str) -> WorkbookRecord:
        """A workbook by name, or by id if visible to the project; raises NotFoundError."""
        with self.db.read() as session:
            row = session.get(models.WorkbookDefinition, name) if is_uuid(name) else None
            if row is not None and not members.is_visible(session, row, "workbook", project_id):
                row = None
            table = models.WorkbookDefinition
            row = row or _find(session, table, name, namespace, project_id)
            # By name, another project's workbook is found only when it is public.
            row = row or find_by_name(session, table, name, namespace, None, public=True)
            if row is None:
                raise NotFoundError(f"Workbook not found [name={name}, namespace={namespace}]")
            return _record(WorkbookRecord, row)

    def list_workbooks(
        self, query: ListQuery, *, project_id: str | None = None
    ) -> Page[WorkbookRecord]:
        """A page of workbooks; with `project_id`, those the project may see.

        A project sees its own workbooks, public ones, and the workbooks
        shared with it that it accepted.
        """
        table = models.WorkbookDefinition
        where = () if project_id is None else (members.visible(table, "workbook", project_id),)
        return self._repository._list(table, WorkbookRecord, query, where=where)

    def delete_workbook(self, name: str, *, namespace: str, project_id: str) -> None:
        """Deletes a workbook (by name, or by id) with its workflows and actions.

        Raises NotFoundError, ForbiddenError for another project's workbook
        the caller can see (public, or shared with it).
        """
        table = models.WorkbookDefinition
        with self.db.write() as session:
            row = _find(session, table, name, namespace, project_id)
            if row is None and is_uuid(name):
                row = session.get(table, name)
                if row is not None and row.project_id != project_id:
                    if members.is_visible(session, row, "workbook", project_id):
                        raise ForbiddenError(
                            f"Can not delete workbook of other users. [name={row.name}]"
                        )
                    row = None
            if row is None:
                _refuse_public(session, name, namespace, "delete")
                raise NotFoundError(f"Workbook not found [name={name}, namespace={namespace}]")
            members.check_workbook_unused(session, row)
            _delete_members(session, row.name, row.namespace, project_id)
            members.forget(session, "workbook", [row.id])
            session.delete(row)

    # -- ad-hoc actions -----------------------------------------------------

    def save_actions(
        self,
        text: str,
        *,
        namespace: str,
        scope: str,
        project_id: str,
        now: datetime,
        update: bool,
    ) -> list[ActionDefinitionRecord]:
        """Creates (or with `update` replaces) the ad-hoc actions a document defines."""
        document = language.parse_actions(text)
        raw = yaml.safe_load(text)
        single = len(document.actions) == 1
        saved = []
        with self.db.write() as session:
            for action in document.actions:
                definition = (
                    text
                    if single
                    else yaml.safe_dump(
                        {"version": "2.0", action.name: raw[action.name]}, sort_keys=False
                    )
                )
                row = _find(session, models.ActionDefinition, action.name, namespace, project_id)
                if update and row is None:
                    table = models.ActionDefinition
                    if find_by_name(session, table, action.name, namespace, None, public=True):
                        raise ForbiddenError(
                            f"Can not update action of other users. [action_name={action.name}]"
                        )
                    raise NotFoundError(
                        f"Action not found [name={action.name}, namespace={namespace}]"
                    )
                if not update and row is not None:
                    raise AlreadyExistsError(
                        "Duplicate entry for Action ['name', 'namespace', 'project_id']: "
                        f"{action.name}, {namespace}, None"
                    )
                if row is None:
                    row = models.ActionDefinition(
                        id=str(uuid.uuid4()),
                        name=action.name,
                        namespace=namespace,
                        project_id=project_id,
                        created_at=now,
                        workbook_name=None,
                    )
                    session.add(row)
                else:
                    row.updated_at = now
                row.definition, row.input = definition, language.render_input(action)
                row.description, row.tags, row.scope = action.description, list(action.tags), scope
                saved.append(row)
            session.flush()
            return [_record(ActionDefinitionRecord, row) for row in saved]

    def get_action(
        self, identifier: str, *, namespace: str, project_id: str
    ) -> ActionDefinitionRecord | None:
        """An ad-hoc action by name or id (the project's own, or public), or None."""
        with self.db.read() as session:
            row = _action(session, identifier, namespace, project_id)
            return _record(ActionDefinitionRecord, row) if row is not None else None

    def all_actions(self, *, project_id: str | None) -> list[ActionDefinitionRecord]:
        """Every ad-hoc action of the project and every public one (all with None)."""
        table = models.ActionDefinition
        statement = select(table)
        if project_id is not None:
            statement = statement.where(
                (table.project_id == project_id) | (table.scope == "public")
            )
        with self.db.read() as session:
            rows = session.scalars(statement).all()
            return [_record(ActionDefinitionRecord, row) for row in rows]

    def delete_action(self, identifier: str, *, namespace: str, project_id: str) -> None:
        """Deletes an ad-hoc action of the project.

        Raises NotFoundError (also for built-in actions), ForbiddenError for
        another project's public action.
        """
        with self.db.write() as session:
            row = _action(session, identifier, namespace, project_id)
            if row is None:
                raise NotFoundError(
                    f"Action definition not found [action_name={identifier}, namespace={namespace}]"
                )
            if row.project_id != project_id:
                raise ForbiddenError(
                    f"Can not delete action of other users. [action_name={identifier}]"
                )
            session.delete(row)


def _refuse_public(session: Session, name: str, namespace: str, verb: str) -> None:
    """ForbiddenError when the workbook the caller names is another project's public one."""
    if find_by_name(session, models.WorkbookDefinition, name, namespace, None, public=True):
        raise ForbiddenError(f"Can not {verb} workbook of other users. [name={name}]")


def _action(
    session: Session, identifier: str, namespace: str, project_id: str
) -> models.ActionDefinition | None:
    """An ad-hoc action by id or name: the project's own, else a public one."""
    table = models.ActionDefinition
    if is_uuid(identifier):
        row = session.get(table, identifier)
        if row is not None and (row.project_id == project_id or row.scope == "public"):
            return row
    row = _find(session, table, identifier, namespace, project_id)
    return row or find_by_name(session, table, identifier, namespace, None, public=True)


def _delete_members(session: Session, workbook: str, namespace: str, project_id: str) -> None:
    """Deletes the workflows and actions a workbook defined (and whom they were shared with)."""
    workflows = models.WorkflowDefinition
    members.forget(
        session,
        "workflow",
        session.scalars(
            select(workflows.id).where(
                workflows.workbook_name == workbook,
                workflows.namespace == namespace,
                workflows.project_id == project_id,
            )
        ).all(),
    )
    for table in (models.WorkflowDefinition, models.ActionDefinition):
        session.execute(
            delete(table).where(
                table.workbook_name == workbook,
                table.namespace == namespace,
                table.project_id == project_id,
            )
        )


def _find(session: Session, table: type, name: str, namespace: str, project_id: str):  # noqa: ANN202
    return session.scalars(
        select(table).where(
            table.name == name, table.namespace == namespace, table.project_id == project_id
        )
    ).first()
