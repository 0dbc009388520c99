"""Environments: named variable sets, and their expansion into an execution's env."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from levante.errors import AlreadyExistsError, ForbiddenError, InputError, NotFoundError
from levante.persistence import models
from levante.persistence.db import Database
from levante.persistence.repository import ListQuery, Page, Repository, _record


@dataclass(frozen=True, slots=True)
class EnvironmentRecord:
    """A stored environment."""

    id: str
    name: str
    description: str
    variables: dict[str, Any]
    scope: str
    project_id: str
    created_at: datetime
    updated_at: datetime | None


def find(session: Session, name: str, project_id: str | None = None) -> models.Environment | None:
    """An environment by name: the project's own, else a public one (the oldest).

    Without a project, any project's.
    """
    table = models.Environment
    statement = select(table).where(table.name == name)
    if project_id is None:
        return session.scalars(statement).first()
    own = session.scalars(statement.where(table.project_id == project_id)).first()
    if own is not None:
        return own
    public = statement.where(table.scope == "public").order_by(table.created_at, table.id)
    return session.scalars(public).first()


def expand_env(session: Session, params: dict[str, Any], project_id: str) -> dict[str, Any]:
    """Params with `env` given as an environment's name replaced by its variables."""
    env = params.get("env")
    if isinstance(env, str):
        row = find(session, env, project_id)
        if row is None:
            raise InputError(f"Environment not found [name={env}]")
        return {**params, "env": dict(row.variables)}
    if env is not None and not isinstance(env, dict):
        raise InputError("params.env must be an object or the name of an environment")
    return params


class EnvironmentRepository:
    """Creates, reads, updates and deletes environments."""

    def __init__(self, database: Database, repository: Repository) -> None:
        self.db = database
        self._repository = repository

    def create(
        self,
        *,
        name: str,
        description: str,
        variables: dict[str, Any],
        scope: str,
        project_id: str,
        now: datetime,
    ) -> EnvironmentRecord:
        """Stores a new environment; raises InputError or AlreadyExistsError."""
        if not name:
            raise InputError("An environment needs a name")
        row = models.Environment(
            id=str(uuid.uuid4()),
            name=name,
            description=description,
            variables=variables,
            scope=scope,
            project_id=project_id,
            created_at=now,
            updated_at=None,
        )
        try:
            with self.db.write() as session:
                existing = session.scalars(
                    select(models.Environment).where(
                        models.Environment.name == name,
                        models.Environment.project_id == project_id,
                    )
                ).first()
                if existing is not None:
                    raise _duplicate(name)
                session.add(row)
        except IntegrityError as error:
            raise _duplicate(name) from error
        return _record(EnvironmentRecord, row)

    def get(self, name: str, *, project_id: str) -> EnvironmentRecord:
        """An environment by name; raises NotFoundError."""
        with self.db.read() as session:
            return _record(EnvironmentRecord, self._resolve(session, name, project_id))

    def update(
        self,
        name: str,
        *,
        project_id: str,
        now: datetime,
        variables: dict[str, Any] | None = None,
        description: str | None = None,
        scope: str | None = None,
    ) -> EnvironmentRecord:
        """Changes what is given; raises NotFoundError, ForbiddenError (another's public one)."""
        with self.db.write() as session:
            row = self._owned(session, name, project_id)
            if variables is not None:
                row.variables = variables
            if description is not None:
                row.description = description
            if scope is not None:
                row.scope = scope
            row.updated_at = now
            session.flush()
            return _record(EnvironmentRecord, row)

    def list(self, query: ListQuery, *, project_id: str | None = None) -> Page[EnvironmentRecord]:
        """A page of environments: the project's and public ones (every one without a project)."""
        table = models.Environment
        where = (
            ()
            if project_id is None
            else ((table.project_id == project_id) | (table.scope == "public"),)
        )
        return self._repository._list(table, EnvironmentRecord, query, where=where)

    def delete(self, name: str, *, project_id: str) -> None:
        """Deletes an environment; raises NotFoundError, ForbiddenError (another's public one)."""
        with self.db.write() as session:
            session.delete(self._owned(session, name, project_id))

    def _owned(self, session: Session, name: str, project_id: str) -> models.Environment:
        row = self._resolve(session, name, project_id)
        if row.project_id != project_id:
            raise ForbiddenError(f"Can not change environment of other users. [name={name}]")
        return row

    @staticmethod
    def _resolve(session: Session, name: str, project_id: str) -> models.Environment:
        row = find(session, name, project_id)
        if row is None:
            raise NotFoundError(f"Environment not found [name={name}]")
        return row


def _duplicate(name: str) -> AlreadyExistsError:
    return AlreadyExistsError(
        f"Duplicate entry for Environment ['name', 'project_id']: {name}, None"
    )
