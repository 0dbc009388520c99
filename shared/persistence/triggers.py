"""Cron triggers: the repository the API uses and the claim the scheduler makes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from levante import cron
from levante.errors import AlreadyExistsError, ForbiddenError, InputError, NotFoundError
from levante.persistence import models
from levante.persistence.db import Database
from levante.persistence.repository import ListQuery, Page, Repository, _record, is_uuid


@dataclass(frozen=True, slots=True)
class CronTriggerRecord:
    """A stored cron trigger."""

    id: str
    name: str
    pattern: str
    timezone: str
    workflow_name: str
    workflow_id: str
    workflow_namespace: str
    workflow_input: dict[str, Any]
    workflow_params: dict[str, Any]
    first_execution_time: datetime | None
    next_execution_time: datetime
    remaining_executions: int | None
    scope: str
    project_id: str
    created_at: datetime
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewCronTrigger:
    """What a user asks for when creating a trigger."""

    name: str
    workflow_identifier: str
    workflow_namespace: str = ""
    pattern: str = ""
    timezone: str = ""
    workflow_input: dict[str, Any] | None = None
    workflow_params: dict[str, Any] | None = None
    first_execution_time: datetime | None = None
    remaining_executions: int | None = None
    scope: str = "private"


class TriggerRepository:
    """Creates, reads and deletes cron triggers."""

    def __init__(self, database: Database, workflows: Repository) -> None:
        self.db = database
        self._workflows = workflows

    def create(self, new: NewCronTrigger, *, project_id: str, now: datetime) -> CronTriggerRecord:
        """Validates and stores a trigger; raises InputError, NotFoundError, AlreadyExistsError."""
        if not new.name:
            raise InputError("A cron trigger needs a name")
        if not new.pattern and new.first_execution_time is None:
            raise InputError("Pattern or first_execution_time must be specified.")
        if new.pattern:
            cron.validate_pattern(new.pattern)
        cron.zone(new.timezone)
        if new.remaining_executions is not None and new.remaining_executions < 1:
            raise InputError("remaining_executions must be a positive number")
        if new.first_execution_time is not None:
            cron.check_first_time(new.first_execution_time, now)
            first_fire = new.first_execution_time
        else:
            first_fire = cron.next_fire(new.pattern, now, timezone=new.timezone)
        workflow = self._workflows.get_workflow(
            new.workflow_identifier, namespace=new.workflow_namespace, project_id=project_id
        )
        row = models.CronTrigger(
            id=str(uuid.uuid4()),
            name=new.name,
            pattern=new.pattern or cron.ONCE_PATTERN,
            timezone=new.timezone,
            workflow_name=workflow.name,
            workflow_id=workflow.id,
            workflow_namespace=workflow.namespace,
            workflow_input=new.workflow_input or {},
            workflow_params=new.workflow_params or {},
            first_execution_time=new.first_execution_time,
            next_execution_time=first_fire,
            remaining_executions=new.remaining_executions,
            scope=new.scope,
            project_id=project_id,
            created_at=now,
            updated_at=None,
        )
        try:
            with self.db.write() as session:
                if self._find(session, new.name, project_id) is not None:
                    raise _duplicate(new.name)
                session.add(row)
        except IntegrityError as error:
            raise _duplicate(new.name) from error
        return _record(CronTriggerRecord, row)

    def get(self, identifier: str, *, project_id: str) -> CronTriggerRecord:
        """A trigger by name or id; raises NotFoundError."""
        with self.db.read() as session:
            return _record(CronTriggerRecord, self._resolve(session, identifier, project_id))

    def list(self, query: ListQuery, *, project_id: str | None = None) -> Page[CronTriggerRecord]:
        """A page of triggers: the project's and public ones (every one without a project)."""
        table = models.CronTrigger
        where = (
            ()
            if project_id is None
            else ((table.project_id == project_id) | (table.scope == "public"),)
        )
        return self._workflows._list(table, CronTriggerRecord, query, where=where)

    def delete(self, identifier: str, *, project_id: str) -> None:
        """Deletes a trigger of the project by name or id.

        Raises NotFoundError, ForbiddenError (another project's public trigger).
        """
        with self.db.write() as session:
            row = self._resolve(session, identifier, project_id)
            if row.project_id != project_id:
                raise ForbiddenError(
                    f"Can not delete cron trigger of other users. [identifier={identifier}]"
                )
            session.delete(row)

    @staticmethod
    def _find(session: Session, name: str, project_id: str) -> models.CronTrigger | None:
        table = models.CronTrigger
        return session.scalars(
            select(table).where(table.name == name, table.project_id == project_id)
        ).first()

    def _resolve(self, session: Session, identifier: str, project_id: str) -> models.CronTrigger:
        """The project's trigger, or a public one, by id or name; raises NotFoundError."""
        table = models.CronTrigger
        row = session.get(table, identifier) if is_uuid(identifier) else None
        if row is not None and row.project_id != project_id and row.scope != "public":
            row = None
        row = row or self._find(session, identifier, project_id)
        if row is None:
            public = select(table).where(table.name == identifier, table.scope == "public")
            row = session.scalars(public.order_by(table.created_at, table.id)).first()
        if row is None:
            raise NotFoundError(f"Cron trigger not found [identifier={identifier}]")
        return row


def claim_due(
    session: Session,
    *,
    now: datetime,
    limit: int,
    lock: bool,
    fired: Callable[[models.CronTrigger, datetime], None],
) -> int:
    """Fires every trigger due at `now`, at most `limit`; returns how many fired.

    For each due trigger `fired(trigger, due_time)` is called inside the
    caller's transaction (it writes the start request to the outbox), then
    the trigger moves on: `remaining_executions` counts down (the trigger is
    deleted after its last run) and `next_execution_time` becomes the
    pattern's first time after *now*, so fire times missed during an outage
    fire once, not as a burst. `lock` takes the rows with FOR UPDATE SKIP
    LOCKED so several schedulers never fire the same due time twice.
    """
    table = models.CronTrigger
    statement = (
        select(table)
        .where(table.next_execution_time <= now)
        .order_by(table.next_execution_time)
        .limit(limit)
    )
    if lock:
        statement = statement.with_for_update(skip_locked=True)
    rows = session.scalars(statement).all()
    for row in rows:
        fired(row, row.next_execution_time)
        if row.remaining_executions is not None:
            row.remaining_executions -= 1
        if row.remaining_executions == 0 or row.pattern == cron.ONCE_PATTERN:
            session.delete(row)
            continue
        row.next_execution_time = cron.next_fire(row.pattern, now, timezone=row.timezone)
        row.updated_at = now
    return len(rows)


def _duplicate(name: str) -> AlreadyExistsError:
    return AlreadyExistsError(
        f"Duplicate entry for cron trigger ['name', 'project_id']: {name}, None"
    )
