"""The one lock that serializes changes to an execution tree."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from levante.persistence import models


def lock_root(session: Session, root_id: str) -> None:
    """Serializes every change to one execution tree.

    PostgreSQL: a row lock on the root execution (READ COMMITTED, so the reads
    that follow see everything committed before the lock was granted).
    SQLite: the write transaction already holds the database's writer lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(models.WorkflowExecution.id)
            .where(models.WorkflowExecution.id == root_id)
            .with_for_update()
        )
