"""Resource sharing (the mitaka workflow-sharing spec): members of workflows and workbooks.

A member row says: the owner's project (`project_id`) shares the resource
`resource_id` of `resource_type` with the project `member_id`, whose
`status` is pending, accepted or rejected. Resources are named by id only,
never by name: two projects may own workflows of the same name.

Who may do what (the spec's rules): the owner shares (create) and unshares
(delete); only the member changes the status; both may read the
membership, the member only its own; to anyone else the resource does not
exist. `visible()` is the one predicate listings and reads of workflows and
workbooks use: a project sees what it owns, what is public, and what is
shared with it and accepted.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from levante.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    ForbiddenError,
    InputError,
    NotFoundError,
)
from levante.persistence import models
from levante.persistence.db import Database

#: Mistral's resource types (singular, as the CLI's `member-* ID workflow`).
RESOURCE_TYPES: dict[str, Any] = {
    "workflow": models.WorkflowDefinition,
    "workbook": models.WorkbookDefinition,
}
STATUSES = ("pending", "accepted", "rejected")
#: Execution states after which a run no longer needs its workflow.
FINISHED = ("SUCCESS", "ERROR", "CANCELLED")


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """A stored membership: who shares what with whom, and the member's answer."""

    id: str
    resource_id: str
    resource_type: str
    project_id: str
    member_id: str
    status: str
    created_at: datetime
    updated_at: datetime | None


def _accepted(resource_type: str, project_id: str) -> Any:
    table = models.ResourceMember
    return select(table.resource_id).where(
        table.member_id == project_id,
        table.resource_type == resource_type,
        table.status == "accepted",
    )


def visible(model: Any, resource_type: str, project_id: str) -> ColumnElement[bool]:
    """Rows of `model` the project may see: its own, public ones, shared and accepted.

    A workflow is also visible through its workbook: sharing a workbook
    shares the workflows it defines.
    """
    condition = or_(
        model.project_id == project_id,
        model.scope == "public",
        model.id.in_(_accepted(resource_type, project_id)),
    )
    if model is models.WorkflowDefinition:
        condition = or_(condition, _in_shared_workbook(model, project_id))
    return condition


def _in_shared_workbook(model: Any, project_id: str) -> ColumnElement[bool]:
    books = models.WorkbookDefinition
    return exists(
        select(books.id).where(
            books.name == model.workbook_name,
            books.namespace == model.namespace,
            books.project_id == model.project_id,
            books.id.in_(_accepted("workbook", project_id)),
        )
    )


def is_visible(session: Session, row: Any, resource_type: str, project_id: str | None) -> bool:
    """Whether one row passes `visible()` for the project (every row for None)."""
    if project_id is None or row.project_id == project_id or row.scope == "public":
        return True
    if _membership(session, resource_type, row.id, project_id, status="accepted") is not None:
        return True
    if isinstance(row, models.WorkflowDefinition) and row.workbook_name is not None:
        model = models.WorkflowDefinition
        found = session.scalar(
            select(model.id).where(model.id == row.id, _in_shared_workbook(model, project_id))
        )
        return found is not None
    return False


def forget(session: Session, resource_type: str, resource_ids: Iterable[str]) -> None:
    """Deletes the memberships of resources being deleted (in the caller's transaction)."""
    ids = list(resource_ids)
    if ids:
        table = models.ResourceMember
        session.execute(
            delete(table).where(table.resource_type == resource_type, table.resource_id.in_(ids))
        )


def check_unused_by_members(
    session: Session, workflow_id: str, member_ids: Iterable[str] | None = None
) -> None:
    """Refuses to take a workflow away from members whose cron triggers or runs use it.

    The spec asks for this check before a membership goes: afterwards the
    member cannot use the workflow, so its triggers would fail on every
    fire, and its unfinished executions could no longer be read back or
    rerun against it. `member_ids` limits the check to some members; by
    default every member of the workflow counts. Raises
    FailedPreconditionError naming the triggers or executions.
    """
    table = models.ResourceMember
    if member_ids is None:
        member_ids = session.scalars(
            select(table.member_id).where(
                table.resource_type == "workflow", table.resource_id == workflow_id
            )
        ).all()
    projects = list(member_ids)
    if not projects:
        return
    triggers = models.CronTrigger
    used = session.scalars(
        select(triggers.id)
        .where(triggers.workflow_id == workflow_id, triggers.project_id.in_(projects))
        .order_by(triggers.id)
    ).all()
    if used:
        raise FailedPreconditionError(
            f"Workflow {workflow_id} is shared with projects whose cron triggers use it; "
            f"delete those triggers first [cron_trigger_id(s)={', '.join(used)}]"
        )
    executions = models.WorkflowExecution
    running = session.scalars(
        select(executions.id)
        .where(
            executions.workflow_id == workflow_id,
            executions.project_id.in_(projects),
            executions.state.not_in(FINISHED),
        )
        .order_by(executions.id)
        .limit(10)
    ).all()
    if running:
        raise FailedPreconditionError(
            f"Workflow {workflow_id} is shared with projects whose executions of it have not "
            f"finished; wait for them or cancel them first [execution_id(s)={', '.join(running)}]"
        )


def member_ids(session: Session, resource_type: str, resource_id: str) -> list[str]:
    """The projects a resource is shared with (any status)."""
    table = models.ResourceMember
    return list(
        session.scalars(
            select(table.member_id).where(
                table.resource_type == resource_type, table.resource_id == resource_id
            )
        ).all()
    )


def check_workbook_unused(
    session: Session,
    workbook: models.WorkbookDefinition,
    projects: Iterable[str] | None = None,
) -> None:
    """`check_unused_by_members` for every workflow of a workbook, as the workbook's members.

    A workbook's members use its workflows (see `visible`). `projects`
    limits the check to some members; by default the workbook's members and
    each workflow's own count. Raises FailedPreconditionError.
    """
    table = models.WorkflowDefinition
    workflow_ids = session.scalars(
        select(table.id).where(
            table.workbook_name == workbook.name,
            table.namespace == workbook.namespace,
            table.project_id == workbook.project_id,
        )
    ).all()
    book_members = (
        list(projects) if projects is not None else member_ids(session, "workbook", workbook.id)
    )
    for workflow_id in workflow_ids:
        checked = set(book_members)
        if projects is None:
            checked.update(member_ids(session, "workflow", workflow_id))
        check_unused_by_members(session, workflow_id, sorted(checked))


class MemberRepository:
    """Creates, reads, updates and deletes memberships, enforcing who may do what."""

    def __init__(self, database: Database) -> None:
        self.db = database

    def create(
        self,
        resource_type: str,
        resource_id: str,
        member_id: str,
        *,
        project_id: str,
        now: datetime,
    ) -> MemberRecord:
        """Shares a private resource of the caller's project with `member_id` (pending).

        Raises InputError (bad type, id or member, public resource),
        NotFoundError, ForbiddenError (not the owner), AlreadyExistsError.
        """
        if not member_id:
            raise InputError("Member id must be provided.")
        try:
            with self.db.write() as session:
                resource, role = _access(session, resource_type, resource_id, project_id)
                if role != "owner":
                    raise ForbiddenError(
                        f"Only the owner of {resource_type} {resource_id} can share it"
                    )
                if resource.scope != "private":
                    raise InputError("Only private resource could be shared.")
                if member_id == resource.project_id:
                    raise InputError(
                        f"A resource cannot be shared with the project that owns it "
                        f"[member_id={member_id}]"
                    )
                if _membership(session, resource_type, resource_id, member_id) is not None:
                    raise _duplicate(resource_id, resource_type, member_id)
                row = models.ResourceMember(
                    id=str(uuid.uuid4()),
                    resource_id=resource_id,
                    resource_type=resource_type,
                    project_id=resource.project_id,
                    member_id=member_id,
                    status="pending",
                    created_at=now,
                    updated_at=None,
                )
                session.add(row)
        except IntegrityError as error:
            raise _duplicate(resource_id, resource_type, member_id) from error
        return _record(row)

    def list(self, resource_type: str, resource_id: str, *, project_id: str) -> list[MemberRecord]:
        """The owner sees every member, a member only itself; raises NotFoundError."""
        table = models.ResourceMember
        with self.db.read() as session:
            _, role = _access(session, resource_type, resource_id, project_id)
            statement = select(table).where(
                table.resource_type == resource_type, table.resource_id == resource_id
            )
            if role == "member":
                statement = statement.where(table.member_id == project_id)
            rows = session.scalars(statement.order_by(table.created_at, table.id)).all()
            return [_record(row) for row in rows]

    def get(
        self, resource_type: str, resource_id: str, member_id: str, *, project_id: str
    ) -> MemberRecord:
        """One membership, for its owner or its member; raises NotFoundError."""
        with self.db.read() as session:
            _, role = _access(session, resource_type, resource_id, project_id)
            if role == "member" and member_id != project_id:
                raise _member_not_found(resource_id, member_id)
            row = _membership(session, resource_type, resource_id, member_id)
            if row is None:
                raise _member_not_found(resource_id, member_id)
            return _record(row)

    def update(
        self,
        resource_type: str,
        resource_id: str,
        member_id: str,
        *,
        status: str,
        project_id: str,
        now: datetime,
    ) -> MemberRecord:
        """The member answers: pending, accepted or rejected.

        Anyone but the member (the owner too) gets NotFoundError, as the spec
        says; a status outside the three is an InputError.
        """
        if status not in STATUSES:
            raise InputError(
                f"Invalid member status {status!r}: must be one of {', '.join(STATUSES)}"
            )
        _check_type_and_id(resource_type, resource_id)
        if member_id != project_id:
            raise _member_not_found(resource_id, member_id)
        with self.db.write() as session:
            row = _membership(session, resource_type, resource_id, member_id)
            if row is None:
                raise _member_not_found(resource_id, member_id)
            if row.status != status:
                row.status, row.updated_at = status, now
            session.flush()
            return _record(row)

    def delete(
        self, resource_type: str, resource_id: str, member_id: str, *, project_id: str
    ) -> None:
        """The owner stops sharing with `member_id`.

        Raises NotFoundError, ForbiddenError (a member), or
        FailedPreconditionError while the member's cron triggers use the workflow.
        """
        with self.db.write() as session:
            resource, role = _access(session, resource_type, resource_id, project_id)
            if role != "owner":
                raise ForbiddenError(
                    f"Only the owner of {resource_type} {resource_id} can remove its members"
                )
            row = _membership(session, resource_type, resource_id, member_id)
            if row is None:
                raise _member_not_found(resource_id, member_id)
            if resource_type == "workflow":
                check_unused_by_members(session, resource_id, [member_id])
            else:
                check_workbook_unused(session, resource, [member_id])
            session.delete(row)


def _check_type_and_id(resource_type: str, resource_id: str) -> Any:
    model = RESOURCE_TYPES.get(resource_type)
    if model is None:
        raise InputError(
            f"Unknown resource type {resource_type!r}: must be one of {', '.join(RESOURCE_TYPES)}"
        )
    try:
        uuid.UUID(resource_id)
    except ValueError:
        raise InputError(
            "Only support UUID as resource identifier in resource sharing feature "
            f"[resource_id={resource_id}]"
        ) from None
    return model


def _access(
    session: Session, resource_type: str, resource_id: str, project_id: str
) -> tuple[Any, str]:
    """The resource and the caller's role in it (`owner` or `member`).

    To a project that is neither, the resource does not exist: NotFoundError.
    """
    model = _check_type_and_id(resource_type, resource_id)
    row = session.get(model, resource_id)
    if row is not None:
        if row.project_id == project_id:
            return row, "owner"
        if _membership(session, resource_type, resource_id, project_id) is not None:
            return row, "member"
    if resource_type == "workflow":
        raise NotFoundError(f"Workflow not found [workflow_identifier={resource_id}, namespace=]")
    raise NotFoundError(f"Workbook not found [id={resource_id}]")


def _membership(
    session: Session,
    resource_type: str,
    resource_id: str,
    member_id: str,
    *,
    status: str | None = None,
) -> models.ResourceMember | None:
    table = models.ResourceMember
    statement = select(table).where(
        table.resource_type == resource_type,
        table.resource_id == resource_id,
        table.member_id == member_id,
    )
    if status is not None:
        statement = statement.where(table.status == status)
    return session.scalars(statement).first()


def _record(row: models.ResourceMember) -> MemberRecord:
    return MemberRecord(**{f.name: getattr(row, f.name) for f in dataclasses.fields(MemberRecord)})


def _member_not_found(resource_id: str, member_id: str) -> NotFoundError:
    return NotFoundError(
        f"Resource member not found [resource_id={resource_id}, member_id={member_id}]"
    )


def _duplicate(resource_id: str, resource_type: str, member_id: str) -> AlreadyExistsError:
    return AlreadyExistsError(
        "Duplicate entry for ResourceMember ['resource_id', 'resource_type', 'member_id']: "
        f"{resource_id}, {resource_type}, {member_id}"
    )


__all__ = [
    "RESOURCE_TYPES",
    "STATUSES",
    "MemberRecord",
    "MemberRepository",
    "check_unused_by_members",
    "check_workbook_unused",
    "forget",
    "member_ids",
    "is_visible",
    "visible",
]
